"""desk.batch(): several use cases in one transaction, events published after its commit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportkit import (
    BatchAborted,
    FakeClock,
    InvalidTransition,
    MemoryStorage,
    Storage,
    SupportDesk,
    TicketQuery,
)
from supportkit.storage.sqlite import SQLiteStorage


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "memory":
        yield MemoryStorage()
    else:
        with SQLiteStorage(tmp_path / "batch.sqlite3") as s:
            yield s


@pytest.fixture
def desk(storage: Storage) -> SupportDesk:
    return SupportDesk(storage, clock=FakeClock())


def _published(desk: SupportDesk) -> list[str]:
    seen: list[str] = []
    desk.signals.event.connect(lambda _d, event: seen.append(type(event).__name__), weak=False)
    return seen


def _count(desk: SupportDesk) -> int:
    with desk.storage.unit_of_work() as uow:
        return uow.count_tickets(TicketQuery())


def test_use_cases_in_a_batch_see_each_other_and_publish_after_the_commit(
    desk: SupportDesk,
) -> None:
    seen = _published(desk)
    with desk.batch():
        t = desk.receive("email", "ann@example.com", "Printer offline", subject="Printer")
        desk.reply(t.id, "agent-1", "Try turning it off and on")  # reads the uncommitted ticket
        desk.resolve(t.id, actor="agent-1", resolution="power-cycled")
        u = desk.receive("email", "bob@example.com", "Invoice wrong")
        assert seen == []  # nothing is published before the batch commits
    assert desk.get_ticket(t.id).status == "resolved"
    assert desk.get_ticket(u.id).number == t.number + 1
    assert seen.count("TicketReceived") == 2
    assert "MessageAdded" in seen
    assert seen.index("TicketReceived") < seen.index("MessageAdded")


def test_an_exception_leaving_the_batch_stores_and_publishes_nothing(desk: SupportDesk) -> None:
    seen = _published(desk)

    def broken_import() -> None:
        with desk.batch():
            desk.receive("email", "ann@example.com", "One")
            desk.receive("email", "bob@example.com", "Two")
            raise RuntimeError("import source broke")

    with pytest.raises(RuntimeError, match="import source broke"):
        broken_import()
    assert _count(desk) == 0
    assert seen == []
    desk.receive("email", "cid@example.com", "After")  # the desk works on
    assert _count(desk) == 1


def test_a_failed_use_case_caught_inside_the_batch_still_aborts_it(desk: SupportDesk) -> None:
    seen = _published(desk)

    def careless_import() -> None:
        with desk.batch():
            t = desk.receive("email", "ann@example.com", "One")
            with contextlib.suppress(InvalidTransition):
                desk.close(t.id, actor="agent-1")  # not allowed from registered
            desk.receive("email", "bob@example.com", "Two")

    with pytest.raises(BatchAborted, match="after 1 succeeded") as info:
        careless_import()
    assert isinstance(info.value.__cause__, InvalidTransition)
    assert _count(desk) == 0
    assert seen == []


def test_batches_nest_into_the_outermost(desk: SupportDesk) -> None:
    seen = _published(desk)
    with desk.batch():
        desk.receive("email", "ann@example.com", "One")
        with desk.batch():
            desk.receive("email", "bob@example.com", "Two")
        assert seen == []
    assert seen.count("TicketReceived") == 2
    assert _count(desk) == 2


def test_a_batch_commits_once(storage: Storage) -> None:
    commits: list[int] = []
    original: Any = type(storage.unit_of_work()).do_commit

    def counting(self: Any) -> None:
        commits.append(1)
        original(self)

    desk = SupportDesk(storage, clock=FakeClock())
    type(storage.unit_of_work()).do_commit = counting  # type: ignore[method-assign]
    try:
        with desk.batch():
            for i in range(20):
                desk.receive("email", f"c{i}@example.com", "Hello")
    finally:
        type(storage.unit_of_work()).do_commit = original  # type: ignore[method-assign]
    assert commits == [1]
    assert _count(desk) == 20
