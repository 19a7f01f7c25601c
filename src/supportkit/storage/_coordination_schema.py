"""Schema component ``coordination``: leases on outbox events and timers, the waiting queue's index.

Kept apart from ``core`` so each part of the schema versions on its own;
every SQL backend applies it after ``core``.
"""

from __future__ import annotations

from ._sql_schema import Migration, SchemaComponent

__all__ = ["COORDINATION_MIGRATIONS", "NOT_DONE"]


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


#: Assignee and team indexes hold only tickets that have one: a new ticket (no assignee,
#: often no team yet) then writes neither index, two pages less per new ticket. Every
#: query by assignee or team compares it with a value, which implies NOT NULL, so both
#: databases still use them; unassigned tickets are found through sk_tickets_waiting.
_V2 = [
    "DROP INDEX sk_tickets_assignee",
    "CREATE INDEX sk_tickets_assignee ON sk_tickets (assignee_id) WHERE assignee_id IS NOT NULL",
    "DROP INDEX sk_tickets_team",
    "CREATE INDEX sk_tickets_team ON sk_tickets (team_id) WHERE team_id IS NOT NULL",
]

#: Tickets no agent is waited for: neither resolved nor closed (the default lifecycle's
#: names). The waiting queue's index leaves them out, so resolving and closing an
#: unassigned ticket do not move its entry, and the index does not grow with the archive;
#: a query must carry this very term for SQLite to use the index (waiting_tickets does).
NOT_DONE = "status NOT IN ('resolved', 'closed')"

_V3 = [
    "DROP INDEX sk_tickets_waiting",
    "CREATE INDEX sk_tickets_waiting ON sk_tickets (desk, status, priority, received_at) "
    f"WHERE assignee_id IS NULL AND {NOT_DONE}",
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
        Migration(2, "assignee and team indexes without the NULLs", _V2, _V2),
        Migration(3, "the waiting-queue index without resolved and closed tickets", _V3, _V3),
    ),
)
