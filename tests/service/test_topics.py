"""Topics over time: category, tag and kind counts per week, the change, what grows most."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportkit import FakeClock, MemoryStorage, SupportDesk, ValidationError
from supportkit.cli import main
from supportkit.metrics import sql_topics, stored_topics, topics_over_time, weeks_covering
from supportkit.storage.sqlite import SQLiteStorage

WEEK1 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # a Monday
WEEK2 = WEEK1 + timedelta(weeks=1)
WEEK3 = WEEK1 + timedelta(weeks=2)


def _fill(desk: SupportDesk, clock: FakeClock) -> None:
    plan = [
        # (week start, how many, category, tags, kind)
        (WEEK1, 1, "export", {"csv"}, "training"),
        (WEEK1, 3, "billing", {"refund"}, "customer"),
        (WEEK2, 2, "export", {"csv"}, "training"),
        (WEEK2, 3, "billing", {"refund"}, "customer"),
        (WEEK3, 5, "export", {"csv", "slow"}, "training"),
        (WEEK3, 1, "billing", {"refund"}, "customer"),
        (WEEK3, 1, None, set(), None),
    ]
    n = 0
    for start, count, category, tags, kind in plan:
        for i in range(count):
            clock.set(start + timedelta(hours=i))
            n += 1
            t = desk.receive(
                "email", f"c{n}@example.com", "question", subject="q", category=category, tags=tags
            )
            if kind:
                desk.set_kind(t.id, kind, actor="kate")
    clock.set(WEEK3 + timedelta(days=6))
    desk.receive("email", "late@example.com", "after the view", subject="q", category="export")


def test_topics_per_week_with_the_change_and_the_top_growing(storage: Any) -> None:
    clock = FakeClock(WEEK1)
    desk = SupportDesk(storage, clock=clock)
    _fill(desk, clock)
    at = WEEK3 + timedelta(days=2)
    with desk.storage.unit_of_work() as uow:
        view = stored_topics(uow, at=at, weeks=3)
        if not isinstance(storage, MemoryStorage):  # the same view read from the database
            dialect = "sqlite" if isinstance(storage, SQLiteStorage) else "postgresql"
            assert sql_topics(uow.raw_connection(), dialect=dialect, at=at, weeks=3) == view
    assert view.weeks == ("2026-01-05", "2026-01-12", "2026-01-19")
    export = view.trend("category", "export")
    assert export.counts == (1, 2, 5)  # the ticket after the view's instant is left out
    assert (export.current, export.previous, export.change) == (5, 2, 3)
    assert export.change_pct == 150.0
    billing = view.trend("category", "billing")
    assert (billing.counts, billing.change) == ((3, 3, 1), -2)
    assert view.trend("tag", "slow").change_pct is None  # nothing the period before
    assert view.trend("kind", "training").counts == (1, 2, 5)
    top = [(t.dimension, t.topic, t.change) for t in view.top_growing(3)]
    assert top == [("tag", "slow", 5), ("category", "export", 3), ("kind", "training", 3)]
    assert all(t.change > 0 for t in view.top_growing(10))
    assert "top growing: tag slow +5, category export +3" in view.render()
    assert view.to_dict()["top_growing"][1]["topic"] == "export"


def test_a_view_needs_two_weeks() -> None:
    with pytest.raises(ValidationError, match="2 weeks"):
        topics_over_time([], at=WEEK1, weeks=1)
    assert topics_over_time([], at=WEEK1).top_growing() == []


def test_the_default_view_covers_the_datas_weeks() -> None:
    # WEEK1 is a Monday: the data's first week to the instant's, at least 2, at most 26
    assert weeks_covering(WEEK1, WEEK3 + timedelta(days=6)) == 3
    assert weeks_covering(WEEK1, WEEK1 + timedelta(hours=1)) == 2
    assert weeks_covering(None, WEEK1) == 2
    assert weeks_covering(WEEK1 - timedelta(weeks=100), WEEK1) == 26


def test_the_report_shows_the_topics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "desk.sqlite3"
    with SQLiteStorage(path) as storage:
        clock = FakeClock(WEEK1)
        _fill(SupportDesk(storage, clock=clock), clock)
    args = ["report", "--db", str(path), "--at", "2026-01-21", "--topic-weeks", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "topics per week (weeks starting 2026-01-05, 2026-01-12, 2026-01-19)" in out
    assert "top growing: tag slow +5, category export +3" in out
    assert main([*args, "--format", "json"]) == 0
    topics = json.loads(capsys.readouterr().out)["topics"]
    assert [t["topic"] for t in topics["top_growing"][:2]] == ["slow", "export"]
    assert main([*args, "--format", "html", "--output", str(tmp_path / "r.html")]) == 0
    assert "Topics over time" in (tmp_path / "r.html").read_text()
