"""The queries of :func:`~supportkit.metrics.sql_metrics` that need no calendar."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
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
    ranks_sql,
    responses_sql,
    rows_by_group,
    waits_sql,
)
from ._stats import AGEING_BUCKETS, RESPONSE_HISTOGRAM, DurationSummary, summary_from_ranks

if TYPE_CHECKING:
    from ._sql_acc import Acc, Query

__all__ = ["durations", "escalation", "flow", "open_at", "series", "waits_metrics"]

_DAY_US = 86_400_000_000
_US = 1_000_000


def _target_us(targets: Mapping[str, timedelta], name: str) -> int:
    d = targets[name]
    return (d.days * 86_400 + d.seconds) * _US + d.microseconds


def flow(q: Query, targets: Mapping[str, timedelta], acc: dict[str, Acc]) -> list[int]:
    """Counts and rates per group and current tier; the histogram; clock-time SLA sums."""
    frt = "(t.first_response_at - t.received_at)"
    b = bucket_sql(frt, RESPONSE_HISTOGRAM)
    cols = [
        "COUNT(*)",
        "SUM(CASE WHEN t.resolved_at IS NOT NULL THEN 1 ELSE 0 END)",
        # is_first_contact_resolution: resolved, one response, never reopened
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
    judged = f"ex.ticket_id IS NULL AND {q.clock_scope}"
    for name in sla_names:
        end = "t.first_response_at" if name == "first_response" else "t.resolved_at"
        met, breached = judged_sql("t.received_at", end, q.at_us, _target_us(targets, name))
        scope = (
            judged
            if name == "first_response"
            else f"{judged} AND (t.resolved_at IS NOT NULL OR t.closed_at IS NULL)"
        )
        cols.append(f"SUM(CASE WHEN {scope} AND {met} THEN 1 ELSE 0 END)")
        cols.append(f"SUM(CASE WHEN {scope} AND {breached} THEN 1 ELSE 0 END)")
    sql = f"""
        WITH ob AS ({responses_sql(q.dialect)}), ex AS ({excluded_sql(q.at_us)})
        SELECT {q.g} AS g, t.tier, {", ".join(cols)}
        FROM sk_tickets t LEFT JOIN ob ON ob.ticket_id = t.id
        LEFT JOIN ex ON ex.ticket_id = t.id
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


def _duration_sources(q: Query) -> dict[str, str]:
    """Per ranked metric: a query of ``(g, duration in µs)`` rows, one per ticket or wait."""
    return {
        "frt": f"SELECT {q.g} AS g, t.first_response_at - t.received_at AS d FROM sk_tickets t "
        f"WHERE {q.win} AND t.first_response_at IS NOT NULL",
        "res": f"SELECT {q.g} AS g, t.resolved_at - t.received_at AS d FROM sk_tickets t "
        f"WHERE {q.win} AND t.resolved_at IS NOT NULL",
        "nrt": f"SELECT {q.g} AS g, w.e - w.s AS d FROM w JOIN sk_tickets t ON t.id = w.ticket_id "
        f"WHERE {q.win} AND w.e IS NOT NULL",
    }


def durations(q: Query, grouped: bool) -> dict[str, dict[str, DurationSummary]]:
    """Count, mean and percentiles of the clock-time durations, ranked by the database.

    Grouped, the total is ranked on its own (percentiles do not add up).
    """
    out: dict[str, dict[str, DurationSummary]] = {}
    passes = [q, q.grouped(lit(TOTAL))] if grouped else [q]
    for name in ("frt", "res", "nrt"):
        out[name] = {}
        for p in passes:
            source = _duration_sources(p)[name]
            prefix = f"WITH {waits_sql(p.dialect)}" if name == "nrt" else ""
            rows = p.db.rows(f"{prefix} {ranks_sql(source)}", p.wparams)
            for g, (n, total, at_rank) in rows_by_group(rows).items():
                out[name][g] = summary_from_ranks(
                    n, total / _US, {k: v / _US for k, v in at_rank.items()}
                )
    return out


def waits_metrics(q: Query, targets: Mapping[str, timedelta], acc: dict[str, Acc]) -> list[Any]:
    """Clock-time next-response SLA sums; returns the waits a calendar measures
    ``(g, start, end or None, channel, excluded)``."""
    if "next_response" in targets:
        met, breached = judged_sql("w.s", "w.e", q.at_us, _target_us(targets, "next_response"))
        sql = f"""WITH {waits_sql(q.dialect)}, ex AS ({excluded_sql(q.at_us)})
            SELECT {q.g}, SUM(CASE WHEN {met} THEN 1 ELSE 0 END),
                SUM(CASE WHEN {breached} THEN 1 ELSE 0 END)
            FROM w JOIN sk_tickets t ON t.id = w.ticket_id LEFT JOIN ex ON ex.ticket_id = t.id
            WHERE {q.win} AND ex.ticket_id IS NULL AND {q.clock_scope} GROUP BY 1
        """
        for g, n_met, n_breached in q.db.rows(sql, q.wparams):
            acc[g].outcome("next_response", True, int(n_met or 0))
            acc[g].outcome("next_response", False, int(n_breached or 0))
    if not q.business:
        return []
    sql = f"""WITH {waits_sql(q.dialect)}, ex AS ({excluded_sql(q.at_us)})
        SELECT {q.g}, w.s, w.e, t.channel, ex.ticket_id IS NOT NULL
        FROM w JOIN sk_tickets t ON t.id = w.ticket_id LEFT JOIN ex ON ex.ticket_id = t.id
        WHERE {q.win} AND {q.business_scope}
    """
    return q.db.rows(sql, q.wparams)


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


def _done_by(at_us: int) -> str:
    """``x(ticket_id, d)``: how often each ticket entered a done status, less how often it
    left one, by the instant (1: done then, 0: open)."""
    crossing, delta = crossing_sql()
    return (
        f"SELECT h.ticket_id, -SUM({delta}) AS d FROM sk_history h "
        f"WHERE h.at <= {at_us} AND {crossing} GROUP BY h.ticket_id"
    )


def open_at(q: Query, acc: dict[str, Acc]) -> dict[str, int]:
    """Backlog and ageing per group, and the agent load, from one scan (the domain's
    :func:`~supportkit.domain.is_open_at`, over the stored history)."""
    b = bucket_sql(f"({q.at_us} - t.received_at)", AGEING_BUCKETS)
    sql = (
        f"SELECT {q.g}, {b}, COALESCE(t.assignee_id, {lit(UNASSIGNED)}), COUNT(*) "
        f"FROM sk_tickets t LEFT JOIN ({_done_by(q.at_us)}) x ON x.ticket_id = t.id "
        f"WHERE {q.scope} AND t.received_at <= {q.at_us} AND COALESCE(x.d, 0) = 0 "
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
            FROM sk_tickets t WHERE {q.scope} AND t.received_at <= {at}
            UNION ALL
            SELECT ({at} - h.at) / {_DAY_US}, {delta}
            FROM sk_history h JOIN sk_tickets t ON t.id = h.ticket_id
            WHERE {q.scope} AND h.at <= {at} AND {crossing}
        ) x GROUP BY back
    """
    changes: Counter[int] = Counter()
    for back, d in q.db.rows(sql):
        changes[min(int(back), MAX_SERIES_DAYS)] += int(d)
    first = q.db.rows(f"SELECT MIN(t.received_at) FROM sk_tickets t WHERE {q.scope}")[0][0]
    return (from_us(first) if first is not None else None), dict(changes)
