"""Priority queueing: tickets nobody can take now wait, most urgent and oldest first.

:class:`TicketQueue` is a plain in-memory structure (the desk can rebuild it
from the unassigned tickets it stores); :func:`drain_queue` assigns waiting
tickets as capacity frees, when an agent finishes a ticket or comes online.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator
from datetime import datetime

import attrs

from supportkit.domain._model import ensure_utc

from ._routing import Router, RoutingDecision
from ._routing_index import AgentIndex
from ._routing_request import RoutingRequest, RoutingState

__all__ = ["DrainResult", "QueuedTicket", "TicketQueue", "drain_queue"]

_Key = tuple[int, datetime, int]


@attrs.frozen
class QueuedTicket:
    """A waiting ticket: its routing request and since when it waits (its age)."""

    request: RoutingRequest
    since: datetime
    seq: int

    @property
    def key(self) -> _Key:
        return (-int(self.request.priority), self.since, self.seq)


class TicketQueue:
    """Waiting tickets ordered by priority (highest first), then age (oldest first).

    Pushing a ticket already queued replaces it (e.g. its priority changed),
    keeping its place among equals.
    """

    __slots__ = ("_by_id", "_keys", "_seq")

    def __init__(self, items: Iterable[tuple[RoutingRequest, datetime]] = ()) -> None:
        self._keys: list[tuple[_Key, str]] = []
        self._by_id: dict[str, QueuedTicket] = {}
        self._seq = 0
        for request, since in items:
            self.push(request, since)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._by_id

    def __iter__(self) -> Iterator[QueuedTicket]:
        """In order, over a snapshot (safe to change the queue meanwhile)."""
        by_id = self._by_id
        return iter([by_id[tid] for _, tid in self._keys])

    def push(self, request: RoutingRequest, since: datetime) -> QueuedTicket:
        """Queue *request*; *since* is the ticket's age reference (when it was registered)."""
        old = self._by_id.get(request.ticket_id)
        if old is not None:
            self._drop(old)
            seq = old.seq
        else:
            self._seq += 1
            seq = self._seq
        item = QueuedTicket(request, ensure_utc(since), seq)
        self._by_id[request.ticket_id] = item
        insort(self._keys, (item.key, request.ticket_id))
        return item

    def peek(self) -> QueuedTicket | None:
        return self._by_id[self._keys[0][1]] if self._keys else None

    def pop(self) -> QueuedTicket:
        if not self._keys:
            raise IndexError("the ticket queue is empty")
        item = self._by_id[self._keys[0][1]]
        self._drop(item)
        return item

    def remove(self, ticket_id: str) -> bool:
        """Take a ticket out (assigned by hand, closed); False if it was not queued."""
        item = self._by_id.get(ticket_id)
        if item is None:
            return False
        self._drop(item)
        return True

    def _drop(self, item: QueuedTicket) -> None:
        entry = (item.key, item.request.ticket_id)
        i = bisect_left(self._keys, entry)
        del self._keys[i]
        del self._by_id[item.request.ticket_id]


@attrs.frozen
class DrainResult:
    """The assignments a drain made, in the order made, and the new routing state."""

    decisions: tuple[RoutingDecision, ...]
    state: RoutingState


def drain_queue(
    queue: TicketQueue,
    router: Router,
    index: AgentIndex,
    *,
    now: datetime,
    state: RoutingState | None = None,
    freed: Iterable[str] | None = None,
) -> DrainResult:
    """Assign waiting tickets, most urgent and oldest first, while capacity lasts.

    Each assignment is applied to *index* (``index.assign``) and removed from
    *queue*, so later tickets see it. A ticket nobody can take stays queued
    and does not block the tickets behind it (they may need another team).
    With *freed* (the agents who just finished a ticket or came online) the
    drain stops as soon as none of them can take more, since nothing else
    changed since the last drain.
    """
    state = state if state is not None else RoutingState()
    watch = tuple(freed) if freed is not None else None
    decisions: list[RoutingDecision] = []
    for item in queue:
        if index.assignable_count == 0:
            break
        if watch is not None and not any(index.can_take(a) for a in watch if a in index):
            break
        decision = router.route(item.request, index, now=now, state=state)
        state = decision.state
        if decision.agent_id is not None:
            index.assign(decision.agent_id)
            queue.remove(item.request.ticket_id)
            decisions.append(decision)
    return DrainResult(tuple(decisions), state)
