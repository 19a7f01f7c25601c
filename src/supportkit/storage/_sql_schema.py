"""The SQL schema of supportkit, versioned per component, for SQLite and PostgreSQL.

Each component (``core`` here; extensions may add their own) owns an
ordered list of migrations; ``sk_schema`` records the version each
component is at, so upgrading a database applies only what is new, in one
transaction. Timestamps are stored as integer microseconds since the Unix
epoch (UTC): exact, sortable, and cheap to aggregate in SQL on both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ._sql_schema_records import DESK, core_v2, core_v4, core_v5

__all__ = ["CORE_MIGRATIONS", "Migration", "SchemaComponent"]


@attrs.frozen
class Migration:
    """One schema step: statements per dialect (``"sqlite"``, ``"postgresql"``)."""

    version: int
    description: str
    sqlite: Sequence[str]
    postgresql: Sequence[str]

    def statements(self, dialect: str) -> Sequence[str]:
        return self.sqlite if dialect == "sqlite" else self.postgresql


@attrs.frozen
class SchemaComponent:
    """A named, versioned part of the schema (a plugin may ship its own)."""

    name: str
    migrations: Sequence[Migration]
    after_migrate: Callable[[Any], None] | None = None


def _core_v1(dialect: str) -> list[str]:
    pk_seq = "INTEGER PRIMARY KEY" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    # SQLite: the ticket number is the rowid, so a new ticket maintains one index less
    ticket_keys = (
        "number INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE"
        if dialect == "sqlite"
        else "id TEXT PRIMARY KEY, number BIGINT NOT NULL UNIQUE"
    )
    stmts = [
        f"""CREATE TABLE sk_tickets (
            {ticket_keys},
            {DESK},
            subject TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            status TEXT NOT NULL,
            priority INTEGER NOT NULL,
            category TEXT,
            tier TEXT NOT NULL,
            team_id TEXT,
            assignee_id TEXT,
            tags TEXT NOT NULL,
            custom_fields TEXT NOT NULL,
            language TEXT NOT NULL,
            lifecycle TEXT NOT NULL,
            version INTEGER NOT NULL,
            received_at {big} NOT NULL,
            registered_at {big},
            first_response_at {big},
            last_customer_message_at {big},
            resolved_at {big},
            closed_at {big},
            updated_at {big},
            resolution TEXT,
            close_reason TEXT,
            reopen_count INTEGER NOT NULL DEFAULT 0,
            escalation_count INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX sk_tickets_status ON sk_tickets (status, number)",
        "CREATE INDEX sk_tickets_customer ON sk_tickets (customer_id, number)",
        # single-column: a status change then rewrites only the status index
        "CREATE INDEX sk_tickets_assignee ON sk_tickets (assignee_id)",
        "CREATE INDEX sk_tickets_team ON sk_tickets (team_id)",
        "CREATE INDEX sk_tickets_tier ON sk_tickets (tier)",
        "CREATE INDEX sk_tickets_received ON sk_tickets (received_at)",
        f"""CREATE TABLE sk_messages (
            seq {pk_seq},
            {DESK},
            id TEXT NOT NULL UNIQUE,
            ticket_id TEXT NOT NULL,
            direction TEXT NOT NULL,
            channel TEXT NOT NULL,
            author TEXT NOT NULL,
            text TEXT NOT NULL,
            html TEXT,
            attachments TEXT NOT NULL,
            external_id TEXT,
            in_reply_to TEXT,
            meta TEXT NOT NULL,
            created_at {big} NOT NULL
        )""",
        "CREATE INDEX sk_messages_ticket ON sk_messages (ticket_id, seq)",
        # partial: replies without an external id do not touch it
        "CREATE UNIQUE INDEX sk_messages_external ON sk_messages (desk, external_id) "
        "WHERE external_id IS NOT NULL",
        f"""CREATE TABLE sk_history (
            seq {pk_seq},
            {DESK},
            ticket_id TEXT NOT NULL,
            at {big} NOT NULL,
            actor TEXT NOT NULL,
            event TEXT NOT NULL,
            from_status TEXT NOT NULL,
            to_status TEXT NOT NULL,
            reason TEXT NOT NULL
        )""",
        "CREATE INDEX sk_history_ticket ON sk_history (ticket_id, seq)",
        f"""CREATE TABLE sk_events (
            seq {pk_seq},
            {DESK},
            ticket_id TEXT NOT NULL,
            type TEXT NOT NULL,
            at {big} NOT NULL,
            payload TEXT NOT NULL,
            published INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX sk_events_ticket ON sk_events (ticket_id, seq)",
        "CREATE INDEX sk_events_unpublished ON sk_events (seq) WHERE published = 0",
        f"""CREATE TABLE sk_customers (
            id TEXT PRIMARY KEY,
            {DESK},
            data TEXT NOT NULL
        )""",
        f"""CREATE TABLE sk_identities (
            {DESK},
            channel TEXT NOT NULL,
            address TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            PRIMARY KEY (desk, channel, address)
        )""",
        "CREATE INDEX sk_identities_customer ON sk_identities (customer_id)",
        f"CREATE TABLE sk_agents ({DESK}, id TEXT NOT NULL, data TEXT NOT NULL, "
        "PRIMARY KEY (desk, id))",
        f"CREATE TABLE sk_teams ({DESK}, id TEXT NOT NULL, data TEXT NOT NULL, "
        "PRIMARY KEY (desk, id))",
        f"""CREATE TABLE sk_timers (
            {DESK},
            key TEXT NOT NULL,
            due_at {big} NOT NULL,
            kind TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY (desk, key)
        )""",
        "CREATE INDEX sk_timers_due ON sk_timers (desk, due_at, key)",
        "CREATE INDEX sk_timers_ticket ON sk_timers (ticket_id)",
        f"""CREATE TABLE sk_raw_inbound (
            id TEXT PRIMARY KEY,
            {DESK},
            channel TEXT NOT NULL,
            external_id TEXT,
            received_at {big} NOT NULL,
            raw {blob} NOT NULL,
            status TEXT NOT NULL,
            ticket_id TEXT,
            error TEXT,
            UNIQUE (desk, channel, external_id)
        )""",
        "CREATE INDEX sk_raw_inbound_status ON sk_raw_inbound (status, received_at)",
        f"""CREATE TABLE sk_kv (
            {DESK},
            namespace TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (desk, namespace, key)
        )""",
    ]
    if dialect == "sqlite":
        stmts.append("CREATE TABLE sk_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        stmts.append("INSERT INTO sk_counters (name, value) VALUES ('ticket_number', 0)")
    else:
        stmts.append("CREATE SEQUENCE sk_ticket_number START 1")
    return stmts


CORE_MIGRATIONS = SchemaComponent(
    name="core",
    migrations=(
        Migration(
            1,
            "tickets, messages, history, outbox, customers, agents, timers, raw inbound, kv",
            _core_v1("sqlite"),
            _core_v1("postgresql"),
        ),
        Migration(
            2,
            "typed tables for SLA clocks, deliveries, used feedback tokens (moved from kv)",
            core_v2("sqlite"),
            core_v2("postgresql"),
        ),
        Migration(
            3,
            "sk_raw_inbound.claimed_until: a lease so a crashed process's message is taken over",
            ["ALTER TABLE sk_raw_inbound ADD COLUMN claimed_until INTEGER"],
            ["ALTER TABLE sk_raw_inbound ADD COLUMN claimed_until BIGINT"],
        ),
        Migration(
            4,
            "typed tables for feedback answers and automatic acknowledgements (moved from kv)",
            core_v4("sqlite"),
            core_v4("postgresql"),
        ),
        Migration(
            5,
            "typed table for readers' cursors (IMAP positions, webhook forwarding; moved from kv)",
            core_v5("sqlite"),
            core_v5("postgresql"),
        ),
    ),
)
