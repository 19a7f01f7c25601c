"""The queries of :func:`~supportkit.metrics.sql_metrics` that need no calendar."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..storage.sql import from_us
from ._calc import MAX_SERIES_DAYS
from ._records import UNASSIGNED
from ._sql_parts import (
    TOTAL,
    bucket_sql,
    crossing_sql,
    excluded_sql,
    judged_sql,
    lit,
    one_response_sql,
    ranks_sql,
    waits_sql,
)
from ._stats import AGEING_BUCKETS, RESPONSE_HISTOGRAM, DurationSummary, summary_from_ranks

if TYPE_CHECKING:
    from ._sql_acc import Acc, Query

__all__ = ["durations", "escalation", "flow", "open_at", "series"]

_DAY_US = 86_400_000_000
_US = 1_000_000


def _target_us(targets: Mapping[str, timedelta], name: str) -> int:
    d = targets[name]
    return (d.days * 86_400 + d.seconds) * _US + d.microseconds


def _cumulative_sql(expr: str, buckets: Sequence[tuple[float, str]]) -> list[str]:
    """How many values of *expr* fall below each bucket's upper bound (one comparison per
    bound, not a CASE per bucket; the buckets are the differences)."""
    return [f"COUNT(CASE WHEN {expr} < {int(upper * _US)} THEN 1 END)" for upper, _ in buckets[:-1]]


def flow(q: Query, targets: Mapping[str, timedelta], acc: dict[str, Acc]) -> list[int]:
    """Counts and rates per group and current tier; the histogram; clock-time SLA sums;
    the count and sum of first response and resolution times (for the ranks).

    One scan of the tickets, no sort unless grouped: the current tiers are counted by
    conditional counts (the tiers are read first from their index).
    """
    frt = "(t.first_response_at - t.received_at)"
    res = "(t.resolved_at - t.received_at)"
    tiers = [str(r[0]) for r in q.db.rows("SELECT DISTINCT tier FROM sk_tickets")]
    cols = [
        "COUNT(*)",
        "COUNT(t.resolved_at)",
        # is_first_contact_resolution: resolved, never reopened, one response
        "COUNT(CASE WHEN t.resolved_at IS NOT NULL AND t.reopen_count = 0 AND "
        f"{one_response_sql(q.dialect)} THEN 1 END)",
        "COUNT(CASE WHEN t.resolved_at IS NOT NULL OR t.reopen_count > 0 THEN 1 END)",
        "COUNT(CASE WHEN t.reopen_count > 0 THEN 1 END)",
        "COUNT(CASE WHEN t.escalation_count > 0 THEN 1 END)",
        "COUNT(t.first_response_at)",
        f"SUM({frt})",
        f"SUM({res})",
        *_cumulative_sql(frt, RESPONSE_HISTOGRAM),
        *(f"COUNT(CASE WHEN t.tier = {lit(tier)} THEN 1 END)" for tier in tiers),
    ]
    sla_names = [n for n in ("first_response", "resolution") if n in targets]
    judged = f"ex.ticket_id IS NULL AND {q.clock_scope}"
    for name in sla_names:
        end = "t.first_response_at" if name == "first_response" else "t.resolved_at"
        met, breached = judged_sql("t.received_at", end, q.at_us, _target_us(targets, name))
        scope = (
            judged
            if name == "first_response"
            else f"{judged} AND (t.resolved_at IS NOT NULL OR t.closed_at IS NULL)"
        )
        cols.append(f"COUNT(CASE WHEN {scope} AND {met} THEN 1 END)")
        cols.append(f"COUNT(CASE WHEN {scope} AND {breached} THEN 1 END)")
    sql = f"""
        WITH ex AS ({excluded_sql(q.at_us)})
        SELECT {q.g} AS g, {", ".join(cols)}
        FROM sk_tickets t LEFT JOIN ex ON ex.ticket_id = t.id
        WHERE {q.win} {"GROUP BY 1" if q.grouped_by else ""}
    """
    nh = len(RESPONSE_HISTOGRAM)
    hist = [0] * nh
    for row in q.db.rows(sql, q.wparams):
        a = acc[row[0]]
        values = [int(x or 0) for x in row[1:]]
        for name, v in zip(
            ("tickets", "resolved", "fcr", "reopen_den", "reopen", "esc", "frt_n", "frt_sum"),
            values,
            strict=False,
        ):
            a.ints[name] += v
        a.ints["res_n"] += values[1]
        a.ints["res_sum"] += values[8]
        below = [*values[9 : 9 + nh - 1], values[6]]
        for i in range(nh):
            hist[i] += below[i] - (below[i - 1] if i else 0)
        rest = values[9 + nh - 1 :]
        for tier, n in zip(tiers, rest, strict=False):
            if n:
                a.at_tier[tier] += n
        rest = rest[len(tiers) :]
        for k, name in enumerate(sla_names):
            a.outcome(name, True, rest[2 * k])
            a.outcome(name, False, rest[2 * k + 1])
    return hist


def _ranked(
    q: Query,
    prefix: str,
    source: str,
    counts: Mapping[str, int] | None,
    grouped: bool,
    sums: Sequence[str] = (),
    carry: Sequence[str] = (),
    keep: str | None = None,
) -> tuple[dict[str, _Ranked], _Ranked, list[Any]]:
    """Run :func:`ranks_sql` over *source*: per group and for the total, the count, the sum,
    the values at the wanted ranks and the sums of *sums*; and the *carry* columns of the
    rows *keep* selects (``(g, *carry)``)."""
    total_count = sum(counts.values()) if counts else 0
    sql = ranks_sql(
        source,
        counts=counts,
        total=grouped,
        total_count=total_count,
        sums=sums,
        carry=carry,
        keep=keep,
    )
    groups: dict[str, _Ranked] = {}
    total = _Ranked()
    kept: list[Any] = []
    nsums = len(sums)
    for g, n, s, rk, rk_all, d, *extra in q.db.rows(f"{prefix} {sql}", q.wparams):
        r = groups.get(g)
        if r is None:
            r = groups[g] = _Ranked()
            if counts is None:
                r.n, r.total = int(n), int(s or 0)
                r.sums = [int(x or 0) for x in extra[:nsums]]
        if d is not None:
            r.at_rank[int(rk)] = int(d)
            if rk_all is not None:
                total.at_rank[int(rk_all)] = int(d)
        if carry and extra[nsums]:  # the first carried column marks the kept rows
            kept.append((g, *extra[nsums + 1 :]))
    if counts is not None:
        for g, r in groups.items():
            r.n = counts.get(g, 0)
    return groups, total, kept


class _Ranked:
    """The values a percentile needs, and the count and sum of one set of durations."""

    def __init__(self) -> None:
        self.n = 0
        self.total = 0
        self.at_rank: dict[int, int] = {}
        self.sums: list[int] = []

    def summary(self) -> DurationSummary:
        at = {k: v / _US for k, v in self.at_rank.items()}
        return summary_from_ranks(self.n, self.total / _US, at)


def durations(
    q: Query, targets: Mapping[str, timedelta], acc: dict[str, Acc], grouped: bool
) -> list[Any]:
    """Count, mean and percentiles of the clock-time durations, ranked by the database, and
    the clock-time next-response SLA sums; returns the waits a calendar measures
    ``(g, start, end or None, channel, excluded)``.

    Grouped, the total is ranked on its own (percentiles do not add up), in the same
    statement. First response and resolution times are counted by :func:`flow`, so their
    ranking only sorts; the waits are enumerated once, for their ranks and SLA sums.
    """
    for name, end in (("frt", "t.first_response_at"), ("res", "t.resolved_at")):
        counts = {g: a.ints[f"{name}_n"] for g, a in acc.items()}
        sums = {g: a.ints[f"{name}_sum"] for g, a in acc.items()}
        source = (
            f"SELECT {q.g} AS g, {end} - t.received_at AS d FROM sk_tickets t "
            f"WHERE {q.win} AND {end} IS NOT NULL"
        )
        groups, total, _ = _ranked(q, "", source, counts, grouped)
        for g, r in groups.items():
            r.total = sums.get(g, 0)
            acc[g].summaries[name] = r.summary()
        if grouped:
            total.n, total.total = sum(counts.values()), sum(sums.values())
            acc[TOTAL].summaries[name] = total.summary()
    sla_sums: list[str] = []
    if "next_response" in targets:
        met, breached = judged_sql("s", "e", q.at_us, _target_us(targets, "next_response"))
        judged = "judged = 1"
        sla_sums = [
            f"CASE WHEN {judged} AND {met} THEN 1 ELSE 0 END",
            f"CASE WHEN {judged} AND {breached} THEN 1 ELSE 0 END",
        ]
    prefix = f"WITH {waits_sql(q.dialect)}, ex AS ({excluded_sql(q.at_us)})"
    source = (
        f"SELECT {q.g} AS g, w.s, w.e, w.e - w.s AS d, t.channel, "
        f"CASE WHEN ex.ticket_id IS NULL AND {q.clock_scope} THEN 1 ELSE 0 END AS judged, "
        "CASE WHEN ex.ticket_id IS NULL THEN 0 ELSE 1 END AS excluded, "
        f"CASE WHEN {q.business_scope} THEN 1 ELSE 0 END AS business "
        "FROM w JOIN sk_tickets t ON t.id = w.ticket_id LEFT JOIN ex ON ex.ticket_id = t.id "
        f"WHERE {q.win}"
    )
    # the waits a calendar measures come back in the same statement (enumerated once)
    carry = ("business", "s", "e", "channel", "excluded") if q.business else ()
    keep = "business = 1" if q.business else None
    groups, total, measured = _ranked(q, prefix, source, None, grouped, sla_sums, carry, keep)
    for g, r in groups.items():
        acc[g].summaries["nrt"] = r.summary()
        if sla_sums:
            acc[g].outcome("next_response", True, r.sums[0])
            acc[g].outcome("next_response", False, r.sums[1])
    if grouped:
        total.n = sum(r.n for r in groups.values())
        total.total = sum(r.total for r in groups.values())
        acc[TOTAL].summaries["nrt"] = total.summary()
    return measured


def escalation(q: Query, acc: dict[str, Acc]) -> None:
    """Tickets escalated out of each tier; those not at it now join the tier's denominator."""
    frm = (
        "json_extract(e.payload, '$.from_tier')"
        if q.dialect == "sqlite"
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


def _done_by(q: Query) -> str:
    """``x(ticket_id, d)``: how often each of the desk's tickets entered a done status, less
    how often it left one, by the instant (1: done then, 0: open)."""
    crossing, delta = crossing_sql()
    return (
        f"SELECT h.ticket_id, -SUM({delta}) AS d FROM sk_history h "
        f"WHERE {q.history_scope} AND h.at <= {q.at_us} AND {crossing} GROUP BY h.ticket_id"
    )


def open_at(q: Query, acc: dict[str, Acc]) -> dict[str, int]:
    """Backlog and ageing per group, and the agent load, from one scan (the domain's
    :func:`~supportkit.domain.is_open_at`, over the stored history)."""
    b = bucket_sql(f"({q.at_us} - t.received_at)", AGEING_BUCKETS)
    sql = (
        f"SELECT {q.g}, {b}, COALESCE(t.assignee_id, {lit(UNASSIGNED)}), COUNT(*) "
        f"FROM sk_tickets t LEFT JOIN ({_done_by(q)}) x ON x.ticket_id = t.id "
        # +received_at: most tickets were received by the instant; scan, do not seek
        f"WHERE {q.scope} AND +t.received_at <= {q.at_us} AND COALESCE(x.d, 0) = 0 "
        "GROUP BY 1, 2, 3"
    )
    load: Counter[str] = Counter()
    for g, bucket, agent, n in q.db.rows(sql):
        a = acc[g]
        a.ageing[int(bucket)] += int(n)
        a.ints["backlog"] += int(n)
        load[str(agent)] += int(n)
    return dict(sorted(load.items(), key=lambda kv: (-kv[1], kv[0])))


def series(q: Query) -> tuple[Any, dict[int, int]]:
    """The first reception instant, and the backlog changes by whole days before the instant
    (see :func:`~supportkit.metrics._calc.series_points`)."""
    crossing, delta = crossing_sql()
    at = q.at_us
    sql = f"""
        SELECT back, SUM(delta) FROM (
            SELECT ({at} - t.received_at) / {_DAY_US} AS back, 1 AS delta
            FROM sk_tickets t WHERE {q.scope} AND +t.received_at <= {at}
            UNION ALL
            SELECT ({at} - h.at) / {_DAY_US}, {delta}
            FROM sk_history h WHERE {q.history_scope} AND h.at <= {at} AND {crossing}
        ) x GROUP BY back
    """
    changes: Counter[int] = Counter()
    for back, d in q.db.rows(sql):
        changes[min(int(back), MAX_SERIES_DAYS)] += int(d)
    first = q.db.rows(f"SELECT MIN(t.received_at) FROM sk_tickets t WHERE {q.scope}")[0][0]
    return (from_us(first) if first is not None else None), dict(changes)
