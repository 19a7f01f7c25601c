"""The parts of :func:`~supportkit.metrics.sql_metrics` measured in Python: business time
(a calendar per channel, or one for all) and the given feedback and SLA outcomes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..policies._calendar import BusinessCalendar
from ._calc import count_feedback
from ._records import FeedbackRecord, SlaOutcome
from ._sql_parts import TOTAL, excluded_sql, group_sql

if TYPE_CHECKING:
    from ._sql_acc import Acc, Query, Sql

__all__ = ["business_metrics", "feedback_and_outcomes"]

_US = 1_000_000


def business_metrics(
    q: Query,
    waits: Iterable[Any],
    calendar: BusinessCalendar | None,
    cals: Mapping[str, BusinessCalendar],
    targets: Mapping[str, timedelta],
    acc: dict[str, Acc],
) -> None:
    """Business-time durations and SLA outcomes of the channels that have a calendar.

    Rows are streamed from the database and measured on the stored microseconds
    (:meth:`BusinessCalendar.business_us_between`); each duration is measured once and
    serves both its summary and its SLA judgement.
    """
    at = q.at_us
    limits = {name: d // timedelta(microseconds=1) for name, d in targets.items()}

    def measure(
        a: Acc, cal: BusinessCalendar, name: str, key: str, s: int, e: int | None, judged: bool
    ) -> None:
        if e is not None:
            took = cal.business_us_between(s, e)
            a.lists[key].append(took / _US)
            if judged and name in limits and e <= at:
                a.outcome(name, took <= limits[name])
                return
        if judged and name in limits and cal.business_us_between(s, at) > limits[name]:
            a.outcome(name, False)

    rows = q.db.stream(
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
        measure(a, cal, "first_response", "frt_b", rec, frt, not excluded)
        # resolution is judged for tickets resolved or not closed (as in clock time)
        judged = not excluded and (res is not None or closed is None)
        measure(a, cal, "resolution", "res_b", rec, res, judged)
    for g, s, e, channel, excluded in waits:
        cal = cals.get(channel, calendar)
        if cal is None:  # pragma: no cover - the scope selects channels with a calendar
            continue
        measure(acc[g], cal, "next_response", "nrt_b", s, e, not excluded)


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
