"""The outbox port: every domain event, stored in the use case's transaction.

Events are appended with increasing sequence numbers and kept; publishing
marks them. Every method runs inside the unit of work's transaction and sees
that transaction's own earlier writes; events appended by a unit of work that
rolls back are gone (their sequence numbers may be skipped).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable

from ..domain._events import DomainEvent
from ._storage_records import StoredEvent

__all__ = ["OutboxStore"]


class OutboxStore(abc.ABC):
    """Append-only event log with a "published" mark."""

    @abc.abstractmethod
    def add_events(self, events: Iterable[DomainEvent]) -> list[int]:
        """Append *events* in order; returns their sequence numbers, increasing.

        Sequence numbers are unique across the store and increase with each
        append; every event type must be registered (``register_event``) so it
        can be read back.
        """

    @abc.abstractmethod
    def pending_events(self, limit: int = 1000) -> list[StoredEvent]:
        """Unpublished events, oldest (lowest sequence number) first, at most *limit*."""

    @abc.abstractmethod
    def mark_published(self, seqs: Iterable[int]) -> None:
        """Mark the events with these sequence numbers published (unknown ones are ignored)."""

    @abc.abstractmethod
    def events_for(self, ticket_id: str) -> list[StoredEvent]:
        """All stored events of a ticket, by sequence number."""

    @abc.abstractmethod
    def events_since(self, seq: int, limit: int = 1000) -> list[StoredEvent]:
        """Events with a sequence number above *seq*, in order, at most *limit* (projections)."""
