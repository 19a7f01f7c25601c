"""Core schema version 2: typed tables for SLA clocks, deliveries and used feedback tokens.

Their rows lived in ``sk_kv`` before (namespaces ``sla``, ``sla.history``,
``supportkit.delivery``, ``supportkit.delivery.external``,
``feedback-tokens``); the migration moves them in the same transaction.
"""

from __future__ import annotations

__all__ = ["DESK", "core_v2"]

#: every row carries the key of the desk it belongs to (many desks may share one database)
DESK = "desk TEXT NOT NULL DEFAULT 'default'"


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
        f"""CREATE TABLE sk_sla_clocks (
            {DESK},
            key TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            archived INTEGER NOT NULL,
            excluded INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (desk, key)
        )""",
        "CREATE INDEX sk_sla_clocks_ticket ON sk_sla_clocks (ticket_id, archived)",
        f"""CREATE TABLE sk_deliveries (
            {DESK},
            id TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            status TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (desk, id)
        )""",
        "CREATE INDEX sk_deliveries_ticket ON sk_deliveries (ticket_id)",
        f"""CREATE TABLE sk_delivery_ids (
            {DESK},
            external_id TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            delivery_id TEXT NOT NULL,
            PRIMARY KEY (desk, external_id)
        )""",
        f"""CREATE TABLE sk_feedback_tokens (
            {DESK},
            token_id TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            used_at {big} NOT NULL,
            PRIMARY KEY (desk, token_id)
        )""",
        "INSERT INTO sk_sla_clocks (desk, key, ticket_id, kind, archived, excluded, data) "
        f"SELECT desk, key, {field('ticket_id')}, {field('kind')}, "
        f"CASE WHEN namespace = 'sla' THEN 0 ELSE 1 END, {excluded}, value "
        "FROM sk_kv WHERE namespace IN ('sla', 'sla.history')",
        "INSERT INTO sk_deliveries (desk, id, ticket_id, status, data) "
        f"SELECT desk, key, {field('outbound.ticket_id')}, {field('status')}, value "
        "FROM sk_kv WHERE namespace = 'supportkit.delivery'",
        "INSERT INTO sk_delivery_ids (desk, external_id, ticket_id, delivery_id) "
        f"SELECT desk, key, {field('ticket_id')}, COALESCE({field('delivery_id')}, '') "
        "FROM sk_kv WHERE namespace = 'supportkit.delivery.external'",
        "INSERT INTO sk_feedback_tokens (desk, token_id, ticket_id, used_at) "
        f"SELECT desk, key, {field('ticket_id')}, {used_at} "
        "FROM sk_kv WHERE namespace = 'feedback-tokens'",
        "DELETE FROM sk_kv WHERE namespace IN ('sla', 'sla.history', 'supportkit.delivery', "
        "'supportkit.delivery.external', 'feedback-tokens')",
    ]
