"""The metrics computed inside a SQL database (SQLite or PostgreSQL), over supportkit's tables.

Counts, rates, SLA compliance, backlog, ageing, agent load, the histogram and
the backlog series are aggregated by the database. Percentiles are ranked by
the database with window functions, and only the rows at the ranks a
percentile interpolates between come back (with each group's count and sum).
Business-time metrics need the calendar, so for the channels that have one
the ``(start, end)`` pairs are fetched and measured in Python. Every query
runs in one read transaction, so the report is one consistent snapshot.
The result is the same :class:`MetricsReport` the streaming calculator
produces from the same tickets (``tests/metrics`` checks this).

Tables read: ``sk_tickets``; ``sk_messages`` (responses, waits);
``sk_history`` (backlog at an instant, spam and duplicate closings);
``sk_events`` (``ticket.escalated``, for escalation per tier).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ..policies._calendar import BusinessCalendar
from ..ports._desks import DEFAULT_DESK, check_desk_key
from ._calc import _us, check_options, series_length, series_points
from ._records import FeedbackRecord, SlaOutcome
from ._report import MetricsReport
from ._sql_acc import Acc, Query, Sql
from ._sql_business import business_metrics, feedback_and_outcomes
from ._sql_flow import durations, escalation, flow, open_at, series
from ._sql_parts import TOTAL, group_sql
from ._stats import (
    RESPONSE_HISTOGRAM,
)

__all__ = ["group_sql", "sql_metrics"]


def sql_metrics(
    conn: Any,
    *,
    dialect: str = "sqlite",
    at: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    group_by: str | None = None,
    calendar: BusinessCalendar | None = None,
    calendars: Mapping[str, BusinessCalendar] | None = None,
    sla_targets: Mapping[str, timedelta] | None = None,
    feedback: Iterable[FeedbackRecord] = (),
    sla_outcomes: Iterable[SlaOutcome] = (),
    series_days: int | None = None,
    desk: str = DEFAULT_DESK,
) -> MetricsReport:
    """The :class:`MetricsReport` of the tickets stored in *conn*, aggregated by the database.

    *conn* is a DB-API connection holding supportkit's tables (``sqlite3`` or
    ``psycopg``); the options mean what they mean for
    :class:`~supportkit.metrics.MetricsCalculator`. *desk*: the desk whose
    tickets are reported (many desks may share one database). All queries
    run in one read transaction (see :meth:`Sql.snapshot`).
    """
    scope = f"t.desk = '{check_desk_key(desk)}'"  # a checked key: letters, digits, _.:-
    at_, since_, until_, targets = check_options(group_by, at, since, until, sla_targets)
    cals = dict(calendars or {})
    db = Sql(conn, dialect)
    at_us = _us(at_)
    where, wparams = [scope], []
    if since_:
        where.append("t.received_at >= ?")
        wparams.append(_us(since_))
    if until_:
        where.append("t.received_at < ?")
        wparams.append(_us(until_))
    q = Query(
        db, group_sql(group_by, dialect), " AND ".join(where), wparams, at_us, calendar, cals, scope
    )
    q.history_scope = f"h.desk = '{check_desk_key(desk)}'"
    acc: dict[str, Acc] = defaultdict(Acc)
    total = Acc()
    with db.snapshot():
        hist = flow(q, targets, acc)
        waits = durations(q, targets, acc, group_by is not None)
        escalation(q, acc)
        agent_load = open_at(q, acc)
        first, changes = series(q)
        if q.business:
            business_metrics(q, waits, calendar, cals, targets, acc)
        feedback_and_outcomes(db, group_by, feedback, sla_outcomes, since_, until_, acc)
    for a in acc.values():
        total.merge(a)
    # percentiles do not add up: the total's were ranked on their own (durations)
    total.summaries = dict(acc[TOTAL].summaries)
    groups = (
        tuple(acc[k].result(k, q.business) for k in sorted(acc) if k != TOTAL) if group_by else ()
    )
    start = since_ or (at_ - timedelta(days=series_days) if series_days is not None else first)
    return MetricsReport(
        at=at_,
        since=since_,
        until=until_,
        group_by=group_by,
        total=total.result("all", q.business),
        groups=groups,
        agent_load=agent_load,
        backlog_series=series_points(at_, series_length(at_, start), changes),
        first_response_histogram=tuple(
            (label, c) for (_, label), c in zip(RESPONSE_HISTOGRAM, hist, strict=True)
        ),
        business_time=q.business,
    )
