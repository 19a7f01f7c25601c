"""The plain records the storage ports take and return (besides the domain's entities)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from ..domain._events import DomainEvent
from ..domain._model import Priority

__all__ = ["RawInbound", "StoredEvent", "TicketQuery", "Timer"]


@attrs.frozen
class TicketQuery:
    """Filters for :meth:`TicketStore.find_tickets`; ``None`` means "any".

    Results are ordered by ticket number, newest first unless ``oldest_first``.
    ``text`` matches a case-insensitive substring of the subject. ``team_ids``
    keeps tickets of any of those teams (``None`` in it: tickets with no team
    yet); ``tag`` keeps tickets carrying that whole tag; ``before_number`` and
    ``after_number`` bound the ticket number (exclusive), for keyset pages that
    stay right while tickets arrive. ``resolved_before`` keeps tickets whose
    ``resolved_at`` is earlier than that instant (the worker's auto-close).
    """

    status: str | Sequence[str] | None = None
    customer_id: str | None = None
    assignee_id: str | None = None
    team_id: str | None = None
    tier: str | None = None
    priority: Priority | None = None
    channel: str | None = None
    text: str | None = None
    limit: int = 100
    offset: int = 0
    oldest_first: bool = False
    team_ids: Sequence[str | None] | None = None
    tag: str | None = None
    before_number: int | None = None
    after_number: int | None = None
    resolved_before: datetime | None = None

    def statuses(self) -> tuple[str, ...] | None:
        """The status filter as a tuple (``None``: any status; empty: no ticket matches)."""
        if self.status is None:
            return None
        if isinstance(self.status, str):
            return (self.status,)
        return tuple(self.status)


@attrs.frozen
class StoredEvent:
    """A domain event as kept in the outbox, with its storage sequence number."""

    seq: int
    event: DomainEvent
    published: bool = False


@attrs.frozen
class Timer:
    """A scheduled wake-up (SLA warning, breach, reminder) found by due time, not by scan."""

    key: str
    due_at: datetime
    kind: str
    ticket_id: str
    payload: dict[str, Any] = attrs.Factory(dict)


@attrs.frozen
class RawInbound:
    """An inbound message exactly as it arrived, kept before parsing so none is ever lost."""

    id: str
    channel: str
    received_at: datetime
    raw: bytes
    external_id: str | None = None
    status: str = "pending"  # pending | processed | failed | ignored
    ticket_id: str | None = None
    error: str | None = None
