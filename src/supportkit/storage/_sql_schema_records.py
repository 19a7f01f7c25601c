"""Core schema version 2: typed tables for SLA clocks, deliveries and used feedback tokens.

Their rows lived in ``sk_kv`` before (namespaces ``sla``, ``sla.history``,
``supportkit.delivery``, ``supportkit.delivery.external``,
``feedback-tokens``); the migration moves them in the same transaction.
"""

from __future__ import annotations

__all__ = [
    "ACK_NAMESPACE",
    "DESK",
    "EMAIL_CURSORS",
    "FEEDBACK_NAMESPACE",
    "FORWARD_CURSORS",
    "core_v2",
    "core_v4",
    "core_v5",
]

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


#: the kv namespaces core version 4 moves into typed tables
ACK_NAMESPACE = "supportkit.notify.ack"
FEEDBACK_NAMESPACE = "feedback"


def core_v4(dialect: str) -> list[str]:
    """Core version 4: feedback answers and automatic acknowledgements in typed tables.

    Feedback answers lived in the ``feedback`` kv namespace as
    ``{ticket_id, csat, nps, comment, at}`` (only entries of that shape move: a
    host's own keys there stay); acknowledgements in ``supportkit.notify.ack`` as
    a JSON list of ISO instants per sender. Instants become integer microseconds,
    exactly (offsets applied).
    """
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    if dialect == "sqlite":

        def us(iso: str) -> str:
            return (
                f"(CAST(strftime('%s', {iso}) AS INTEGER) * 1000000 + CASE WHEN "
                f"substr({iso}, 20, 1) = '.' THEN CAST(substr({iso}, 21, 6) AS INTEGER) ELSE 0 END)"
            )

        def field(name: str) -> str:
            return f"json_extract(value, '$.{name}')"

        is_answer = (
            "json_valid(value) AND json_type(value) = 'object' "
            "AND json_type(value, '$.csat') = 'integer' AND json_type(value, '$.at') = 'text'"
        )
        ack_rows = (
            f"SELECT k.desk, k.key, {us('j.value')} FROM sk_kv k, json_each(k.value) j "
            f"WHERE k.namespace = '{ACK_NAMESPACE}' AND json_valid(k.value) "
            "AND json_type(k.value) = 'array' AND j.type = 'text'"
        )
    else:

        def us(iso: str) -> str:
            return f"(EXTRACT(EPOCH FROM ({iso})::timestamptz) * 1000000)::bigint"

        def field(name: str) -> str:
            return f"(value::jsonb->>'{name}')"

        is_answer = (
            "jsonb_typeof(value::jsonb) = 'object' "
            "AND jsonb_typeof(value::jsonb->'csat') = 'number' "
            "AND jsonb_typeof(value::jsonb->'at') = 'string'"
        )
        ack_rows = (
            f"SELECT k.desk, k.key, {us('j.v')} FROM sk_kv k, "
            "jsonb_array_elements_text(k.value::jsonb) AS j(v) "
            f"WHERE k.namespace = '{ACK_NAMESPACE}' AND jsonb_typeof(k.value::jsonb) = 'array'"
        )
    int_cast = "" if dialect == "sqlite" else "::integer"
    return [
        f"""CREATE TABLE sk_feedback_answers (
            {DESK},
            ticket_id TEXT NOT NULL,
            csat INTEGER NOT NULL,
            nps INTEGER,
            comment TEXT NOT NULL,
            at {big} NOT NULL,
            PRIMARY KEY (desk, ticket_id)
        )""",
        f"""CREATE TABLE sk_acknowledgements (
            {DESK},
            sender TEXT NOT NULL,
            at {big} NOT NULL
        )""",
        "CREATE INDEX sk_acknowledgements_sender ON sk_acknowledgements (desk, sender, at)",
        "INSERT INTO sk_feedback_answers (desk, ticket_id, csat, nps, comment, at) "
        f"SELECT desk, key, {field('csat')}{int_cast}, {field('nps')}{int_cast}, "
        f"COALESCE({field('comment')}, ''), {us(field('at'))} "
        f"FROM sk_kv WHERE namespace = '{FEEDBACK_NAMESPACE}' AND {is_answer}",
        f"DELETE FROM sk_kv WHERE namespace = '{FEEDBACK_NAMESPACE}' AND {is_answer}",
        f"INSERT INTO sk_acknowledgements (desk, sender, at) {ack_rows}",
        f"DELETE FROM sk_kv WHERE namespace = '{ACK_NAMESPACE}'",
    ]


#: the kv namespaces whose entries core version 5 moves into ``sk_cursors`` (the cursor's
#: name is ``<namespace>:<key>``)
EMAIL_CURSORS = "channels.email"
FORWARD_CURSORS = "supportkit.webhook.forward"


def core_v5(dialect: str) -> list[str]:
    """Core version 5: readers' cursors (IMAP positions, the webhook forwarder's) in a typed
    table, moved from the kv table in the migration's transaction."""
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    if dialect == "sqlite":
        name = "namespace || ':' || key"
        uid = "COALESCE(json_extract(value, '$.last_uid'), 0)"
        epoch = "CAST(json_extract(value, '$.uidvalidity') AS TEXT)"
        seq = "COALESCE(json_extract(value, '$.cursor'), 0)"
        rest = "json_remove(value, '$.cursor')"
        valid = "json_valid(value) AND json_type(value) = 'object'"
    else:
        name = "namespace || ':' || key"
        uid = "COALESCE((value::jsonb->>'last_uid')::bigint, 0)"
        epoch = "(value::jsonb->>'uidvalidity')"
        seq = "COALESCE((value::jsonb->>'cursor')::bigint, 0)"
        rest = "(value::jsonb - 'cursor')::text"
        valid = "jsonb_typeof(value::jsonb) = 'object'"
    return [
        f"""CREATE TABLE sk_cursors (
            {DESK},
            name TEXT NOT NULL,
            position {big} NOT NULL,
            epoch TEXT,
            state TEXT NOT NULL,
            PRIMARY KEY (desk, name)
        )""",
        "INSERT INTO sk_cursors (desk, name, position, epoch, state) "
        f"SELECT desk, {name}, {uid}, {epoch}, '{{}}' FROM sk_kv "
        f"WHERE namespace = '{EMAIL_CURSORS}' AND {valid}",
        "INSERT INTO sk_cursors (desk, name, position, epoch, state) "
        f"SELECT desk, {name}, {seq}, NULL, {rest} FROM sk_kv "
        f"WHERE namespace = '{FORWARD_CURSORS}' AND {valid}",
        f"DELETE FROM sk_kv WHERE namespace IN ('{EMAIL_CURSORS}', '{FORWARD_CURSORS}') "
        f"AND {valid}",
    ]
