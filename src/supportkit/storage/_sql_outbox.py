"""The SQL outbox port (:class:`~supportkit.ports.OutboxStore`): events in ``sk_events``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .._convert import dumps, event_from_data, event_to_data
from ..domain._events import DomainEvent
from ..ports._storage import OutboxStore, StoredEvent
from ._sql_base import SqlBase, to_us

__all__ = ["SqlOutboxStore", "stored_events"]


def stored_events(rows: list[Any]) -> list[StoredEvent]:
    """Outbox rows ``(seq, payload, published)`` as stored events."""
    return [StoredEvent(int(r[0]), event_from_data(json.loads(r[1])), bool(r[2])) for r in rows]


_INSERT_EVENTS = "INSERT INTO sk_events (desk, ticket_id, type, at, payload, published) VALUES "
_EVENT_VALUES = "(?, ?, ?, ?, ?, 0)"


class SqlOutboxStore(SqlBase, OutboxStore):
    """Events as JSON rows with a sequence number and a published flag."""

    def add_events(self, events: Iterable[DomainEvent]) -> list[int]:
        desk = self.desk
        rows: list[tuple[Any, ...]] = []
        for e in events:
            data = event_to_data(e)
            rows.append((desk, e.ticket_id, data["type"], to_us(e.at), dumps(data)))
        if not rows:
            return []
        if len(rows) == 1 and self.dialect == "sqlite":
            # one event (most use cases): its seq is the rowid SQLite just assigned,
            # without the cost of RETURNING a row
            return [int(self.x(_INSERT_EVENTS + _EVENT_VALUES, rows[0]).lastrowid)]
        seqs: list[int] = []
        per = 200  # rows per statement: 1,000 parameters, well under every driver's limit
        for i in range(0, len(rows), per):
            chunk = rows[i : i + per]
            values = ", ".join([_EVENT_VALUES] * len(chunk))
            got = self.all(
                f"{_INSERT_EVENTS}{values} RETURNING seq", [v for row in chunk for v in row]
            )
            seqs.extend(sorted(int(r[0]) for r in got))
        return seqs

    def _stored(self, rows: list[Any]) -> list[StoredEvent]:
        return stored_events(rows)

    def pending_events(self, limit: int = 1000) -> list[StoredEvent]:
        return self._stored(
            self.all(
                "SELECT seq, payload, published FROM sk_events WHERE desk = ? AND published = 0 "
                "ORDER BY seq LIMIT ?",
                (self.desk, limit),
            )
        )

    def mark_published(self, seqs: Iterable[int]) -> None:
        ids = list(seqs)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            self.x(
                "UPDATE sk_events SET published = 1 WHERE desk = ? AND "
                f"seq IN ({', '.join('?' * len(chunk))})",
                (self.desk, *chunk),
            )

    def events_for(self, ticket_id: str) -> list[StoredEvent]:
        return self._stored(
            self.all(
                "SELECT seq, payload, published FROM sk_events WHERE desk = ? AND ticket_id = ? "
                "ORDER BY seq",
                (self.desk, ticket_id),
            )
        )

    def events_since(self, seq: int, limit: int = 1000) -> list[StoredEvent]:
        return self._stored(
            self.all(
                "SELECT seq, payload, published FROM sk_events WHERE desk = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (self.desk, seq, limit),
            )
        )
