"""The coordination port: what lets several processes share one desk safely.

Whatever decides an outcome across processes is read and changed in the
database, inside the use case's transaction:

- :meth:`CoordinationStore.get_ticket_for_update` loads a ticket and holds it
  until commit (a row lock on PostgreSQL), so two use cases on one ticket
  queue instead of conflicting;
- :meth:`CoordinationStore.lock` is a named lock held until commit (routing
  decisions of all processes take the same one);
- :meth:`CoordinationStore.waiting_tickets` and
  :meth:`CoordinationStore.open_loads` are the stored waiting queue and the
  stored load of each agent, what routing decides from;
- :meth:`CoordinationStore.claim_events` and
  :meth:`CoordinationStore.claim_timers` hand out outbox events and due timers
  under a *lease*: two processes never get the same one, and a process that
  dies leaves its claims to others once the lease expires.

A backend whose writers are serialised (SQLite's ``BEGIN IMMEDIATE``, the
memory backend's lock) gets every lock for free; PostgreSQL uses row locks,
advisory locks and ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from datetime import datetime

from ..domain._model import Ticket
from ._storage_records import StoredEvent, Timer

__all__ = ["CoordinationStore"]


class CoordinationStore(abc.ABC):
    """Locks, the stored waiting queue and agent loads, and leased claims."""

    @abc.abstractmethod
    def get_ticket_for_update(self, ticket_id: str) -> Ticket:
        """The stored ticket, held by this transaction until it ends; raises TicketNotFound.

        Another unit of work loading the same ticket this way waits until this
        one commits or rolls back, so it reads the new version.
        """

    @abc.abstractmethod
    def lock(self, name: str) -> None:
        """Hold the lock *name* until this transaction ends (others taking it wait)."""

    @abc.abstractmethod
    def waiting_tickets(
        self, statuses: Sequence[str], *, team_ids: Sequence[str] | None = None, limit: int = 50
    ) -> list[Ticket]:
        """Unassigned tickets in *statuses* (of *team_ids*, if given): the waiting queue.

        Highest priority first, then oldest (registration, else reception),
        then by number; at most *limit*. The tickets returned are held by this
        transaction; a ticket another transaction holds is skipped, not waited on.
        """

    @abc.abstractmethod
    def open_loads(
        self, statuses: Sequence[str], agent_ids: Iterable[str] | None = None
    ) -> dict[str, int]:
        """How many tickets in *statuses* each agent (of *agent_ids*, or all) is assigned.

        Agents with none are left out.
        """

    @abc.abstractmethod
    def claim_events(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 100
    ) -> list[StoredEvent]:
        """Claim up to *limit* events not yet relayed, oldest first, for *owner*.

        An event claimed by another owner whose lease ends after *now* is not
        returned; an expired claim is taken over. The claim is kept when the
        transaction commits.
        """

    @abc.abstractmethod
    def mark_relayed(self, seqs: Iterable[int], owner: str) -> int:
        """Mark events *owner* claimed as relayed; returns how many it still held.

        An event whose claim passed to another owner (the lease expired) is left
        alone: that owner relays it again, which at-least-once delivery allows.
        """

    @abc.abstractmethod
    def skip_relay(self, seqs: Iterable[int]) -> int:
        """Mark the events *seqs* relayed without a relay publishing them; returns how many
        were marked (unknown, already relayed and rolled-back ones are not counted).

        For events no other process may hear of, such as an import's replay of history.
        A claim another owner holds on one of them is dropped with it (that owner's
        ``mark_relayed`` then does not count it). Undone if the transaction rolls back.
        """

    @abc.abstractmethod
    def claim_timers(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 100
    ) -> list[Timer]:
        """Claim up to *limit* timers due at or before *now*, earliest first, for *owner*.

        Timers claimed by another owner whose lease ends after *now* are skipped.
        """

    @abc.abstractmethod
    def take_timer(self, timer: Timer, owner: str) -> bool:
        """Remove *timer* if *owner* still holds its claim and it was not rescheduled.

        The firing use case calls this first, in its own transaction: True means
        this transaction fires it (exactly once, since the removal commits with
        what the handler did); False means another process has it or it moved.
        """

    @abc.abstractmethod
    def release_timers(self, keys: Iterable[str], owner: str) -> None:
        """Give up *owner*'s claims on these timers (their handler failed): due again now."""
