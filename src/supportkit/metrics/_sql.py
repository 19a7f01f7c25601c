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

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from ..domain._errors import ValidationError
from ..policies._calendar import BusinessCalendar
from ..storage.sql import qmark_to_format
from ._calc import _us, check_options, series_length, series_points
from ._records import SLA_TARGETS, FeedbackRecord, SlaOutcome
from ._report import GroupMetrics, MetricsReport
from ._sql_business import business_metrics, feedback_and_outcomes
from ._sql_flow import durations, escalation, flow, open_at, series, waits_metrics
from ._sql_parts import TOTAL, group_sql, in_list
from ._stats import (
    AGEING_BUCKETS,
    RESPONSE_HISTOGRAM,
    CsatSummary,
    DurationSummary,
    NpsSummary,
    Rate,
)

__all__ = ["group_sql", "sql_metrics"]

_LISTS = ("frt_b", "res_b", "nrt_b")
_RANKED = ("frt", "res", "nrt")


class Sql:
    """A DB-API connection and its dialect; :meth:`snapshot` holds one read transaction."""

    def __init__(self, conn: Any, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValidationError(f"unknown SQL dialect {dialect!r}; use sqlite or postgresql")
        self.conn = conn
        self.dialect = dialect

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        if self.dialect == "postgresql":
            sql = qmark_to_format(sql)
        cur = self.conn.cursor()
        try:
            cur.execute(sql, tuple(params))
            return list(cur.fetchall())
        finally:
            cur.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run the queries inside one read transaction (REPEATABLE READ on PostgreSQL).

        A connection already inside a transaction (the host's, or a unit of
        work's) is used as it is: that transaction is the snapshot.
        """
        conn = self.conn
        if self.dialect == "sqlite":
            if conn.in_transaction:
                yield
                return
            conn.execute("BEGIN")
            try:
                yield
            finally:
                conn.execute("ROLLBACK")
            return
        from psycopg import IsolationLevel
        from psycopg.pq import TransactionStatus

        if conn.info.transaction_status != TransactionStatus.IDLE:
            yield
            return
        level, autocommit = conn.isolation_level, conn.autocommit
        conn.autocommit = False
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        try:
            yield
        finally:
            conn.rollback()
            conn.isolation_level, conn.autocommit = level, autocommit


class Acc:
    """What one group accumulates; groups merge into the total by addition."""

    def __init__(self) -> None:
        self.ints: Counter[str] = Counter()
        self.lists: dict[str, list[float]] = {name: [] for name in _LISTS}
        self.summaries: dict[str, DurationSummary] = {}
        self.at_tier: Counter[str] = Counter()
        self.esc_tier: Counter[str] = Counter()
        self.sla_met: Counter[str] = Counter()
        self.sla_total: Counter[str] = Counter()
        self.ageing = [0] * len(AGEING_BUCKETS)
        self.csat = [0, 0, 0]
        self.nps = [0, 0, 0]

    def merge(self, other: Acc) -> None:
        self.ints.update(other.ints)
        for name in _LISTS:
            self.lists[name].extend(other.lists[name])
        for mine, theirs in (
            (self.at_tier, other.at_tier),
            (self.esc_tier, other.esc_tier),
            (self.sla_met, other.sla_met),
            (self.sla_total, other.sla_total),
        ):
            mine.update(theirs)
        for i, n in enumerate(other.ageing):
            self.ageing[i] += n
        for i in range(3):
            self.csat[i] += other.csat[i]
            self.nps[i] += other.nps[i]

    def outcome(self, target: str, met: bool, n: int = 1) -> None:
        self.sla_total[target] += n
        if met:
            self.sla_met[target] += n

    def result(self, key: str, business: bool) -> GroupMetrics:
        i, li, s = self.ints, self.lists, self.summaries
        return GroupMetrics(
            key=key,
            tickets=i["tickets"],
            resolved=i["resolved"],
            first_response=s.get("frt", DurationSummary()),
            resolution=s.get("res", DurationSummary()),
            next_response=s.get("nrt", DurationSummary()),
            first_response_business=DurationSummary.of(li["frt_b"]) if business else None,
            resolution_business=DurationSummary.of(li["res_b"]) if business else None,
            next_response_business=DurationSummary.of(li["nrt_b"]) if business else None,
            first_contact_resolution=Rate(i["fcr"], i["resolved"]),
            reopen=Rate(i["reopen"], i["reopen_den"]),
            escalation=Rate(i["esc"], i["tickets"]),
            escalation_by_tier={
                t: Rate(self.esc_tier[t], n) for t, n in sorted(self.at_tier.items()) if n
            },
            csat=CsatSummary(*self.csat),
            nps=NpsSummary(*self.nps),
            sla={
                t: Rate(self.sla_met[t], self.sla_total[t])
                for t in SLA_TARGETS
                if self.sla_total[t]
            },
            backlog=i["backlog"],
            ageing={label: n for (_, label), n in zip(AGEING_BUCKETS, self.ageing, strict=True)},
        )


class Query:
    """One report's common parts: the group expression, the window, the instant, the scopes.

    ``clock_scope`` selects the tickets judged in clock time (channels without a
    calendar), ``business_scope`` those measured with a calendar.
    """

    def __init__(
        self,
        db: Sql,
        g: str,
        win: str,
        wparams: list[Any],
        at_us: int,
        calendar: BusinessCalendar | None,
        cals: Mapping[str, BusinessCalendar],
    ) -> None:
        self.db, self.g, self.win, self.wparams, self.at_us = db, g, win, wparams, at_us
        self.dialect = db.dialect
        self.business = calendar is not None or bool(cals)
        if calendar is not None:
            self.clock_scope, self.business_scope = "1 = 0", "1 = 1"
        elif cals:
            self.clock_scope = f"t.channel NOT IN {in_list(cals)}"
            self.business_scope = f"t.channel IN {in_list(cals)}"
        else:
            self.clock_scope, self.business_scope = "1 = 1", "1 = 0"

    def grouped(self, g: str) -> Query:
        q = Query.__new__(Query)
        q.__dict__.update(self.__dict__)
        q.g = g
        return q


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
) -> MetricsReport:
    """The :class:`MetricsReport` of the tickets stored in *conn*, aggregated by the database.

    *conn* is a DB-API connection holding supportkit's tables (``sqlite3`` or
    ``psycopg``); the options mean what they mean for
    :class:`~supportkit.metrics.MetricsCalculator`. All queries run in one
    read transaction (see :meth:`Sql.snapshot`).
    """
    at_, since_, until_, targets = check_options(group_by, at, since, until, sla_targets)
    cals = dict(calendars or {})
    db = Sql(conn, dialect)
    at_us = _us(at_)
    where, wparams = ["1 = 1"], []
    if since_:
        where.append("t.received_at >= ?")
        wparams.append(_us(since_))
    if until_:
        where.append("t.received_at < ?")
        wparams.append(_us(until_))
    q = Query(db, group_sql(group_by, dialect), " AND ".join(where), wparams, at_us, calendar, cals)
    acc: dict[str, Acc] = defaultdict(Acc)
    total = Acc()
    with db.snapshot():
        hist = flow(q, targets, acc)
        waits = waits_metrics(q, targets, acc)
        escalation(q, acc)
        agent_load = open_at(q, acc)
        first, changes = series(q)
        if q.business:
            business_metrics(q, waits, calendar, cals, targets, acc)
        feedback_and_outcomes(db, group_by, feedback, sla_outcomes, since_, until_, acc)
        for name, by_group in durations(q, group_by is not None).items():
            for g, summary in by_group.items():
                (total if g == TOTAL else acc[g]).summaries[name] = summary
    for a in acc.values():
        summaries = total.summaries
        total.merge(a)
        total.summaries = summaries
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
