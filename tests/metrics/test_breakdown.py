"""Breakdown by category and by tag: hand-computed counts, the same from stored tickets and SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supportkit import FakeClock, SupportDesk, ValidationError
from supportkit.metrics import (
    NO_CATEGORY,
    NO_TAG,
    Rate,
    breakdown,
    iter_topic_facts,
    sql_topic_facts,
    top_topics,
)
from supportkit.storage.sqlite import SQLiteStorage

MON = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(tmp_path: Path) -> tuple[SupportDesk, SQLiteStorage, FakeClock]:
    clock = FakeClock(MON)
    storage = SQLiteStorage(tmp_path / "desk.sqlite3")
    d = SupportDesk(storage, clock=clock)
    # billing x3 (two tagged refund), export x2 (both tagged csv, one also refund), one bare
    plan = [
        ("billing", {"refund"}, 10),
        ("billing", {"refund"}, 30),
        ("billing", set(), None),
        ("export", {"csv"}, 20),
        ("export", {"csv", "refund"}, 40),
        (None, set(), None),
    ]
    for category, tags, answer_after in plan:
        t = d.receive("email", "a@example.com", "help", category=category, tags=tags)
        if answer_after is not None:
            clock.advance(minutes=answer_after)
            d.reply(t.id, "ann", "done")
            d.resolve(t.id, actor="ann", resolution="done")
        clock.advance(minutes=1)
    return d, storage, clock


def test_breakdown_by_category_counts_each_ticket_once(
    desk: tuple[SupportDesk, SQLiteStorage, FakeClock],
) -> None:
    _, storage, _ = desk
    with storage.unit_of_work() as uow:
        rows = breakdown(iter_topic_facts(uow), by="category")
    assert [(r.key, r.tickets, r.resolved) for r in rows] == [
        ("billing", 3, 2),
        ("export", 2, 2),
        (NO_CATEGORY, 1, 0),
    ]
    assert rows[0].share == Rate(3, 6)
    assert rows[0].first_response.median == 20 * 60  # 10 and 30 minutes
    assert rows[1].first_response.median == 30 * 60  # 20 and 40 minutes
    assert [r.key for r in top_topics(rows)] == ["billing", "export"]


def test_breakdown_by_tag_counts_a_ticket_under_each_of_its_tags(
    desk: tuple[SupportDesk, SQLiteStorage, FakeClock],
) -> None:
    _, storage, _ = desk
    with storage.unit_of_work() as uow:
        rows = breakdown(iter_topic_facts(uow), by="tag")
    assert [(r.key, r.tickets) for r in rows] == [("refund", 3), (NO_TAG, 2), ("csv", 2)]
    assert rows[0].share == Rate(3, 6)


def test_sql_facts_give_the_same_breakdown_as_the_stored_tickets(
    desk: tuple[SupportDesk, SQLiteStorage, FakeClock],
) -> None:
    _, storage, clock = desk
    since = MON + timedelta(minutes=5)
    for by in ("category", "tag"):
        with storage.unit_of_work() as uow:
            streamed = breakdown(iter_topic_facts(uow), by=by, since=since, until=clock.now())
        in_sql = breakdown(
            sql_topic_facts(storage.connection(), since=since, until=clock.now()), by=by
        )
        assert in_sql == streamed
        assert sum(r.tickets for r in streamed if by == "category") in (0, 5)


def test_an_unknown_breakdown_is_refused_with_the_choices() -> None:
    with pytest.raises(ValidationError, match="category"):
        breakdown([], by="colour")
