"""The SQL of :func:`~supportkit.metrics.sql_metrics`, built from the domain's definitions.

Each fragment below is the SQL form of one definition in
:mod:`supportkit.domain._definitions` (what a response is, which closings
leave the SLA, when a ticket is open), built from the same constants, so the
SQL and the streaming calculator cannot drift apart by a forgotten edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..domain._definitions import AUTOMATED, DONE_STATUSES, EXCLUDED_CLOSINGS
from ..domain._errors import ValidationError
from ._records import DIMENSIONS, NO_KIND, NO_TEAM, UNASSIGNED
from ._stats import percentile_ranks

__all__ = [
    "PERCENTS",
    "TOTAL",
    "bucket_sql",
    "excluded_sql",
    "group_sql",
    "human_sql",
    "in_list",
    "judged_sql",
    "one_response_sql",
    "ranks_sql",
    "waits_sql",
    "wanted_ranks",
]

_US = 1_000_000
#: the group key of "everything" (and of feedback on tickets the database does not have)
TOTAL = "__supportkit_total__"


def lit(value: str) -> str:
    """*value* as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def in_list(values: Iterable[str]) -> str:
    """``('a', 'b')`` for ``IN``; ``(NULL)`` (matching nothing) for no values."""
    items = [lit(v) for v in sorted(values)]
    return f"({', '.join(items)})" if items else "(NULL)"


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
        return lit(TOTAL)
    if by == "channel":
        return f"{a}.channel"
    if by == "tier":
        return f"{a}.tier"
    if by == "team":
        return f"COALESCE({a}.team_id, {lit(NO_TEAM)})"
    if by == "agent":
        return f"COALESCE({a}.assignee_id, {lit(UNASSIGNED)})"
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
        return f"COALESCE({kind}, {lit(NO_KIND)})"
    if by in ("day", "week", "month"):
        return _day(f"{a}.received_at", dialect, by)
    raise ValidationError(f"cannot group by {by!r}; use one of {list(DIMENSIONS)}")


def bucket_sql(expr: str, buckets: Sequence[tuple[float, str]]) -> str:
    whens = " ".join(
        f"WHEN {expr} < {int(upper * _US)} THEN {i}" for i, (upper, _) in enumerate(buckets[:-1])
    )
    return f"CASE {whens} ELSE {len(buckets) - 1} END"


def human_sql(dialect: str, alias: str = "m") -> str:
    """A message not marked automated (``meta.automated`` is the stored decision)."""
    if dialect == "sqlite":
        flag = f"json_extract({alias}.meta, '$.{AUTOMATED}') IS NOT 1"
    else:
        flag = f"({alias}.meta::json ->> '{AUTOMATED}') IS DISTINCT FROM 'true'"
    return f"({alias}.meta = '{{}}' OR {flag})"


def one_response_sql(dialect: str, ticket: str = "t") -> str:
    """The ticket *ticket* has exactly one response (human public reply): a correlated
    look-up of at most two of its messages through ``sk_messages (ticket_id, seq)``."""
    return (
        "(SELECT COUNT(*) FROM (SELECT 1 FROM sk_messages m "
        f"WHERE m.ticket_id = {ticket}.id AND m.direction = 'outbound' AND {human_sql(dialect)} "
        "LIMIT 2) two) = 1"
    )


def excluded_sql(at_us: int) -> str:
    """``ex(ticket_id)``: tickets closed with an excluded closing at or before the instant."""
    return (
        "SELECT DISTINCT h.ticket_id FROM sk_history h "
        f"WHERE h.event IN {in_list(EXCLUDED_CLOSINGS)} AND h.at <= {at_us}"
    )


def crossing_sql(alias: str = "h") -> tuple[str, str]:
    """(condition, delta): a status change that enters (-1) or leaves (+1) a done status."""
    done = in_list(DONE_STATUSES)
    was = f"(CASE WHEN {alias}.from_status IN {done} THEN 1 ELSE 0 END)"
    now = f"(CASE WHEN {alias}.to_status IN {done} THEN 1 ELSE 0 END)"
    return f"{was} <> {now}", f"{was} - {now}"


def judged_sql(start: str, end: str, at_us: int, limit: int) -> tuple[str, str]:
    """(met, breached) conditions of a target *limit* (µs) measured in clock time."""
    met = f"({end} IS NOT NULL AND {end} <= {at_us} AND {end} - {start} <= {limit})"
    breached = (
        f"(({end} IS NOT NULL AND {end} <= {at_us} AND {end} - {start} > {limit}) OR "
        f"(({end} IS NULL OR {end} > {at_us}) AND {at_us} - {start} > {limit}))"
    )
    return met, breached


