"""The metrics computed inside a SQL database (SQLite or PostgreSQL), over supportkit's tables.

Counts, rates, SLA compliance, backlog, ageing, agent load, the histogram and
the backlog series are aggregated by the database. Percentiles need the
values, so exactly those come back: one duration per ticket (or per wait),
and nothing else. Business-time metrics need the calendar, so for those the
``(start, end)`` pairs are fetched and measured in Python. Each query runs
once, grouped by the report's dimension; the total is the sum of the groups.
The result is the same :class:`MetricsReport` the streaming calculator
produces from the same tickets (``tests/metrics`` checks this).

Tables read: ``sk_tickets``; ``sk_messages`` (next response, first-contact
resolution); ``sk_events`` (``ticket.escalated``, for escalation per tier).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..domain._errors import ValidationError
from ..domain._model import ensure_utc
from ..policies._calendar import BusinessCalendar
from ..ports._desks import DEFAULT_DESK, check_desk_key
from ..storage.sql import qmark_to_format
from ._calc import _EPOCH, _us, series_points
from ._records import (
    DIMENSIONS,
    NO_KIND,
    NO_TEAM,
    SLA_TARGETS,
    UNASSIGNED,
    FeedbackRecord,
    SlaOutcome,
)
from ._report import GroupMetrics, MetricsReport
from ._stats import (
    AGEING_BUCKETS,
    RESPONSE_HISTOGRAM,
    CsatSummary,
    DurationSummary,
    NpsSummary,
    Rate,
)

__all__ = ["group_sql", "sql_metrics"]

_DAY_US = 86_400_000_000
_US = 1_000_000
#: the bucket of values that belong to the total but to no group (feedback on unknown tickets)
_TOTAL = "__supportkit_total__"
_INTS = ("tickets", "resolved", "fcr", "reopen_den", "reopen", "esc", "backlog")
_LISTS = ("frt", "res", "nrt", "frt_b", "res_b", "nrt_b")


def _day(col: str, dialect: str, fmt: str) -> str:
    if dialect == "sqlite":
        if fmt == "week":
            return f"date({col} / 1000000, 'unixepoch', '-6 days', 'weekday 1')"
        pattern = "%Y-%m-%d" if fmt == "day" else "%Y-%m"
        return f"strftime('{pattern}', {col} / 1000000, 'unixepoch')"
    ts = f"(to_timestamp({col} / 1000000) AT TIME ZONE 'UTC')"
    if fmt == "week":
        return f"to_char(date_trunc('week', {ts}), 'YYYY-MM-DD')"
    return f"to_char({ts}, '{'YYYY-MM-DD' if fmt == 'day' else 'YYYY-MM'}')"


def group_sql(by: str | None, dialect: str, alias: str = "t") -> str:
    """The SQL expression of a ticket's group (the same keys as :func:`group_key`)."""
    a = alias
    if by is None:
        return f"'{_TOTAL}'"
    if by == "channel":
        return f"{a}.channel"
    if by == "tier":
        return f"{a}.tier"
    if by == "team":
        return f"COALESCE({a}.team_id, '{NO_TEAM}')"
    if by == "agent":
        return f"COALESCE({a}.assignee_id, '{UNASSIGNED}')"
    if by == "priority":
        return (
            f"CASE {a}.priority WHEN 1 THEN 'low' WHEN 2 THEN 'normal' WHEN 3 THEN 'high' "
            f"WHEN 4 THEN 'urgent' ELSE CAST({a}.priority AS TEXT) END"
        )
    if by == "kind":  # custom_fields["kind"], as Ticket.kind reads it
        if dialect == "sqlite":
            kind = f"json_extract({a}.custom_fields, '$.kind')"
        else:
            kind = f"(CAST({a}.custom_fields AS jsonb) ->> 'kind')"
        return f"COALESCE({kind}, '{NO_KIND}')"
    if by in ("day", "week", "month"):
        return _day(f"{a}.received_at", dialect, by)
    raise ValidationError(f"cannot group by {by!r}; use one of {list(DIMENSIONS)}")


def _bucket_sql(expr: str, buckets: Sequence[tuple[float, str]]) -> str:
    whens = " ".join(
        f"WHEN {expr} < {int(upper * _US)} THEN {i}" for i, (upper, _) in enumerate(buckets[:-1])
    )
    return f"CASE {whens} ELSE {len(buckets) - 1} END"


