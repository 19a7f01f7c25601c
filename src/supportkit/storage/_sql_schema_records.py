"""Core schema version 2: typed tables for SLA clocks, deliveries and used feedback tokens.

Their rows lived in ``sk_kv`` before (namespaces ``sla``, ``sla.history``,
``supportkit.delivery``, ``supportkit.delivery.external``,
``feedback-tokens``); the migration moves them in the same transaction.
"""

from __future__ import annotations

__all__ = ["core_v2"]


def core_v2(dialect: str) -> list[str]:
    """The statements of core version 2 for *dialect* (``sqlite`` or ``postgresql``)."""
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    if dialect == "sqlite":

        def field(path: str) -> str:
            return f"json_extract(value, '$.{path}')"

        excluded = "COALESCE(json_extract(value, '$.excluded'), 0)"
        used_at = (
            "CAST(ROUND((julianday(json_extract(value, '$.used_at')) - 2440587.5) * 86400000) "
            "AS INTEGER) * 1000"
        )
    else:

        def field(path: str) -> str:
            *parents, leaf = path.split(".")
            return "(value::jsonb" + "".join(f"->'{p}'" for p in parents) + f"->>'{leaf}')"

        excluded = "COALESCE((value::jsonb->>'excluded')::boolean::int, 0)"
        used_at = "(EXTRACT(EPOCH FROM (value::jsonb->>'used_at')::timestamptz) * 1000000)::bigint"
    return [
        """CREATE TABLE sk_sla_clocks (
            key TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            archived INTEGER NOT NULL,
            excluded INTEGER NOT NULL,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX sk_sla_clocks_ticket ON sk_sla_clocks (ticket_id, archived)",
        """CREATE TABLE sk_deliveries (
            id TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            status TEXT NOT NULL,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX sk_deliveries_ticket ON sk_deliveries (ticket_id)",
        """CREATE TABLE sk_delivery_ids (
            external_id TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            delivery_id TEXT NOT NULL
        )""",
        f"""CREATE TABLE sk_feedback_tokens (
            token_id TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            used_at {big} NOT NULL
        )""",
        "INSERT INTO sk_sla_clocks (key, ticket_id, kind, archived, excluded, data) "
        f"SELECT key, {field('ticket_id')}, {field('kind')}, "
        f"CASE WHEN namespace = 'sla' THEN 0 ELSE 1 END, {excluded}, value "
        "FROM sk_kv WHERE namespace IN ('sla', 'sla.history')",
        "INSERT INTO sk_deliveries (id, ticket_id, status, data) "
        f"SELECT key, {field('outbound.ticket_id')}, {field('status')}, value "
        "FROM sk_kv WHERE namespace = 'supportkit.delivery'",
        "INSERT INTO sk_delivery_ids (external_id, ticket_id, delivery_id) "
        f"SELECT key, {field('ticket_id')}, COALESCE({field('delivery_id')}, '') "
        "FROM sk_kv WHERE namespace = 'supportkit.delivery.external'",
        "INSERT INTO sk_feedback_tokens (token_id, ticket_id, used_at) "
        f"SELECT key, {field('ticket_id')}, {used_at} "
        "FROM sk_kv WHERE namespace = 'feedback-tokens'",
        "DELETE FROM sk_kv WHERE namespace IN ('sla', 'sla.history', 'supportkit.delivery', "
        "'supportkit.delivery.external', 'feedback-tokens')",
    ]
