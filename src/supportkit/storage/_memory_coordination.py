"""The coordination port in memory: the same semantics as SQL, for one process.

Units of work are serialised by the storage's lock, so every lock is held
already; claims and leases are kept beside the data and undone on rollback
like everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from ..domain._model import Ticket
from ..ports._storage import StoredEvent, Timer, UnitOfWork

__all__ = ["CoordinationData", "MemoryCoordination"]


class CoordinationData:
    """Claims and relay marks of one memory storage."""

    def __init__(self) -> None:
        self.relayed: set[int] = set()
        self.relay_from = 1  # every event below this sequence number is relayed
        self.event_claims: dict[int, tuple[str, datetime]] = {}
        self.timer_claims: dict[str, tuple[str, datetime, Timer]] = {}


class MemoryCoordination(UnitOfWork):
    """:class:`~supportkit.ports.CoordinationStore` over the memory backend's data."""

    _d: Any  # the memory backend's data (tickets, events, timers, ``coord``)
    _undo: list[Callable[[], None]]

    def _restore(self, table: dict[object, object], key: object) -> None:
        missing = object()
        old = table.get(key, missing)

        def undo() -> None:
            if old is missing:
                table.pop(key, None)
            else:
                table[key] = old

        self._undo.append(undo)

    def get_ticket_for_update(self, ticket_id: str) -> Ticket:
        return self.get_ticket(ticket_id)  # the storage lock is held already

    def lock(self, name: str) -> None:
        """Held already: memory units of work run one at a time."""

    def waiting_tickets(
        self, statuses: Sequence[str], *, team_ids: Sequence[str] | None = None, limit: int = 50
    ) -> list[Ticket]:
        d = self._d
        teams = None if team_ids is None else set(team_ids)
        found = [
            d.tickets[i]
            for s in statuses
            for i in d.by_status.get(s, ())
            if d.tickets[i].assignee_id is None
            and (teams is None or d.tickets[i].team_id is None or d.tickets[i].team_id in teams)
        ]
        found.sort(key=lambda t: (-int(t.priority), t.age_reference, t.number))
        return [self.get_ticket(t.id) for t in found[:limit]]

    def open_loads(
        self, statuses: Sequence[str], agent_ids: Iterable[str] | None = None
    ) -> dict[str, int]:
        d = self._d
        wanted = set(statuses)
        ids = list(d.by_assignee) if agent_ids is None else list(agent_ids)
        out: dict[str, int] = {}
        for agent_id in ids:
            n = sum(1 for t in d.by_assignee.get(agent_id, ()) if d.tickets[t].status in wanted)
            if n:
                out[agent_id] = n
        return out

    # -- outbox claims ---------------------------------------------------------------------
    def claim_events(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 100
    ) -> list[StoredEvent]:
        d, c = self._d, self._d.coord
        while c.relay_from in c.relayed:
            c.relayed.discard(c.relay_from)
            c.relay_from += 1
        out: list[StoredEvent] = []
        for stored in d.events[c.relay_from - 1 :]:
            if len(out) >= limit:
                break
            claim = c.event_claims.get(stored.seq)
            if stored.seq in c.relayed or (claim is not None and claim[1] >= now):
                continue
            self._restore(c.event_claims, stored.seq)
            c.event_claims[stored.seq] = (owner, lease_until)
            out.append(stored)
        return out

    def mark_relayed(self, seqs: Iterable[int], owner: str) -> int:
        claims = self._d.coord.event_claims
        return self._set_relayed(
            seq for seq in seqs if (claim := claims.get(seq)) is not None and claim[0] == owner
        )

    def skip_relay(self, seqs: Iterable[int]) -> int:
        d, c = self._d, self._d.coord
        # events are stored at index seq - 1; every one below relay_from is relayed
        return self._set_relayed(seq for seq in seqs if c.relay_from <= seq <= len(d.events))

    def _set_relayed(self, seqs: Iterable[int]) -> int:
        """Mark the not yet relayed events of *seqs* relayed, dropping their claims."""
        c = self._d.coord
        done = []
        for seq in sorted(set(seqs)):
            if seq in c.relayed:
                continue
            self._restore(c.event_claims, seq)
            c.event_claims.pop(seq, None)
            c.relayed.add(seq)
            done.append(seq)

        def undo() -> None:
            c.relayed.difference_update(done)

        self._undo.append(undo)
        return len(done)

    # -- timer leases -------------------------------------------------------------------
    def claim_timers(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 100
    ) -> list[Timer]:
        d, c = self._d, self._d.coord
        out: list[Timer] = []
        for due_at, key in d.timer_order:
            if due_at > now or len(out) >= limit:
                break
            timer = d.timers[key]
            claim = c.timer_claims.get(key)
            if claim is not None and claim[2] == timer and claim[1] >= now:
                continue
            self._restore(c.timer_claims, key)
            c.timer_claims[key] = (owner, lease_until, timer)
            out.append(timer)
        return out

    def take_timer(self, timer: Timer, owner: str) -> bool:
        c = self._d.coord
        claim = c.timer_claims.get(timer.key)
        if claim is None or claim[0] != owner or self._d.timers.get(timer.key) != timer:
            return False
        self._restore(c.timer_claims, timer.key)
        del c.timer_claims[timer.key]
        self.cancel_timer(timer.key)
        return True

    def release_timers(self, keys: Iterable[str], owner: str) -> None:
        c = self._d.coord
        for key in keys:
            claim = c.timer_claims.get(key)
            if claim is not None and claim[0] == owner:
                self._restore(c.timer_claims, key)
                del c.timer_claims[key]
