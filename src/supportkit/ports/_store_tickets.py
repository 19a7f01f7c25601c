"""The tickets port: numbers, the ticket rows, and optimistic concurrency on them.

Every method runs inside the unit of work's transaction and sees that
transaction's own earlier writes. Tickets go in and come out as detached
copies: mutating a returned ticket changes nothing stored until
:meth:`TicketStore.save_ticket`.
"""

from __future__ import annotations

import abc

from ..domain._model import Ticket
from ._storage_records import TicketQuery

__all__ = ["TicketStore"]


class TicketStore(abc.ABC):
    """Tickets by id and number, saved compare-and-set on their version."""

    @abc.abstractmethod
    def next_ticket_number(self) -> int:
        """A number no other ticket has or will get (1, 2, 3, ...).

        Numbers increase and are never handed out twice, even when the unit of
        work that took one rolls back (gaps are allowed). Concurrent units of
        work never receive the same number and do not conflict over it.
        """

    @abc.abstractmethod
    def add_ticket(self, ticket: Ticket) -> None:
        """Store a new ticket and set its version (and the given object's) to 1.

        Raises :class:`~supportkit.DuplicateError` (and stores nothing) when a
        ticket with the same id or number exists. A number the caller chose
        instead of :meth:`next_ticket_number` moves the counter past it.
        """

    @abc.abstractmethod
    def get_ticket(self, ticket_id: str) -> Ticket:
        """The stored ticket (a copy); raises :class:`~supportkit.TicketNotFound`."""

    @abc.abstractmethod
    def get_ticket_by_number(self, number: int) -> Ticket:
        """The stored ticket with that number; raises :class:`~supportkit.TicketNotFound`."""

    @abc.abstractmethod
    def save_ticket(self, ticket: Ticket, expected_version: int) -> None:
        """Store *ticket* if the stored version is still *expected_version*.

        On success the stored (and the given) ticket's version becomes
        ``expected_version + 1``. Otherwise raises
        :class:`~supportkit.ConcurrencyConflict` naming both versions and
        writes nothing; :class:`~supportkit.TicketNotFound` for an unknown id.
        This is where the port detects a stale write from another unit of work.
        """

    @abc.abstractmethod
    def find_tickets(self, query: TicketQuery) -> list[Ticket]:
        """Tickets matching *query* ordered by number (newest first unless
        ``oldest_first``), after skipping ``offset``, at most ``limit``."""

    @abc.abstractmethod
    def count_tickets(self, query: TicketQuery) -> int:
        """How many tickets match *query* (``limit`` and ``offset`` ignored)."""
