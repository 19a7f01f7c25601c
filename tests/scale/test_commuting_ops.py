"""Operations that commute never surface a conflict: notes and tag additions from 8 threads
sharing one desk, and from 8 processes with a desk each, on every backend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from supportkit import ConcurrencyConflict, SupportDesk
from supportkit.ports import Storage
from supportkit.storage.memory import MemoryStorage

from ..pg import pg_schema
from ._procs import open_url, repeat, run_all

WRITERS = 8
EACH = 200


def _ticket(storage: Storage) -> str:
    desk = SupportDesk(storage)
    return desk.receive("email", "ann@example.com", "Several people work on this").id


def _threads(work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:  # recorded, so the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hangs (deadlock?)"
    return errors


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgresql"])
def test_eight_threads_sharing_one_desk_store_every_note_and_tag(
    backend: str, tmp_path: Path
) -> None:
    def check(storage: Storage) -> None:
        desk = SupportDesk(storage)
        tid = _ticket(storage)

        def work(n: int) -> None:
            for i in range(EACH):
                desk.add_note(tid, f"agent{n}", f"note {i}")
                if i % 4 == 0:
                    desk.add_tags(tid, f"w{n}-{i}", actor=f"agent{n}")

        assert _threads(work) == []
        notes = [m for m in desk.messages(tid) if m.direction.value == "note"]
        assert len(notes) == WRITERS * EACH
        assert len(desk.get_ticket(tid).tags) == WRITERS * EACH // 4

    if backend == "memory":
        check(MemoryStorage())
    elif backend == "sqlite":
        with open_url(str(tmp_path / "desk.sqlite3")) as storage:
            check(storage)
    else:
        with pg_schema() as conninfo, open_url(conninfo) as storage:
            check(storage)


def test_eight_processes_adding_notes_to_one_ticket_lose_none(url: str) -> None:
    with open_url(url) as storage:
        tid = _ticket(storage)
    results = run_all(repeat, [(url, tid, f"agent{n}", EACH, "note") for n in range(WRITERS)])
    assert results == [[]] * WRITERS  # no call failed: no conflict, no deadlock
    with open_url(url) as storage:
        notes = [m for m in SupportDesk(storage).messages(tid) if m.direction.value == "note"]
    assert len(notes) == WRITERS * EACH
    assert len({m.text + m.author for m in notes}) == WRITERS * EACH


def test_eight_processes_adding_tags_to_one_ticket_lose_none(url: str) -> None:
    with open_url(url) as storage:
        tid = _ticket(storage)
    results = run_all(repeat, [(url, tid, f"agent{n}", EACH, "tag") for n in range(WRITERS)])
    assert results == [[]] * WRITERS
    with open_url(url) as storage:
        tags = SupportDesk(storage).get_ticket(tid).tags
    assert tags == {f"agent{n}-{i}" for n in range(WRITERS) for i in range(EACH)}


def test_a_whole_value_overwrite_from_a_stale_read_is_refused() -> None:
    desk = SupportDesk()
    t = desk.receive("email", "ann@example.com", "Tags")
    desk.add_tags(t.id, "vip", actor="a1")  # someone else changed it since t was read
    with pytest.raises(ConcurrencyConflict) as caught:
        desk.update(t.id, actor="a2", tags=t.tags | {"billing"}, expected_version=t.version)
    assert caught.value.retryable is False
    assert desk.get_ticket(t.id).tags == {"vip"}
    fresh = desk.get_ticket(t.id)
    desk.update(fresh.id, actor="a2", tags=fresh.tags | {"billing"}, expected_version=fresh.version)
    assert desk.get_ticket(t.id).tags == {"vip", "billing"}


def test_tags_and_custom_fields_merge_per_key() -> None:
    desk = SupportDesk()
    t = desk.receive("email", "ann@example.com", "Fields")
    desk.add_tags(t.id, "a", "b", actor="x")
    desk.remove_tags(t.id, "a", "zzz", actor="x")
    desk.set_custom_field(t.id, "order", "A-17", actor="x")
    desk.set_custom_field(t.id, "plan", "pro", actor="y")
    desk.set_custom_field(t.id, "order", None, actor="x")
    got = desk.get_ticket(t.id)
    assert got.tags == {"b"}
    assert got.custom_fields == {"plan": "pro"}
