"""The metrics computed inside a SQL database (SQLite or PostgreSQL), over supportkit's tables.

Counts, sums, means, rates, backlog, ageing, agent load and the series are
aggregated by the database; percentiles are ranked by a window function and
only the rows at the ranks a percentile interpolates between come back
(at most six per group and duration). Business-time metrics need the
calendar, so for those the (start, end) pairs are fetched and measured in
Python. The result is the same :class:`MetricsReport` the streaming
calculator produces from the same tickets (``tests/metrics`` checks this).

Tables read: ``sk_tickets``, ``sk_messages`` (next response, first-contact
resolution) and ``sk_events`` (``ticket.escalated``, for escalation per tier).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..domain._errors import ValidationError
from ..domain._model import ensure_utc
from ..policies._calendar import BusinessCalendar
from ._calc import _ceil_days, _us, series_points
from ._records import (
    DIMENSIONS,
    NO_TEAM,
    SLA_TARGETS,
    UNASSIGNED,
    FeedbackRecord,
    SlaOutcome,
)
from ._report import GroupMetrics, MetricsReport
from ._stats import (
    AGEING_BUCKETS,
    PERCENTILES,
    RESPONSE_HISTOGRAM,
    CsatSummary,
    DurationSummary,
    NpsSummary,
    Rate,
    percentile_ranks,
)

__all__ = ["sql_metrics"]

_DAY_US = 86_400_000_000
_US = 1_000_000
_TOTAL = "__supportkit_total__"


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
    """The SQL expression of a ticket's group (same keys as :func:`group_key`)."""
    a = alias
    if by is None:
        return "'all'"
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
            sql = sql.replace("?", "%s")
        cur = self.conn.cursor()
        try:
            cur.execute(sql, tuple(params))
            return list(cur.fetchall())
        finally:
            cur.close()


def _esc_from(dialect: str) -> str:
    if dialect == "sqlite":
        return "json_extract(e.payload, '$.from_tier')"
    return "(e.payload::json ->> 'from_tier')"


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
) -> MetricsReport:
    """The :class:`MetricsReport` of the tickets stored in *conn*, aggregated by the database.

    *conn* is a DB-API connection holding supportkit's tables (``sqlite3`` or
    ``psycopg``); the options mean what they mean for
    :class:`~supportkit.metrics.MetricsCalculator`.
    """
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
    where, wparams = ["1 = 1"], []
    if since_:
        where.append("t.received_at >= ?")
        wparams.append(_us(since_))
    if until_:
        where.append("t.received_at < ?")
        wparams.append(_us(until_))
    win = " AND ".join(where)
    keys = [f"'{_TOTAL}'"] + ([group_sql(group_by, dialect)] if group_by else [])
    acc: dict[str, dict[str, Any]] = defaultdict(dict)
    hist = [0] * len(RESPONSE_HISTOGRAM)
    for gi, g in enumerate(keys):
        _flow(db, g, win, wparams, acc, hist if gi == 0 else None)
        for name, expr, cond, extra_from in _durations():
            _percentiles(db, g, expr, cond, extra_from, win, wparams, acc, name)
        _next_response(db, g, win, wparams, acc)
        _escalation(db, g, win, wparams, acc)
        _backlog(db, g, at_us, acc)
        if targets:
            _derived_sla(db, g, win, wparams, at_us, targets, acc, business)
    if business:
        _business(db, keys, win, wparams, at_us, calendar, cals, targets, acc)
    agent_load = _agent_load(db, at_us)
    start = since_ if since_ else at_ - timedelta(days=series_days)
    n = min(int((at_ - start) / timedelta(days=1)), 366) + 1
    p0 = at_us - (n - 1) * _DAY_US
    series = _series(db, p0, n)
    _feedback_and_outcomes(db, group_by, feedback, sla_outcomes, since_, until_, acc)
    results = {k: _result(k, v, business) for k, v in acc.items() if k != _TOTAL}
    total = _result("all", acc.get(_TOTAL, {}), business)
    if business:
        total = _with_business_defaults(total)
    return MetricsReport(
        at=at_,
        since=since_,
        until=until_,
        group_by=group_by,
        total=total,
        groups=tuple(results[k] for k in sorted(results)),
        agent_load=agent_load,
        backlog_series=series_points(p0, series),
        first_response_histogram=tuple(
            (label, c) for (_, label), c in zip(RESPONSE_HISTOGRAM, hist, strict=True)
        ),
        business_time=business,
    )


