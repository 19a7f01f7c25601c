"""The storage port: a unit of work over tickets, messages, history, events and the rest.

A backend subclasses :class:`Storage` (one method, :meth:`Storage.unit_of_work`)
and :class:`UnitOfWork`. A unit of work is a context manager and one
transaction: nothing it wrote is visible to others or durable until
:meth:`UnitOfWork.commit`; leaving the block without committing rolls back.

Every shipped backend passes the contract suite in
:mod:`supportkit.testing`; a plugin author subclasses
``supportkit.testing.StorageContract`` and provides one factory.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import attrs

from ..domain._events import DomainEvent
from ..domain._model import Agent, Customer, HistoryEntry, Identity, Message, Priority, Team, Ticket

__all__ = [
    "RawInbound",
    "Storage",
    "StoredEvent",
    "TicketQuery",
    "Timer",
    "UnitOfWork",
]


@attrs.frozen
class TicketQuery:
    """Filters for :meth:`UnitOfWork.find_tickets`; ``None`` means "any".

    Results are ordered by ticket number, newest first unless ``oldest_first``.
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

    def statuses(self) -> tuple[str, ...] | None:
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


class UnitOfWork(abc.ABC):
    """One transaction over the desk's data. Use as a context manager."""

    _committed: bool = False

    def __enter__(self) -> Self:
        self._committed = False
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.rollback()
        self._end()

    def commit(self) -> None:
        """Make everything written in this unit of work durable and visible."""
        self._commit()
        self._committed = True

    # -- transaction hooks ---------------------------------------------------
    def _begin(self) -> None:  # noqa: B027 - optional hook
        """Start the transaction (optional hook)."""

    def _end(self) -> None:  # noqa: B027 - optional hook
        """Release resources after commit or rollback (optional hook)."""

    @abc.abstractmethod
    def _commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None:
        """Discard everything written in this unit of work."""

    # -- tickets ---------------------------------------------------------------
    @abc.abstractmethod
    def next_ticket_number(self) -> int:
        """A number no other ticket has or will get (1, 2, 3, ...)."""

    @abc.abstractmethod
    def add_ticket(self, ticket: Ticket) -> None:
        """Store a new ticket (version 1). Raises DuplicateError if the id or number exists."""

    @abc.abstractmethod
    def get_ticket(self, ticket_id: str) -> Ticket:
        """The stored ticket; raises TicketNotFound."""

    @abc.abstractmethod
    def get_ticket_by_number(self, number: int) -> Ticket:
        """The stored ticket with that number; raises TicketNotFound."""

    @abc.abstractmethod
    def save_ticket(self, ticket: Ticket, expected_version: int) -> None:
        """Store *ticket* if the stored version is still *expected_version*.

        On success the stored (and the given) ticket's version becomes
        ``expected_version + 1``. Otherwise raises ConcurrencyConflict and
        writes nothing.
        """

    @abc.abstractmethod
    def find_tickets(self, query: TicketQuery) -> list[Ticket]: ...

    @abc.abstractmethod
    def count_tickets(self, query: TicketQuery) -> int: ...

    # -- messages and history ----------------------------------------------------
    @abc.abstractmethod
    def add_message(self, message: Message) -> None: ...

    @abc.abstractmethod
    def messages_for(self, ticket_id: str) -> list[Message]:
        """The ticket's messages, oldest first."""

    @abc.abstractmethod
    def find_message_by_external_id(self, external_id: str) -> Message | None:
        """The message a channel knows by *external_id* (e.g. an email's Message-ID)."""

    @abc.abstractmethod
    def set_message_external_id(self, message_id: str, external_id: str) -> None:
        """Record the id a channel gave a stored message at delivery (an email's Message-ID).

        The one change a stored message allows: an outbound message learns its
        external id only when its channel accepts it. Setting the value the
        message has already is a no-op. Raises NotFound for an unknown
        *message_id*, DuplicateError when another message has *external_id*,
        and ValidationError when the message has a different external id
        already (an external id, once known, never changes).
        """

    @abc.abstractmethod
    def add_history(self, entry: HistoryEntry) -> None: ...

    @abc.abstractmethod
    def history_for(self, ticket_id: str) -> list[HistoryEntry]:
        """The ticket's transitions, oldest first."""

    # -- customers, agents, teams --------------------------------------------------
    @abc.abstractmethod
    def add_customer(self, customer: Customer) -> None: ...

    @abc.abstractmethod
    def save_customer(self, customer: Customer) -> None: ...

    @abc.abstractmethod
    def get_customer(self, customer_id: str) -> Customer:
        """Raises NotFound."""

    @abc.abstractmethod
    def find_customer_by_identity(self, identity: Identity) -> Customer | None: ...

    @abc.abstractmethod
    def save_agent(self, agent: Agent) -> None:
        """Insert or replace."""

    @abc.abstractmethod
    def get_agent(self, agent_id: str) -> Agent:
        """Raises NotFound."""

    @abc.abstractmethod
    def list_agents(self) -> list[Agent]: ...

    @abc.abstractmethod
    def save_team(self, team: Team) -> None:
        """Insert or replace."""

    @abc.abstractmethod
    def list_teams(self) -> list[Team]: ...

    # -- events (the outbox) ----------------------------------------------------------
    @abc.abstractmethod
    def add_events(self, events: Iterable[DomainEvent]) -> list[int]:
        """Append events to the outbox; returns their sequence numbers, increasing."""

    @abc.abstractmethod
    def pending_events(self, limit: int = 1000) -> list[StoredEvent]:
        """Unpublished events, oldest first."""

    @abc.abstractmethod
    def mark_published(self, seqs: Iterable[int]) -> None: ...

    @abc.abstractmethod
    def events_for(self, ticket_id: str) -> list[StoredEvent]:
        """All stored events of a ticket, in order."""

    @abc.abstractmethod
    def events_since(self, seq: int, limit: int = 1000) -> list[StoredEvent]:
        """Events with a sequence number above *seq*, in order (for projections)."""

    # -- timers -----------------------------------------------------------------------------
    @abc.abstractmethod
    def schedule_timer(self, timer: Timer) -> None:
        """Insert or replace the timer with this key."""

    @abc.abstractmethod
    def cancel_timer(self, key: str) -> None: ...

    @abc.abstractmethod
    def due_timers(self, now: datetime, limit: int = 1000) -> list[Timer]:
        """Timers due at or before *now*, earliest first (an index range scan)."""

    @abc.abstractmethod
    def timers_for(self, ticket_id: str) -> list[Timer]: ...

    # -- raw inbound (store first, parse after) --------------------------------------------
    @abc.abstractmethod
    def add_raw_inbound(self, raw: RawInbound) -> bool:
        """Store a raw inbound message. Returns False (and stores nothing) when a message
        with the same channel and external id is already kept."""

    @abc.abstractmethod
    def update_raw_inbound(
        self, raw_id: str, status: str, ticket_id: str | None = None, error: str | None = None
    ) -> None: ...

    @abc.abstractmethod
    def list_raw_inbound(self, status: str | None = None, limit: int = 100) -> list[RawInbound]: ...

    # -- small keyed state (routing cursors, channel positions, feedback) ------------------
    @abc.abstractmethod
    def kv_get(self, namespace: str, key: str) -> Any | None:
        """A JSON-compatible value stored under (namespace, key), or None."""

    @abc.abstractmethod
    def kv_put(self, namespace: str, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def kv_items(self, namespace: str) -> list[tuple[str, Any]]: ...


class Storage(abc.ABC):
    """A storage backend: a factory of units of work.

    ``capabilities`` names optional features the contract suite may test
    (e.g. ``"concurrent_processes"``); a backend lacking one skips its tests.
    """

    capabilities: frozenset[str] = frozenset()

    @abc.abstractmethod
    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work (a transaction); use it as a context manager."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default has nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
