"""Metrics against a straightforward recomputation on random ticket histories.

Histories are made by driving a real SupportDesk over MemoryStorage with a
fake clock; the streaming calculator (and the SQL push-down on SQLite, fed
the very same history) must agree with :mod:`tests.metrics._oracle`.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from supportkit import MemoryStorage
from supportkit.metrics import (
    DIMENSIONS,
    FeedbackRecord,
    MetricsReport,
    compute_metrics,
    iter_ticket_facts,
    sql_metrics,
)
from supportkit.policies import office_hours
from supportkit.storage.sqlite import SQLiteStorage

from ._histories import START, drive, histories, make_desk
from ._oracle import assert_close, recompute

group_bys = st.sampled_from((None, *DIMENSIONS))
offsets = st.one_of(st.none(), st.integers(0, 5 * 24 * 60))
TARGETS = {
    "first_response": timedelta(hours=2),
    "next_response": timedelta(hours=4),
    "resolution": timedelta(days=1),
}


def _feedback(data: st.DataObject, ids: list[str], end_minutes: int) -> list[FeedbackRecord]:
    if not ids:
        return []
    rows = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(ids),
                st.integers(1, 5),
                st.one_of(st.none(), st.integers(0, 10)),
                st.integers(0, end_minutes),
            ),
            max_size=8,
        )
    )
    return [FeedbackRecord(t, c, n, START + timedelta(minutes=m)) for t, c, n, m in rows]


def _compare(report: MetricsReport, expected: dict[str, dict[str, Any]], group_by: Any) -> None:
    got = report.to_dict()
    total = dict(got["total"])
    total.pop("key")
    for name in ("first_response_business", "resolution_business", "next_response_business"):
        total.pop(name)
    exp_total = dict(expected["all"])
    assert_close(got["agent_load"], exp_total.pop("agent_load"), "agent_load")
    assert_close(total, exp_total, "total")
    if group_by is None:
        assert got["groups"] == []
        return
    exp_groups = {
        k: v
        for k, v in expected.items()
        if k != "all" and (v["tickets"] or v["backlog"] or v["csat"]["responses"])
    }
    got_groups = {g["key"]: g for g in got["groups"]}
    assert set(got_groups) == set(exp_groups)
    for k, g in got_groups.items():
        g = dict(g)
        g.pop("key")
        for name in ("first_response_business", "resolution_business", "next_response_business"):
            g.pop(name)
        assert_close(g, exp_groups[k], k)


@given(history=histories, group_by=group_bys, s=offsets, u=offsets, a=offsets, data=st.data())
def test_streaming_metrics_equal_a_straightforward_recomputation(
    history: Any, group_by: Any, s: Any, u: Any, a: Any, data: st.DataObject
) -> None:
    desk, clock = make_desk(MemoryStorage())
    ids = drive(desk, clock, history)
    end = int((clock.now() - START).total_seconds() // 60) + 60
    since = None if s is None else START + timedelta(minutes=s)
    until = None if u is None else START + timedelta(minutes=u) + timedelta(minutes=1)
    if since and until and since >= until:
        since, until = until - timedelta(minutes=1), since + timedelta(minutes=1)
    at = clock.now() if a is None else START + timedelta(minutes=a)
    feedback = _feedback(data, ids, end)
    options: dict[str, Any] = {
        "at": at,
        "since": since,
        "until": until,
        "group_by": group_by,
        "feedback": feedback,
        "sla_targets": TARGETS,
    }
    with desk.storage.unit_of_work() as uow:
        report = compute_metrics(iter_ticket_facts(uow, page=7), **options)
    expected = recompute(desk, **options)
    _compare(report, expected, group_by)


OFFICE = office_hours("Europe/Berlin")
MORNINGS = office_hours("UTC", hours="08:00-12:00", weekdays="mon-sat")
#: no calendar; one for every channel; calendars for some channels only (the rest in clock time)
calendar_options = st.sampled_from(
    [
        {},
        {"calendar": OFFICE},
        {"calendars": {"email": OFFICE}},
        {"calendars": {"email": OFFICE, "chat": MORNINGS}},
        {"calendar": MORNINGS, "calendars": {"phone": OFFICE}},
    ]
)
#: zero targets judge every unanswered ticket at once, so exclusions matter in most histories
target_options = st.sampled_from(
    [
        TARGETS,
        {},
        {"first_response": timedelta(0), "resolution": timedelta(minutes=30)},
        {"next_response": timedelta(0)},
    ]
)


@given(
    history=histories,
    group_by=group_bys,
    a=offsets,
    cal=calendar_options,
    targets=target_options,
    series_days=st.one_of(st.none(), st.integers(0, 3)),
    data=st.data(),
)
def test_sql_push_down_equals_the_streaming_calculator(
    history: Any,
    group_by: Any,
    a: Any,
    cal: dict[str, Any],
    targets: dict[str, timedelta],
    series_days: int | None,
    data: st.DataObject,
) -> None:
    """Every option on both paths: calendars per channel, business hours, groups, bots,
    automated replies, spam and duplicate closings, reopening (the histories have them all),
    with another desk's tickets in the same database."""
    mem_desk, mem_clock = make_desk(MemoryStorage())
    ids = drive(mem_desk, mem_clock, history)
    with tempfile.TemporaryDirectory() as tmp:
        storage = SQLiteStorage(Path(tmp) / "desk.sqlite3")
        try:
            sql_desk, sql_clock = make_desk(storage)
            drive(sql_desk, sql_clock, history)
            # another desk in the same database (its own tickets, messages, history and
            # events): nothing of it may leak into this desk's figures
            neighbour, neighbour_clock = make_desk(storage.for_desk("neighbour"), "nb")
            drive(neighbour, neighbour_clock, history[: len(history) // 2 + 1])
            at = mem_clock.now() if a is None else START + timedelta(minutes=a)
            feedback = _feedback(data, ids, 10_000)
            options: dict[str, Any] = {
                "at": at,
                "since": START + timedelta(hours=1) if a else None,
                "group_by": group_by,
                "feedback": feedback,
                "sla_targets": targets,
                "series_days": series_days,
                **cal,
            }
            with mem_desk.storage.unit_of_work() as uow:
                expected = compute_metrics(iter_ticket_facts(uow), **options)
            got = sql_metrics(storage.connection(), **options)
        finally:
            storage.close()
    assert_close(got.to_dict(), expected.to_dict())