def _with_business_defaults(g: GroupMetrics) -> GroupMetrics:
    import attrs

    return attrs.evolve(
        g,
        first_response_business=g.first_response_business or DurationSummary(),
        resolution_business=g.resolution_business or DurationSummary(),
        next_response_business=g.next_response_business or DurationSummary(),
    )


def _flow(
    db: _Sql,
    g: str,
    win: str,
    wparams: list[Any],
    acc: dict[str, dict[str, Any]],
    hist: list[int] | None,
) -> None:
    frt = "(t.first_response_at - t.received_at)"
    hist_cols = ""
    if hist is not None:
        b = _bucket_sql(frt, RESPONSE_HISTOGRAM)
        hist_cols = ", " + ", ".join(
            f"SUM(CASE WHEN t.first_response_at IS NOT NULL AND {b} = {i} THEN 1 ELSE 0 END)"
            for i in range(len(RESPONSE_HISTOGRAM))
        )
    sql = f"""
        WITH ob AS (
            SELECT m.ticket_id, COUNT(*) AS n FROM sk_messages m
            WHERE m.direction = 'outbound' GROUP BY m.ticket_id
        )
        SELECT {g} AS g, COUNT(*),
            SUM(CASE WHEN t.resolved_at IS NOT NULL THEN 1 ELSE 0 END),
            SUM(CASE WHEN t.resolved_at IS NOT NULL AND t.reopen_count = 0 AND ob.n = 1
                THEN 1 ELSE 0 END),
            SUM(CASE WHEN t.resolved_at IS NOT NULL OR t.reopen_count > 0 THEN 1 ELSE 0 END),
            SUM(CASE WHEN t.reopen_count > 0 THEN 1 ELSE 0 END),
            SUM(CASE WHEN t.escalation_count > 0 THEN 1 ELSE 0 END){hist_cols}
        FROM sk_tickets t LEFT JOIN ob ON ob.ticket_id = t.id
        WHERE {win} GROUP BY {g}
    """
    for row in db.rows(sql, wparams):
        a = acc[row[0]]
        a["tickets"], a["resolved"], a["fcr"], a["reopen_den"], a["reopen"], a["esc"] = (
            int(x or 0) for x in row[1:7]
        )
        if hist is not None:
            for i, c in enumerate(row[7:]):
                hist[i] += int(c or 0)


def _durations() -> list[tuple[str, str, str, str]]:
    return [
        (
            "first_response",
            "t.first_response_at - t.received_at",
            "t.first_response_at IS NOT NULL",
            "",
        ),
        ("resolution", "t.resolved_at - t.received_at", "t.resolved_at IS NOT NULL", ""),
    ]


def _rank_filter() -> str:
    conds = []
    for p in PERCENTILES:
        lo = f"((n - 1) * {int(p)}) / 100"
        conds.append(f"rk = {lo}")
        conds.append(f"rk = {lo} + 1")
    return " OR ".join(conds)


def _summarise(rows: list[Any], acc: dict[str, dict[str, Any]], name: str) -> None:
    by_group: dict[str, dict[int, int]] = defaultdict(dict)
    meta: dict[str, tuple[int, float]] = {}
    for g, n, mean, rk, d in rows:
        by_group[g][int(rk)] = int(d)
        meta[g] = (int(n), float(mean))
    for g, ranks in by_group.items():
        n, mean = meta[g]
        pcts = []
        for p in PERCENTILES:
            lo, hi, frac = percentile_ranks(n, p)
            a, b = ranks[lo] / _US, ranks[hi] / _US
            pcts.append(a + (b - a) * frac)
        acc[g][name] = DurationSummary(n, mean / _US, *pcts)


def _percentiles(
    db: _Sql,
    g: str,
    expr: str,
    cond: str,
    extra_from: str,
    win: str,
    wparams: list[Any],
    acc: dict[str, dict[str, Any]],
    name: str,
) -> None:
    sql = f"""
        WITH v AS (SELECT {g} AS g, {expr} AS d FROM sk_tickets t{extra_from}
                   WHERE {win} AND {cond}),
        r AS (SELECT g, d, ROW_NUMBER() OVER (PARTITION BY g ORDER BY d) - 1 AS rk,
                     COUNT(*) OVER (PARTITION BY g) AS n,
                     AVG(d) OVER (PARTITION BY g) AS mean FROM v)
        SELECT g, n, mean, rk, d FROM r WHERE {_rank_filter()}
    """
    _summarise(db.rows(sql, wparams), acc, name)


