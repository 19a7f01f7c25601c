"""Schema component ``coordination``: leases on outbox events and timers, the waiting queue's index.

Kept apart from ``core`` so each part of the schema versions on its own;
every SQL backend applies it after ``core``.
"""

from __future__ import annotations

from ._sql_schema import Migration, SchemaComponent

__all__ = ["COORDINATION_MIGRATIONS"]


def _v1(dialect: str) -> list[str]:
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    return [
        "ALTER TABLE sk_events ADD COLUMN relayed INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sk_events ADD COLUMN relay_owner TEXT",
        f"ALTER TABLE sk_events ADD COLUMN relay_until {big}",
        "CREATE INDEX sk_events_unrelayed ON sk_events (desk, seq) WHERE relayed = 0",
        "ALTER TABLE sk_timers ADD COLUMN lease_owner TEXT",
        f"ALTER TABLE sk_timers ADD COLUMN lease_until {big}",
        # the waiting queue: unassigned tickets by status, most urgent first
        "CREATE INDEX sk_tickets_waiting ON sk_tickets (desk, status, priority, received_at) "
        "WHERE assignee_id IS NULL",
    ]


COORDINATION_MIGRATIONS = SchemaComponent(
    name="coordination",
    migrations=(
        Migration(
            1,
            "outbox relay claims, timer leases, waiting-queue index",
            _v1("sqlite"),
            _v1("postgresql"),
        ),
    ),
)
