"""The storage port: a unit of work composed of small focused ports.

A backend subclasses :class:`Storage` (one method, :meth:`Storage.unit_of_work`)
and :class:`UnitOfWork`. A unit of work is a context manager and one
transaction (:class:`~supportkit.ports.Transaction`: the hooks ``do_begin``,
``do_commit``, ``do_rollback``, ``do_end``): nothing it wrote is visible to
others or durable until :meth:`UnitOfWork.commit`; leaving the block without
committing rolls back.

:class:`UnitOfWork` is the union of the focused ports below, each a short
abstract class whose methods document their contract (errors, ordering,
what a conflict means):

- :class:`TicketStore` (tickets, numbers, optimistic concurrency),
- :class:`MessageStore` (messages and status history),
- :class:`CustomerStore` (customers and identities), :class:`AgentStore` (agents, teams),
- :class:`OutboxStore` (domain events), :class:`TimerStore` (timers),
- :class:`RawInboundStore` (inbound kept before parsing),
- :class:`SlaClockStore`, :class:`DeliveryStore`, :class:`FeedbackTokenStore`,
  :class:`FeedbackAnswerStore`, :class:`AcknowledgementStore` (typed records of
  the SLA clocks, outbound deliveries, used feedback links, feedback answers,
  automatic acknowledgements per sender), :class:`CursorStore` (readers' positions),
- :class:`KeyValueStore` (small keyed JSON state),
- :class:`CoordinationStore` (row and named locks, the waiting queue, leased claims).

Rules common to all of them: every method runs in the unit of work's
transaction and reads its own writes; a method that raises writes nothing;
driver failures surface as :class:`~supportkit.StorageError` raised ``from``
the driver's exception; :class:`~supportkit.ConcurrencyConflict` is raised by
:meth:`TicketStore.save_ticket` on a stale version, and by
:meth:`UnitOfWork.commit` when the database refuses a concurrent write.

The SQL implementation of each port is a mixin in ``supportkit.storage``
(``supportkit.storage.sql``), so a backend may reuse those parts and write
only the rest. Every shipped backend passes the contract suite in
:mod:`supportkit.testing`; a plugin author subclasses
``supportkit.testing.StorageContract`` and provides one factory.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Self

from ..domain._errors import ConfigurationError
from ._desks import DEFAULT_DESK
from ._storage_records import RawInbound, StoredEvent, TicketQuery, Timer
from ._store_acks import AcknowledgementStore
from ._store_coordination import CoordinationStore
from ._store_cursors import Cursor, CursorStore
from ._store_deliveries import DeliveryStore, StoredDelivery
from ._store_feedback import (
    ClaimedFeedbackToken,
    FeedbackAnswer,
    FeedbackAnswerStore,
    FeedbackTokenStore,
)
from ._store_inbound import RawInboundStore
from ._store_kv import KeyValueStore
from ._store_messages import MessageStore
from ._store_outbox import OutboxStore
from ._store_people import AgentStore, CustomerStore
from ._store_sla import SlaClockRecord, SlaClockStore
from ._store_tickets import TicketStore
from ._store_timers import TimerStore
from ._transaction import Transaction

__all__ = [
    "AcknowledgementStore",
    "AgentStore",
    "ClaimedFeedbackToken",
    "CoordinationStore",
    "Cursor",
    "CursorStore",
    "CustomerStore",
    "DeliveryStore",
    "FeedbackAnswer",
    "FeedbackAnswerStore",
    "FeedbackTokenStore",
    "KeyValueStore",
    "MessageStore",
    "OutboxStore",
    "RawInbound",
    "RawInboundStore",
    "SlaClockRecord",
    "SlaClockStore",
    "Storage",
    "StoredDelivery",
    "StoredEvent",
    "TicketQuery",
    "TicketStore",
    "Timer",
    "TimerStore",
    "Transaction",
    "UnitOfWork",
]


class UnitOfWork(
    TicketStore,
    MessageStore,
    CustomerStore,
    AgentStore,
    OutboxStore,
    TimerStore,
    RawInboundStore,
    SlaClockStore,
    DeliveryStore,
    FeedbackTokenStore,
    FeedbackAnswerStore,
    AcknowledgementStore,
    CursorStore,
    KeyValueStore,
    CoordinationStore,
    Transaction,
):
    """One transaction over the desk's data: every focused port, one context manager."""


class Storage(abc.ABC):
    """A storage backend: a factory of units of work.

    ``capabilities`` names the optional features the contract suite tests
    (see docs/storage.md for the list); a backend lacking one skips exactly
    those tests, with the reason. Transactions, rollback and conflict
    detection are not optional.
    """

    capabilities: frozenset[str] = frozenset()
    #: the desk whose rows this storage reads and writes (many desks may share a database)
    desk: str = DEFAULT_DESK

    @abc.abstractmethod
    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work (a transaction); use it as a context manager."""

    def when_committed(
        self, stored: Sequence[StoredEvent], deliver: Callable[[Sequence[StoredEvent]], None]
    ) -> None:
        """Hand *stored* (the events of a unit of work just committed) to *deliver* once
        they are durable. A storage that owns its transactions does it at once; one
        joined to a host's transaction waits for the host's commit."""
        deliver(stored)

    def flush_committed(self) -> int:
        """Deliver events held for a host's commit that has happened since; the number
        delivered. Only storages joined to a host's transaction hold any."""
        return 0

    def for_desk(self, key: str) -> Storage:
        """This storage's database seen as desk *key*: same connections, that desk's rows only.

        Every row a storage writes carries its desk key and every query is
        scoped to it, so desk A never reads, finds, counts or updates desk B's
        tickets, customers, agents, events, timers or keyed state. Backends
        declaring the ``"desks"`` capability implement it.
        """
        raise ConfigurationError(
            f"{type(self).__name__} keeps one desk per database; use a backend with the "
            "'desks' capability (memory, SQLite, PostgreSQL) for many desks in one database"
        )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default has nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