def waits_sql(dialect: str) -> str:
    """CTEs ending in ``w(ticket_id, s, e)``: every next-response wait (``e`` NULL: unanswered).

    Over the human messages (notes and automated ones left out), a wait starts
    at an inbound message whose previous message is outbound and ends at the
    next outbound one. Boundaries (starts, and outbound messages right after
    an inbound one) alternate, so the end of a wait is the boundary after it.
    """
    return f"""
        nm AS (
            SELECT m.ticket_id, m.seq, m.direction, m.created_at,
                LAG(m.direction) OVER (PARTITION BY m.ticket_id ORDER BY m.seq) AS prev
            FROM sk_messages m
            WHERE m.direction IN ('inbound', 'outbound') AND {human_sql(dialect)}
        ),
        b AS (
            SELECT ticket_id, direction, created_at,
                LEAD(created_at) OVER (PARTITION BY ticket_id ORDER BY seq) AS nxt
            FROM nm
            WHERE (direction = 'inbound' AND prev = 'outbound')
               OR (direction = 'outbound' AND prev = 'inbound')
        ),
        w AS (SELECT ticket_id, created_at AS s, nxt AS e FROM b WHERE direction = 'inbound')
    """


#: The percentiles reported, as whole numbers so the ranks are exact integer arithmetic.
PERCENTS = (50, 90, 95)


def wanted_ranks(n: int) -> set[int]:
    """The 0-based ranks the reported percentiles of *n* values interpolate between."""
    out: set[int] = set()
    for p in PERCENTS:
        lo, hi, _ = percentile_ranks(n, p)
        out.update((lo, hi))
    return out


def _rank_condition(rk: str, n: str) -> str:
    return " OR ".join(
        f"{rk} = (({n} - 1) * {p}) / 100 OR {rk} = (({n} - 1) * {p}) / 100 + 1" for p in PERCENTS
    )


def ranks_sql(
    values: str,
    *,
    counts: Mapping[str, int] | None = None,
    total: bool = False,
    total_count: int = 0,
    sums: Sequence[str] = (),
    carry: Sequence[str] = (),
    keep: str | None = None,
) -> str:
    """Rank the ``(g, d, ...)`` rows of the query *values* (``d`` NULL: no duration, ranked
    last) and keep only the rows a percentile interpolates between.

    Returns ``(g, n, s, rk, rk_all, d, *sums, *carry)``: ``rk`` ranks ``d`` in its group,
    ``rk_all`` (with *total*) among all rows, ``n`` and ``s`` are the count and sum of the
    group's durations, each of *sums* the group's sum of that expression, and *carry* the
    row's own columns. With *counts* (the groups' counts, and *total_count*, known from an
    earlier aggregate) the database sorts once per ranking and counts nothing, and ``n``,
    ``s`` are NULL. Without them every group keeps at least its first row, so its count and
    sums come back even when it has no duration. *keep*: a condition on *values*' columns
    that keeps a row whatever its rank (the caller tells the rows apart by *carry*).
    """
    order = "ORDER BY d NULLS LAST"
    cols = [f"ROW_NUMBER() OVER (PARTITION BY g {order}) - 1 AS rk"]
    cols.append(f"ROW_NUMBER() OVER ({order}) - 1 AS rk_all" if total else "NULL AS rk_all")
    if counts is None:
        cols += ["COUNT(d) OVER (PARTITION BY g) AS n", "SUM(d) OVER (PARTITION BY g) AS s"]
        where = [_rank_condition("rk", "n")]
        if total:
            cols.append("COUNT(d) OVER () AS n_all")
            where.append(_rank_condition("rk_all", "n_all"))
    else:
        cols += ["NULL AS n", "NULL AS s"]
        group_ranks = set().union(*(wanted_ranks(n) for n in counts.values() if n))
        where = [f"rk IN ({', '.join(map(str, sorted(group_ranks or {0})))})"]
        if total:
            total_ranks = wanted_ranks(total_count) if total_count else {0}
            where.append(f"rk_all IN ({', '.join(map(str, sorted(total_ranks)))})")
    cols += [f"SUM({x}) OVER (PARTITION BY g) AS sum_{i}" for i, x in enumerate(sums)]
    cols += [f"{c} AS carry_{i}" for i, c in enumerate(carry)]
    if keep is not None:
        cols.append(f"CASE WHEN {keep} THEN 1 ELSE 0 END AS kept")
        where.append("kept = 1")
    extra = "".join(f", sum_{i}" for i in range(len(sums)))
    extra += "".join(f", carry_{i}" for i in range(len(carry)))
    return f"""
        SELECT g, n, s, rk, rk_all, d{extra} FROM (
            SELECT g, d, {", ".join(cols)} FROM ({values}) v
        ) r WHERE {" OR ".join(f"({w})" for w in where)}
    """