def _waits_sql(g: str, win: str) -> str:
    """(g, start, end-or-NULL, channel) of every next-response wait of the window's tickets."""
    return f"""
        nm AS (
            SELECT m.ticket_id, m.seq, m.direction, m.created_at,
                LAG(m.direction) OVER (PARTITION BY m.ticket_id ORDER BY m.seq) AS prev,
                SUM(CASE WHEN m.direction = 'outbound' THEN 1 ELSE 0 END) OVER (
                    PARTITION BY m.ticket_id ORDER BY m.seq
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS outs
            FROM sk_messages m WHERE m.direction IN ('inbound', 'outbound')
        ),
        b AS (
            SELECT ticket_id, direction, created_at,
                LEAD(created_at) OVER (PARTITION BY ticket_id ORDER BY seq) AS nxt
            FROM nm
            WHERE (direction = 'inbound' AND prev = 'outbound')
               OR (direction = 'outbound' AND prev = 'inbound' AND outs > 0)
        ),
        w AS (
            SELECT {g} AS g, b.created_at AS s, b.nxt AS e, t.channel AS channel
            FROM b JOIN sk_tickets t ON t.id = b.ticket_id
            WHERE b.direction = 'inbound' AND {win}
        )
    """


def _next_response(
    db: _Sql, g: str, win: str, wparams: list[Any], acc: dict[str, dict[str, Any]]
) -> None:
    sql = f"""
        WITH {_waits_sql(g, win)},
        v AS (SELECT g, e - s AS d FROM w WHERE e IS NOT NULL),
        r AS (SELECT g, d, ROW_NUMBER() OVER (PARTITION BY g ORDER BY d) - 1 AS rk,
                     COUNT(*) OVER (PARTITION BY g) AS n,
                     AVG(d) OVER (PARTITION BY g) AS mean FROM v)
        SELECT g, n, mean, rk, d FROM r WHERE {_rank_filter()}
    """
    _summarise(db.rows(sql, wparams), acc, "next_response")


def _escalation(
    db: _Sql, g: str, win: str, wparams: list[Any], acc: dict[str, dict[str, Any]]
) -> None:
    frm = _esc_from(db.dialect)
    esc = f"""
        SELECT DISTINCT {g} AS g, t.id AS id, {frm} AS tier
        FROM sk_events e JOIN sk_tickets t ON t.id = e.ticket_id
        WHERE e.type = 'ticket.escalated' AND {win}
    """
    visited = f"""
        SELECT g, tier, COUNT(*) FROM (
            SELECT {g} AS g, t.id AS id, t.tier AS tier FROM sk_tickets t WHERE {win}
            UNION {esc}
        ) x GROUP BY g, tier
    """
    for grp, tier, n in db.rows(visited, [*wparams, *wparams]):
        acc[grp].setdefault("at_tier", Counter())[tier] = int(n)
    for grp, tier, n in db.rows(
        f"SELECT g, tier, COUNT(*) FROM ({esc}) x GROUP BY g, tier", wparams
    ):
        acc[grp].setdefault("esc_tier", Counter())[tier] = int(n)


_OPEN = (
    "t.received_at <= ? AND (t.resolved_at IS NULL OR t.resolved_at > ?) "
    "AND (t.closed_at IS NULL OR t.closed_at > ?)"
)


def _backlog(db: _Sql, g: str, at_us: int, acc: dict[str, dict[str, Any]]) -> None:
    b = _bucket_sql(f"({at_us} - t.received_at)", AGEING_BUCKETS)
    sql = f"SELECT {g} AS g, {b} AS b, COUNT(*) FROM sk_tickets t WHERE {_OPEN} GROUP BY 1, 2"
    for grp, bucket, n in db.rows(sql, [at_us] * 3):
        a = acc[grp]
        ageing = a.setdefault("ageing", [0] * len(AGEING_BUCKETS))
        ageing[int(bucket)] += int(n)
        a["backlog"] = a.get("backlog", 0) + int(n)