class _Sql:
    def __init__(self, conn: Any, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValidationError(f"unknown SQL dialect {dialect!r}; use sqlite or postgresql")
        self.conn = conn
        self.dialect = dialect

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self.dialect == "postgresql":
            sql = qmark_to_format(sql)
        cur = self.conn.cursor()
        try:
            cur.execute(sql, tuple(params))
            return list(cur.fetchall())
        finally:
            cur.close()


class _Acc:
    """What one group accumulates; groups merge into the total by addition."""

    def __init__(self) -> None:
        self.ints: Counter[str] = Counter()
        self.lists: dict[str, list[float]] = {name: [] for name in _LISTS}
        self.at_tier: Counter[str] = Counter()
        self.esc_tier: Counter[str] = Counter()
        self.sla_met: Counter[str] = Counter()
        self.sla_total: Counter[str] = Counter()
        self.ageing = [0] * len(AGEING_BUCKETS)
        self.csat = [0, 0, 0]
        self.nps = [0, 0, 0]

    def merge(self, other: _Acc) -> None:
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
        i, li = self.ints, self.lists
        return GroupMetrics(
            key=key,
            tickets=i["tickets"],
            resolved=i["resolved"],
            first_response=DurationSummary.of(li["frt"]),
            resolution=DurationSummary.of(li["res"]),
            next_response=DurationSummary.of(li["nrt"]),
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
    series_days: int = 30,
    desk: str = DEFAULT_DESK,
) -> MetricsReport:
    """The :class:`MetricsReport` of the tickets stored in *conn*, aggregated by the database.

    *conn* is a DB-API connection holding supportkit's tables (``sqlite3`` or
    ``psycopg``); the options mean what they mean for
    :class:`~supportkit.metrics.MetricsCalculator`. *desk*: the desk whose
    tickets are reported (many desks may share one database).
    """
    scope = f"t.desk = '{check_desk_key(desk)}'"  # a checked key: letters, digits, _.:-
    if group_by is not None and group_by not in DIMENSIONS:
        raise ValidationError(f"cannot group by {group_by!r}; use one of {list(DIMENSIONS)}")
    instant = at or until
    if instant is None:
        raise ValidationError("give the report an instant: at=... or until=...")
    at_ = ensure_utc(instant)
    since_ = ensure_utc(since) if since else None
    until_ = ensure_utc(until) if until else None
    if since_ and until_ and since_ >= until_:
        raise ValidationError(
            f"since ({since_.isoformat()}) must be before until ({until_.isoformat()})"
        )
    targets = dict(sla_targets or {})
    for name, target in targets.items():
        if name not in SLA_TARGETS:
            raise ValidationError(f"unknown SLA target {name!r}; use {list(SLA_TARGETS)}")
        if target < timedelta(0):
            raise ValidationError(f"SLA target {name} is negative ({target})")
    cals = dict(calendars or {})
    business = calendar is not None or bool(cals)
    db = _Sql(conn, dialect)
    at_us = _us(at_)
    where, wparams = [scope], []
    if since_:
        where.append("t.received_at >= ?")
        wparams.append(_us(since_))
    if until_:
        where.append("t.received_at < ?")
        wparams.append(_us(until_))
    q = _Query(db, group_sql(group_by, dialect), " AND ".join(where), wparams, at_us, scope)
    acc: dict[str, _Acc] = defaultdict(_Acc)
    hist = _flow(q, {} if business else targets, acc)
    _values(q, acc)
    waits = _waits(q, business)
    _next_response(waits, at_us, {} if business else targets, acc)
    _escalation(q, acc)
    agent_load = _open(q, acc)
    start = since_ if since_ else at_ - timedelta(days=series_days)
    n = min(int((at_ - start) / timedelta(days=1)), 366) + 1
    p0 = at_us - (n - 1) * _DAY_US
    series = _series(db, p0, n, scope)
    if business:
        _business(q, waits, calendar, cals, targets, acc)
    _feedback_and_outcomes(db, group_by, feedback, sla_outcomes, since_, until_, acc)
    total = _Acc()
    for a in acc.values():
        total.merge(a)
    groups = (
        tuple(acc[k].result(k, business) for k in sorted(acc) if k != _TOTAL) if group_by else ()
    )
    return MetricsReport(
        at=at_,
        since=since_,
        until=until_,
        group_by=group_by,
        total=total.result("all", business),
        groups=groups,
        agent_load=agent_load,
        backlog_series=series_points(p0, series),
        first_response_histogram=tuple(
            (label, c) for (_, label), c in zip(RESPONSE_HISTOGRAM, hist, strict=True)
        ),
        business_time=business,
    )


class _Query:
    def __init__(
        self, db: _Sql, g: str, win: str, wparams: list[Any], at_us: int, scope: str = "1 = 1"
    ) -> None:
        self.db, self.g, self.win, self.wparams, self.at_us = db, g, win, wparams, at_us
        #: the desk's tickets only (part of ``win``; alone where the window does not apply)
        self.scope = scope
        self.trivial = g == f"'{_TOTAL}'" and win == "1 = 1"


def _target_us(targets: Mapping[str, timedelta], name: str) -> int:
    d = targets[name]
    return (d.days * 86_400 + d.seconds) * _US + d.microseconds


def _judged_sql(start: str, end: str, at_us: int, limit: int) -> tuple[str, str]:
    met = f"({end} IS NOT NULL AND {end} <= {at_us} AND {end} - {start} <= {limit})"
    breached = (
        f"(({end} IS NOT NULL AND {end} <= {at_us} AND {end} - {start} > {limit}) OR "
        f"(({end} IS NULL OR {end} > {at_us}) AND {at_us} - {start} > {limit}))"
    )
    return met, breached


def _flow(q: _Query, targets: Mapping[str, timedelta], acc: dict[str, _Acc]) -> list[int]:
    """Counts and rates per group and current tier; the histogram; calendar-time SLA sums."""
    frt = "(t.first_response_at - t.received_at)"
    b = _bucket_sql(frt, RESPONSE_HISTOGRAM)
    cols = [
        "COUNT(*)",
        "SUM(CASE WHEN t.resolved_at IS NOT NULL THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN t.resolved_at IS NOT NULL AND t.reopen_count = 0 AND ob.n = 1 "
        "THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN t.resolved_at IS NOT NULL OR t.reopen_count > 0 THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN t.reopen_count > 0 THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN t.escalation_count > 0 THEN 1 ELSE 0 END)",
    ]
    cols += [
        f"SUM(CASE WHEN t.first_response_at IS NOT NULL AND {b} = {i} THEN 1 ELSE 0 END)"
        for i in range(len(RESPONSE_HISTOGRAM))
    ]
    sla_names = [n for n in ("first_response", "resolution") if n in targets]
    for name in sla_names:
        end = "t.first_response_at" if name == "first_response" else "t.resolved_at"
        met, breached = _judged_sql("t.received_at", end, q.at_us, _target_us(targets, name))
        scope = (
            ""
            if name == "first_response"
            else "(t.resolved_at IS NOT NULL OR t.closed_at IS NULL) AND "
        )
        cols.append(f"SUM(CASE WHEN {scope}{met} THEN 1 ELSE 0 END)")
        cols.append(f"SUM(CASE WHEN {scope}{breached} THEN 1 ELSE 0 END)")
    sql = f"""
        WITH ob AS (
            SELECT m.ticket_id, COUNT(*) AS n FROM sk_messages m
            WHERE m.direction = 'outbound' GROUP BY m.ticket_id
        )
        SELECT {q.g} AS g, t.tier, {", ".join(cols)}
        FROM sk_tickets t LEFT JOIN ob ON ob.ticket_id = t.id
        WHERE {q.win} GROUP BY 1, 2
    """
    hist = [0] * len(RESPONSE_HISTOGRAM)
    nh = len(RESPONSE_HISTOGRAM)
    for row in q.db.rows(sql, q.wparams):
        a = acc[row[0]]
        values = [int(x or 0) for x in row[2:]]
        for name, v in zip(
            ("tickets", "resolved", "fcr", "reopen_den", "reopen", "esc"), values, strict=False
        ):
            a.ints[name] += v
        a.at_tier[row[1]] += values[0]
        for i in range(nh):
            hist[i] += values[6 + i]
        rest = values[6 + nh :]
        for k, name in enumerate(sla_names):
            a.outcome(name, True, rest[2 * k])
            a.outcome(name, False, rest[2 * k + 1])
    return hist


def _values(q: _Query, acc: dict[str, _Acc]) -> None:
    """The first response and resolution durations, for the percentiles."""
    sql = f"""
        SELECT {q.g}, t.first_response_at - t.received_at, t.resolved_at - t.received_at
        FROM sk_tickets t
        WHERE {q.win} AND (t.first_response_at IS NOT NULL OR t.resolved_at IS NOT NULL)
    """
    lists: dict[str, tuple[list[float], list[float]]] = {}
    for g, frt, res in q.db.rows(sql, q.wparams):
        pair = lists.get(g)
        if pair is None:
            pair = lists[g] = (acc[g].lists["frt"], acc[g].lists["res"])
        if frt is not None:
            pair[0].append(frt / _US)
        if res is not None:
            pair[1].append(res / _US)


def _waits(q: _Query, with_channel: bool) -> list[Any]:
    """``(g, start, end or None[, channel])`` of every next-response wait of the window.

    A wait starts at an inbound message whose previous non-note message is
    outbound; it ends at the next outbound message. Boundaries (starts, and
    outbound messages right after an inbound one) alternate, so the end of a
    wait is the boundary after its start.
    """
    boundaries = """
        nm AS (
            SELECT m.ticket_id, m.seq, m.direction, m.created_at,
                LAG(m.direction) OVER (PARTITION BY m.ticket_id ORDER BY m.seq) AS prev
            FROM sk_messages m WHERE m.direction IN ('inbound', 'outbound')
        ),
        b AS (
            SELECT ticket_id, direction, created_at,
                LEAD(created_at) OVER (PARTITION BY ticket_id ORDER BY seq) AS nxt
            FROM nm
            WHERE (direction = 'inbound' AND prev = 'outbound')
               OR (direction = 'outbound' AND prev = 'inbound')
        )
    """
    if q.trivial and not with_channel:
        sql = f"WITH {boundaries} SELECT {q.g}, b.created_at, b.nxt FROM b "
        sql += "WHERE b.direction = 'inbound'"
        return q.db.rows(sql)
    channel = ", t.channel" if with_channel else ""
    sql = f"""WITH {boundaries}
        SELECT {q.g}, b.created_at, b.nxt{channel}
        FROM b JOIN sk_tickets t ON t.id = b.ticket_id
        WHERE b.direction = 'inbound' AND {q.win}
    """
    return q.db.rows(sql, q.wparams)


def _next_response(
    waits: list[Any], at_us: int, targets: Mapping[str, timedelta], acc: dict[str, _Acc]
) -> None:
    limit = _target_us(targets, "next_response") if "next_response" in targets else None
    for row in waits:
        g, s, e = row[0], row[1], row[2]
        a = acc[g]
        if e is not None:
            a.lists["nrt"].append((e - s) / _US)
        if limit is not None:
            if e is not None and e <= at_us:
                a.outcome("next_response", e - s <= limit)
            elif at_us - s > limit:
                a.outcome("next_response", False)


def _escalation(q: _Query, acc: dict[str, _Acc]) -> None:
    """Tickets escalated out of each tier; those not at it now join the tier's denominator."""
    frm = (
        "json_extract(e.payload, '$.from_tier')"
        if q.db.dialect == "sqlite"
        else "(e.payload::json ->> 'from_tier')"
    )
    sql = f"""
        SELECT {q.g}, x.tier, COUNT(*), SUM(CASE WHEN x.tier <> t.tier THEN 1 ELSE 0 END)
        FROM (SELECT DISTINCT e.ticket_id, {frm} AS tier FROM sk_events e
              WHERE e.type = 'ticket.escalated') x
        JOIN sk_tickets t ON t.id = x.ticket_id
        WHERE {q.win} GROUP BY 1, 2
    """
    for g, tier, n, elsewhere in q.db.rows(sql, q.wparams):
        acc[g].esc_tier[tier] += int(n)
        acc[g].at_tier[tier] += int(elsewhere or 0)


_OPEN = (
    "t.received_at <= ? AND (t.resolved_at IS NULL OR t.resolved_at > ?) "
    "AND (t.closed_at IS NULL OR t.closed_at > ?)"
)


def _open(q: _Query, acc: dict[str, _Acc]) -> dict[str, int]:
    """Backlog and ageing per group, and the agent load, from one scan."""
    b = _bucket_sql(f"({q.at_us} - t.received_at)", AGEING_BUCKETS)
    sql = (
        f"SELECT {q.g}, {b}, COALESCE(t.assignee_id, '{UNASSIGNED}'), COUNT(*) "
        f"FROM sk_tickets t WHERE {q.scope} AND {_OPEN} GROUP BY 1, 2, 3"
    )
    load: Counter[str] = Counter()
    for g, bucket, agent, n in q.db.rows(sql, [q.at_us] * 3):
        a = acc[g]
        a.ageing[int(bucket)] += int(n)
        a.ints["backlog"] += int(n)
        load[str(agent)] += int(n)
    return dict(sorted(load.items(), key=lambda kv: (-kv[1], kv[0])))


def _series(db: _Sql, p0: int, n: int, scope: str) -> list[int]:
    def ceil_days(col: str) -> str:
        x = f"({col} - {p0})"
        return f"(CASE WHEN {x} <= 0 THEN 0 ELSE ({x} + {_DAY_US - 1}) / {_DAY_US} END)"

    done = (
        "CASE WHEN t.resolved_at IS NULL THEN t.closed_at WHEN t.closed_at IS NULL "
        "THEN t.resolved_at WHEN t.resolved_at < t.closed_at THEN t.resolved_at "
        "ELSE t.closed_at END"
    )
    sql = f"""
        SELECT k0, k1, COUNT(*) FROM (
            SELECT {ceil_days("t.received_at")} AS k0,
                CASE WHEN ({done}) IS NULL THEN {n} ELSE {ceil_days(done)} END AS k1
            FROM sk_tickets t WHERE {scope}
        ) x WHERE k0 < {n} AND k0 < k1 GROUP BY k0, k1
    """
    diff = [0] * (n + 1)
    for k0, k1, c in db.rows(sql):
        diff[int(k0)] += int(c)
        diff[min(int(k1), n)] -= int(c)
    return diff


def _business(
    q: _Query,
    waits: list[Any],
    calendar: BusinessCalendar | None,
    cals: Mapping[str, BusinessCalendar],
    targets: Mapping[str, timedelta],
    acc: dict[str, _Acc],
) -> None:
    """Business-time durations and SLA outcomes: pairs fetched, measured with the calendar."""

    def dt(us: int) -> datetime:
        return _EPOCH + timedelta(microseconds=int(us))

    at = dt(q.at_us)

    def judge(a: _Acc, cal: BusinessCalendar, name: str, s: datetime, e: datetime | None) -> None:
        if name not in targets:
            return
        limit = targets[name].total_seconds()
        if e is not None and e <= at:
            a.outcome(name, cal.business_time_between(s, e).total_seconds() <= limit)
        elif cal.business_time_between(s, at).total_seconds() > limit:
            a.outcome(name, False)

    rows = q.db.rows(
        f"SELECT {q.g}, t.channel, t.received_at, t.first_response_at, t.resolved_at, "
        f"t.closed_at FROM sk_tickets t WHERE {q.win}",
        q.wparams,
    )
    for g, channel, rec, frt, res, closed in rows:
        cal = cals.get(channel, calendar)
        a = acc[g]
        r = dt(rec)
        f = dt(frt) if frt is not None else None
        done = dt(res) if res is not None else None
        if cal is None:
            continue
        if f is not None:
            a.lists["frt_b"].append(cal.business_time_between(r, f).total_seconds())
        if done is not None:
            a.lists["res_b"].append(cal.business_time_between(r, done).total_seconds())
        judge(a, cal, "first_response", r, f)
        if res is not None or closed is None:
            judge(a, cal, "resolution", r, done)
    for g, s, e, channel in waits:
        cal = cals.get(channel, calendar)
        if cal is None:
            continue
        a = acc[g]
        start, end = dt(s), dt(e) if e is not None else None
        if end is not None:
            a.lists["nrt_b"].append(cal.business_time_between(start, end).total_seconds())
        judge(a, cal, "next_response", start, end)


def _feedback_and_outcomes(
    db: _Sql,
    group_by: str | None,
    feedback: Iterable[FeedbackRecord],
    outcomes: Iterable[SlaOutcome],
    since: datetime | None,
    until: datetime | None,
    acc: dict[str, _Acc],
) -> None:
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
        a = acc[keys.get(f.ticket_id, _TOTAL)]
        a.csat[0] += 1
        a.csat[1] += f.csat >= 4
        a.csat[2] += f.csat
        if f.nps is not None:
            a.nps[0] += 1
            a.nps[1] += f.nps >= 9
            a.nps[2] += f.nps <= 6
    for o in oc:
        acc[keys.get(o.ticket_id, _TOTAL)].outcome(o.target, o.met)
