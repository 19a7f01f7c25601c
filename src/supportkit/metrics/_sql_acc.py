"""The state of one :func:`~supportkit.metrics.sql_metrics` run: the connection and its read
snapshot (:class:`Sql`), the common parts of the queries (:class:`Query`) and what each
group accumulates (:class:`Acc`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..domain._errors import ValidationError
from ..policies._calendar import BusinessCalendar
from ..storage.sql import qmark_to_format
from ._calc import sla_rates
from ._report import GroupMetrics
from ._sql_parts import TOTAL, in_list, lit
from ._stats import AGEING_BUCKETS, CsatSummary, DurationSummary, NpsSummary, Rate

__all__ = ["Acc", "Query", "Sql"]

_LISTS = ("frt_b", "res_b", "nrt_b")


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

    def stream(self, sql: str, params: Iterable[Any] = (), size: int = 10_000) -> Iterator[Any]:
        """The rows of *sql*, fetched *size* at a time (a large result is never a list)."""
        if self.dialect == "postgresql":
            sql = qmark_to_format(sql)
        cur = self.conn.cursor()
        try:
            cur.execute(sql, tuple(params))
            while batch := cur.fetchmany(size):
                yield from batch
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
        self.csat = [0] * 5
        self.nps = [0] * 11

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
        self.csat = [a + b for a, b in zip(self.csat, other.csat, strict=True)]
        self.nps = [a + b for a, b in zip(self.nps, other.nps, strict=True)]

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
            csat=CsatSummary.of_counts(self.csat),
            nps=NpsSummary.of_counts(self.nps),
            sla=sla_rates(self.sla_met, self.sla_total),
            backlog=i["backlog"],
            ageing={label: n for (_, label), n in zip(AGEING_BUCKETS, self.ageing, strict=True)},
        )


class Query:
    """One report's common parts: the group expression, the window, the instant, the scopes.

    ``scope`` selects the desk's tickets; ``clock_scope`` selects the tickets judged in clock time (channels without a
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
        scope: str = "1 = 1",
    ) -> None:
        self.db, self.g, self.win, self.wparams, self.at_us = db, g, win, wparams, at_us
        #: whether the report is grouped (``g`` is not a constant)
        self.grouped_by = g != lit(TOTAL)
        #: the desk's tickets only (part of ``win``; alone where the window does not apply)
        self.scope = scope
        #: the desk's rows of ``sk_history h`` (read without joining the tickets)
        self.history_scope = "1 = 1"
        self.dialect = db.dialect
        self.business = calendar is not None or bool(cals)
        if calendar is not None:
            self.clock_scope, self.business_scope = "1 = 0", "1 = 1"
        elif cals:
            self.clock_scope = f"t.channel NOT IN {in_list(cals)}"
            self.business_scope = f"t.channel IN {in_list(cals)}"
        else:
            self.clock_scope, self.business_scope = "1 = 1", "1 = 0"
