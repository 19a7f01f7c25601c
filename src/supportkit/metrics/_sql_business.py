"""The parts of :func:`~supportkit.metrics.sql_metrics` measured in Python: business time
(a calendar per channel, or one for all) and the given feedback and SLA outcomes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..policies._calendar import BusinessCalendar
from ._calc import count_feedback
from ._records import FeedbackRecord, SlaOutcome
from ._sql_parts import TOTAL, excluded_sql, group_sql

if TYPE_CHECKING:
    from ._sql_acc import Acc, Query, Sql

__all__ = ["business_metrics", "feedback_and_outcomes"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def business_metrics(
    q: Query,
    waits: list[Any],
    calendar: BusinessCalendar | None,
    cals: Mapping[str, BusinessCalendar],
    targets: Mapping[str, timedelta],
    acc: dict[str, Acc],
) -> None:
    """Business-time durations and SLA outcomes of the channels that have a calendar."""
    at = _dt(q.at_us)

    def judge(a: Acc, cal: BusinessCalendar, name: str, s: datetime, e: datetime | None) -> None:
        if name not in targets:
            return
        limit = targets[name].total_seconds()
        if e is not None and e <= at:
            a.outcome(name, cal.business_time_between(s, e).total_seconds() <= limit)
        elif cal.business_time_between(s, at).total_seconds() > limit:
            a.outcome(name, False)

    rows = q.db.rows(
        f"WITH ex AS ({excluded_sql(q.at_us)}) "
        f"SELECT {q.g}, t.channel, t.received_at, t.first_response_at, t.resolved_at, "
        "t.closed_at, ex.ticket_id IS NOT NULL FROM sk_tickets t "
        f"LEFT JOIN ex ON ex.ticket_id = t.id WHERE {q.win} AND {q.business_scope}",
        q.wparams,
    )
    for g, channel, rec, frt, res, closed, excluded in rows:
        cal = cals.get(channel, calendar)
        if cal is None:  # pragma: no cover - the scope selects channels with a calendar
            continue
        a = acc[g]
        r = _dt(rec)
        f = _dt(frt) if frt is not None else None
        done = _dt(res) if res is not None else None
        if f is not None:
            a.lists["frt_b"].append(cal.business_time_between(r, f).total_seconds())
        if done is not None:
            a.lists["res_b"].append(cal.business_time_between(r, done).total_seconds())
        if excluded:
            continue
        judge(a, cal, "first_response", r, f)
        if res is not None or closed is None:
            judge(a, cal, "resolution", r, done)
    for g, s, e, channel, excluded in waits:
        cal = cals.get(channel, calendar)
        if cal is None:  # pragma: no cover - the scope selects channels with a calendar
            continue
        a = acc[g]
        start, end = _dt(s), _dt(e) if e is not None else None
        if end is not None:
            a.lists["nrt_b"].append(cal.business_time_between(start, end).total_seconds())
        if not excluded:
            judge(a, cal, "next_response", start, end)


def feedback_and_outcomes(
    db: Sql,
    group_by: str | None,
    feedback: Iterable[FeedbackRecord],
    outcomes: Iterable[SlaOutcome],
    since: datetime | None,
    until: datetime | None,
    acc: dict[str, Acc],
) -> None:
    """Feedback answers and given SLA outcomes of the window, grouped by their ticket."""

    def inside(at: datetime) -> bool:
        return (since is None or at >= since) and (until is None or at < until)

    fb = [f for f in feedback if inside(f.at)]
    oc = [o for o in outcomes if inside(o.at)]
    keys: dict[str, str] = {}
    if group_by is not None:
        ids = sorted({f.ticket_id for f in fb} | {o.ticket_id for o in oc})
        g = group_sql(group_by, db.dialect)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            for tid, key in db.rows(
                f"SELECT t.id, {g} FROM sk_tickets t WHERE t.id IN ({marks})", chunk
            ):
                keys[tid] = key
    for f in fb:
        a = acc[keys.get(f.ticket_id, TOTAL)]
        count_feedback(a.csat, a.nps, f)
    for o in oc:
        acc[keys.get(o.ticket_id, TOTAL)].outcome(o.target, o.met)