def _agent_load(db: _Sql, at_us: int) -> dict[str, int]:
    sql = (
        f"SELECT COALESCE(t.assignee_id, '{UNASSIGNED}'), COUNT(*) FROM sk_tickets t "
        f"WHERE {_OPEN} GROUP BY 1"
    )
    load = {str(a): int(n) for a, n in db.rows(sql, [at_us] * 3)}
    return dict(sorted(load.items(), key=lambda kv: (-kv[1], kv[0])))


def _series(db: _Sql, p0: int, n: int) -> list[int]:
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
            FROM sk_tickets t
        ) x WHERE k0 < {n} AND k0 < k1 GROUP BY k0, k1
    """
    diff = [0] * (n + 1)
    for k0, k1, c in db.rows(sql):
        diff[int(k0)] += int(c)
        diff[min(int(k1), n)] -= int(c)
    assert _ceil_days(0) == 0
    return diff


def _derived_sla(
    db: _Sql,
    g: str,
    win: str,
    wparams: list[Any],
    at_us: int,
    targets: Mapping[str, timedelta],
    acc: dict[str, dict[str, Any]],
    business: bool,
) -> None:
    if business:
        return  # measured in business time by _business

    def judged(start: str, end: str) -> tuple[str, str]:
        limit = _target_us(targets, name)
        met = f"({end} IS NOT NULL AND {end} <= {at_us} AND {end} - {start} <= {limit})"
        breached = (
            f"(({end} IS NOT NULL AND {end} <= {at_us} AND {end} - {start} > {limit}) OR "
            f"(({end} IS NULL OR {end} > {at_us}) AND {at_us} - {start} > {limit}))"
        )
        return met, breached

    for name in targets:
        if name == "next_response":
            met, breached = judged("s", "e")
            sql = f"""WITH {_waits_sql(g, win)}
                SELECT g, SUM(CASE WHEN {met} THEN 1 ELSE 0 END),
                          SUM(CASE WHEN {breached} THEN 1 ELSE 0 END) FROM w GROUP BY g"""
        else:
            end = "t.first_response_at" if name == "first_response" else "t.resolved_at"
            extra = (
                ""
                if name == "first_response"
                else (" AND (t.resolved_at IS NOT NULL OR t.closed_at IS NULL)")
            )
            met, breached = judged("t.received_at", end)
            sql = f"""SELECT {g} AS g, SUM(CASE WHEN {met} THEN 1 ELSE 0 END),
                          SUM(CASE WHEN {breached} THEN 1 ELSE 0 END)
                      FROM sk_tickets t WHERE {win}{extra} GROUP BY {g}"""
        for grp, m, b in db.rows(sql, wparams):
            sla = acc[grp].setdefault("sla", {})
            old = sla.get(name, (0, 0))
            sla[name] = (old[0] + int(m or 0), old[1] + int(m or 0) + int(b or 0))


def _target_us(targets: Mapping[str, timedelta], name: str) -> int:
    d = targets[name]
    return (d.days * 86_400 + d.seconds) * _US + d.microseconds


def _business(
    db: _Sql,
    keys: list[str],
    win: str,
    wparams: list[Any],
    at_us: int,
    calendar: BusinessCalendar | None,
    cals: Mapping[str, BusinessCalendar],
    targets: Mapping[str, timedelta],
    acc: dict[str, dict[str, Any]],
) -> None:
    """Business-time durations and SLA outcomes: pairs fetched, measured with the calendar."""
    from ._calc import _EPOCH

    def dt(us: int) -> datetime:
        return _EPOCH + timedelta(microseconds=int(us))

    at = dt(at_us)
    for g in keys:
        values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        outcomes: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)

        def judge(
            grp: str,
            cal: BusinessCalendar,
            name: str,
            s: datetime,
            e: datetime | None,
            outcomes: dict[str, Counter[tuple[str, bool]]] = outcomes,
        ) -> None:
            if name not in targets:
                return
            limit = targets[name].total_seconds()
            if e is not None and e <= at:
                outcomes[grp][(name, cal.business_time_between(s, e).total_seconds() <= limit)] += 1
            elif cal.business_time_between(s, at).total_seconds() > limit:
                outcomes[grp][(name, False)] += 1

        rows = db.rows(
            f"SELECT {g}, t.channel, t.received_at, t.first_response_at, t.resolved_at, "
            f"t.closed_at FROM sk_tickets t WHERE {win}",
            wparams,
        )
        for grp, channel, rec, frt, res, closed in rows:
            cal = cals.get(channel, calendar)
            if cal is None:
                continue
            r = dt(rec)
            if frt is not None:
                values[grp]["first_response_business"].append(
                    cal.business_time_between(r, dt(frt)).total_seconds()
                )
            if res is not None:
                values[grp]["resolution_business"].append(
                    cal.business_time_between(r, dt(res)).total_seconds()
                )
            judge(grp, cal, "first_response", r, dt(frt) if frt is not None else None)
            if res is not None or closed is None:
                judge(grp, cal, "resolution", r, dt(res) if res is not None else None)
        for grp, s, e, channel in db.rows(
            f"WITH {_waits_sql(g, win)} SELECT g, s, e, channel FROM w", wparams
        ):
            cal = cals.get(channel, calendar)
            if cal is None:
                continue
            if e is not None:
                values[grp]["next_response_business"].append(
                    cal.business_time_between(dt(s), dt(e)).total_seconds()
                )
            judge(grp, cal, "next_response", dt(s), dt(e) if e is not None else None)
        for grp, metrics in values.items():
            for name, vals in metrics.items():
                acc[grp][name] = DurationSummary.of(vals)
        for grp, counts in outcomes.items():
            sla = acc[grp].setdefault("sla", {})
            for (name, met), c in counts.items():
                old = sla.get(name, (0, 0))
                sla[name] = (old[0] + (c if met else 0), old[1] + c)


def _feedback_and_outcomes(
    db: _Sql,
    group_by: str | None,
    feedback: Iterable[FeedbackRecord],
    outcomes: Iterable[SlaOutcome],
    since: datetime | None,
    until: datetime | None,
    acc: dict[str, dict[str, Any]],
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
        for grp in (_TOTAL, keys.get(f.ticket_id)) if group_by else (_TOTAL,):
            if grp is None:
                continue
            c = acc[grp].setdefault("csat", [0, 0, 0])
            c[0] += 1
            c[1] += f.csat >= 4
            c[2] += f.csat
            if f.nps is not None:
                nps = acc[grp].setdefault("nps", [0, 0, 0])
                nps[0] += 1
                nps[1] += f.nps >= 9
                nps[2] += f.nps <= 6
    for o in oc:
        for grp in (_TOTAL, keys.get(o.ticket_id)) if group_by else (_TOTAL,):
            if grp is None:
                continue
            sla = acc[grp].setdefault("sla", {})
            old = sla.get(o.target, (0, 0))
            sla[o.target] = (old[0] + o.met, old[1] + 1)


def _result(key: str, a: dict[str, Any], business: bool) -> GroupMetrics:
    at_tier: Counter[str] = a.get("at_tier", Counter())
    esc_tier: Counter[str] = a.get("esc_tier", Counter())
    sla: dict[str, tuple[int, int]] = a.get("sla", {})
    ageing = a.get("ageing", [0] * len(AGEING_BUCKETS))
    resolved = a.get("resolved", 0)

    def biz(name: str) -> DurationSummary | None:
        return a.get(name, DurationSummary()) if business else None

    return GroupMetrics(
        key=key,
        tickets=a.get("tickets", 0),
        resolved=resolved,
        first_response=a.get("first_response", DurationSummary()),
        resolution=a.get("resolution", DurationSummary()),
        next_response=a.get("next_response", DurationSummary()),
        first_response_business=biz("first_response_business"),
        resolution_business=biz("resolution_business"),
        next_response_business=biz("next_response_business"),
        first_contact_resolution=Rate(a.get("fcr", 0), resolved),
        reopen=Rate(a.get("reopen", 0), a.get("reopen_den", 0)),
        escalation=Rate(a.get("esc", 0), a.get("tickets", 0)),
        escalation_by_tier={t: Rate(esc_tier[t], at_tier[t]) for t in sorted(at_tier)},
        csat=CsatSummary(*a.get("csat", (0, 0, 0))),
        nps=NpsSummary(*a.get("nps", (0, 0, 0))),
        sla={t: Rate(*sla[t]) for t in SLA_TARGETS if t in sla and sla[t][1]},
        backlog=a.get("backlog", 0),
        ageing={label: n for (_, label), n in zip(AGEING_BUCKETS, ageing, strict=True)},
    )
