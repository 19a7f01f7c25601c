"""The in-memory storage: the reference backend, for tests, demos and prototypes.

Units of work are serialised by one lock and undone from an undo log on
rollback, so a rejected use case leaves nothing behind. Stored objects are
copied in and out: a caller mutating a ticket it holds never changes what is
stored.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import attrs

from ..domain._errors import (
    ConcurrencyConflict,
    DuplicateError,
    NotFound,
    TicketNotFound,
    ValidationError,
)
from ..domain._events import DomainEvent
from ..domain._model import Agent, Customer, HistoryEntry, Identity, Message, Team, Ticket
from ..ports._desks import DEFAULT_DESK, check_desk_key, desk_view
from ..ports._storage import RawInbound, Storage, StoredEvent, TicketQuery, Timer, UnitOfWork
from ..ports._store_inbound import CLAIMABLE_STATUSES
from ._memory_coordination import CoordinationData, MemoryCoordination
from ._memory_records import MemoryRecordStores, RecordData

__all__ = ["MemoryStorage"]


_TICKET_FIELDS = tuple(f.name for f in attrs.fields(Ticket))


def _copy_ticket(t: Ticket) -> Ticket:
    """A detached copy (fields are immutable values, except custom_fields and events)."""
    c = object.__new__(Ticket)
    for name in _TICKET_FIELDS:
        object.__setattr__(c, name, getattr(t, name))
    object.__setattr__(c, "custom_fields", dict(t.custom_fields))
    object.__setattr__(c, "events", [])
    return c


def _copy_customer(c: Customer) -> Customer:
    return attrs.evolve(
        c,
        identities=list(c.identities),
        attributes=copy.deepcopy(c.attributes),
        verified=list(c.verified),
    )


class _Data(RecordData):
    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[str, Ticket] = {}
        self.by_number: dict[int, str] = {}
        self.by_status: dict[str, set[str]] = defaultdict(set)
        self.by_customer: dict[str, set[str]] = defaultdict(set)
        self.by_assignee: dict[str, set[str]] = defaultdict(set)
        self.number = 0
        self.messages: dict[str, list[Message]] = defaultdict(list)
        self.message_by_external: dict[str, Message] = {}
        self.message_by_id: dict[str, Message] = {}
        self.history: dict[str, list[HistoryEntry]] = defaultdict(list)
        self.customers: dict[str, Customer] = {}
        self.identities: dict[Identity, str] = {}
        self.agents: dict[str, Agent] = {}
        self.teams: dict[str, Team] = {}
        self.events: list[StoredEvent] = []
        self.events_by_ticket: dict[str, list[int]] = defaultdict(list)
        self.unpublished: dict[int, None] = {}
        self.timers: dict[str, Timer] = {}
        self.timer_order: list[tuple[datetime, str]] = []
        self.raw: dict[str, RawInbound] = {}
        self.raw_keys: set[tuple[str, str]] = set()
        self.raw_claims: dict[str, datetime] = {}
        self.kv: dict[str, dict[str, Any]] = defaultdict(dict)
        self.coord = CoordinationData()


class MemoryStorage(Storage):
    """Everything in process memory; gone when the process ends."""

    capabilities = frozenset({"transactions", "desks"})

    def __init__(self, *, desk: str = DEFAULT_DESK) -> None:
        self.desk = check_desk_key(desk)
        #: every desk of this in-memory "database", each with data of its own
        self._desks: dict[str, _Data] = {self.desk: _Data()}
        self._data = self._desks[self.desk]
        self._lock = threading.RLock()

    def for_desk(self, key: str) -> MemoryStorage:
        """The same in-memory database, scoped to desk *key* (see :meth:`Storage.for_desk`)."""
        view = desk_view(self, key)
        view._data = self._desks.setdefault(view.desk, _Data())
        return view

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self._data, self._lock)


class MemoryUnitOfWork(MemoryRecordStores, MemoryCoordination, UnitOfWork):
    _d: _Data

    def __init__(self, data: _Data, lock: threading.RLock) -> None:
        self._d = data
        self._lock = lock
        self._undo: list[Callable[[], None]] = []

    def do_begin(self) -> None:
        self._lock.acquire()
        self._undo = []

    def do_end(self) -> None:
        self._undo = []
        self._lock.release()

    def do_commit(self) -> None:
        self._undo = []

    def do_rollback(self) -> None:
        while self._undo:
            self._undo.pop()()

    # -- tickets -------------------------------------------------------------------
    def next_ticket_number(self) -> int:
        d = self._d
        d.number += 1
        return d.number  # numbers are never reused, even after a rollback

    def _index(self, t: Ticket) -> None:
        d = self._d
        d.by_status[t.status].add(t.id)
        d.by_customer[t.customer_id].add(t.id)
        if t.assignee_id:
            d.by_assignee[t.assignee_id].add(t.id)

    def _unindex(self, t: Ticket) -> None:
        d = self._d
        d.by_status[t.status].discard(t.id)
        d.by_customer[t.customer_id].discard(t.id)
        if t.assignee_id:
            d.by_assignee[t.assignee_id].discard(t.id)

    def add_ticket(self, ticket: Ticket) -> None:
        d = self._d
        if ticket.id in d.tickets:
            raise DuplicateError(f"ticket id {ticket.id!r} exists already; use a fresh id")
        if ticket.number in d.by_number:
            raise DuplicateError(f"ticket number {ticket.number} exists already")
        ticket.version = 1
        stored = _copy_ticket(ticket)
        d.tickets[ticket.id] = stored
        d.by_number[ticket.number] = ticket.id
        d.number = max(d.number, ticket.number)
        self._index(stored)

        def undo() -> None:
            self._unindex(stored)
            del d.tickets[ticket.id]
            del d.by_number[ticket.number]

        self._undo.append(undo)

    def get_ticket(self, ticket_id: str) -> Ticket:
        try:
            return _copy_ticket(self._d.tickets[ticket_id])
        except KeyError:
            raise TicketNotFound(ticket_id) from None

    def get_ticket_by_number(self, number: int) -> Ticket:
        try:
            return self.get_ticket(self._d.by_number[number])
        except KeyError:
            raise TicketNotFound(f"#{number}") from None

    def save_ticket(self, ticket: Ticket, expected_version: int) -> None:
        d = self._d
        old = d.tickets.get(ticket.id)
        if old is None:
            raise TicketNotFound(ticket.id)
        if old.version != expected_version:
            raise ConcurrencyConflict("ticket", ticket.id, expected_version, old.version)
        new = _copy_ticket(ticket)
        new.version = expected_version + 1
        self._unindex(old)
        d.tickets[ticket.id] = new
        self._index(new)
        ticket.version = new.version

        def undo() -> None:
            self._unindex(new)
            d.tickets[ticket.id] = old
            self._index(old)

        self._undo.append(undo)

    def _matching(self, q: TicketQuery) -> list[Ticket]:
        d = self._d
        candidates: set[str] | None = None

        def narrow(ids: Iterable[str]) -> None:
            nonlocal candidates
            s = set(ids)
            candidates = s if candidates is None else candidates & s

        statuses = q.statuses()
        if statuses is not None:
            narrow(i for s in statuses for i in d.by_status.get(s, ()))
        if q.customer_id is not None:
            narrow(d.by_customer.get(q.customer_id, ()))
        if q.assignee_id is not None:
            narrow(d.by_assignee.get(q.assignee_id, ()))
        pool = (d.tickets[i] for i in candidates) if candidates is not None else d.tickets.values()
        text = q.text.lower() if q.text else None
        out = [
            t
            for t in pool
            if (q.team_id is None or t.team_id == q.team_id)
            and (q.tier is None or t.tier == q.tier)
            and (q.priority is None or t.priority == q.priority)
            and (q.channel is None or t.channel == q.channel)
            and (text is None or text in t.subject.lower())
            and (q.team_ids is None or t.team_id in q.team_ids)
            and (q.tag is None or q.tag in t.tags)
            and (q.before_number is None or t.number < q.before_number)
            and (q.after_number is None or t.number > q.after_number)
            and (
                q.resolved_before is None
                or (t.resolved_at is not None and t.resolved_at < q.resolved_before)
            )
        ]
        out.sort(key=lambda t: t.number, reverse=not q.oldest_first)
        return out

    def find_tickets(self, query: TicketQuery) -> list[Ticket]:
        rows = self._matching(query)[query.offset : query.offset + query.limit]
        return [_copy_ticket(t) for t in rows]

    def count_tickets(self, query: TicketQuery) -> int:
        return len(self._matching(query))

    # -- messages and history --------------------------------------------------------
    def add_message(self, message: Message) -> None:
        d = self._d
        key = message.external_id
        if message.id in d.message_by_id:
            raise DuplicateError(f"a message with id {message.id!r} is stored already")
        if key is not None and key in d.message_by_external:
            raise DuplicateError(
                f"a message with external id {key!r} is stored already (duplicate delivery)"
            )
        d.messages[message.ticket_id].append(message)
        d.message_by_id[message.id] = message
        if key is not None:
            d.message_by_external[key] = message

        def undo() -> None:
            d.messages[message.ticket_id].remove(message)
            del d.message_by_id[message.id]
            if key is not None:
                d.message_by_external.pop(key, None)

        self._undo.append(undo)

    def messages_for(self, ticket_id: str) -> list[Message]:
        return list(self._d.messages.get(ticket_id, ()))

    def find_message_by_external_id(self, external_id: str) -> Message | None:
        return self._d.message_by_external.get(external_id)

    def set_message_external_id(self, message_id: str, external_id: str) -> None:
        d = self._d
        old = d.message_by_id.get(message_id)
        if old is None:
            raise NotFound("message", message_id)
        if old.external_id == external_id:
            return
        if old.external_id is not None:
            raise ValidationError(
                f"message {message_id!r} has external id {old.external_id!r} already; "
                f"it cannot become {external_id!r}"
            )
        owner = d.message_by_external.get(external_id)
        if owner is not None:
            raise DuplicateError(
                f"external id {external_id!r} belongs to message {owner.id!r} already; "
                f"it cannot also be message {message_id!r}'s"
            )
        new = attrs.evolve(old, external_id=external_id)
        thread = d.messages[old.ticket_id]
        index = next(i for i, m in enumerate(thread) if m is old)
        thread[index] = new
        d.message_by_id[message_id] = new
        d.message_by_external[external_id] = new

        def undo() -> None:
            thread[thread.index(new)] = old
            d.message_by_id[message_id] = old
            del d.message_by_external[external_id]

        self._undo.append(undo)

    def add_history(self, entry: HistoryEntry) -> None:
        lst = self._d.history[entry.ticket_id]
        lst.append(entry)
        self._undo.append(lambda: lst.remove(entry))

    def history_for(self, ticket_id: str) -> list[HistoryEntry]:
        return list(self._d.history.get(ticket_id, ()))

    # -- customers, agents, teams ----------------------------------------------------------
    def add_customer(self, customer: Customer) -> None:
        d = self._d
        if customer.id in d.customers:
            raise DuplicateError(f"customer id {customer.id!r} exists already")
        for ident in customer.identities:
            if ident in d.identities:
                raise DuplicateError(
                    f"identity {ident.channel}:{ident.address} belongs to customer "
                    f"{d.identities[ident]!r} already; merge the customers instead"
                )
        self._put_customer(customer)

    def save_customer(self, customer: Customer) -> None:
        if customer.id not in self._d.customers:
            raise NotFound("customer", customer.id)
        for ident in customer.identities:
            owner = self._d.identities.get(ident)
            if owner is not None and owner != customer.id:
                raise DuplicateError(
                    f"identity {ident.channel}:{ident.address} belongs to customer {owner!r}"
                )
        self._put_customer(customer)

    def _put_customer(self, customer: Customer) -> None:
        d = self._d
        old = d.customers.get(customer.id)
        removed = list(old.identities) if old is not None else []
        for ident in removed:
            d.identities.pop(ident, None)
        d.customers[customer.id] = _copy_customer(customer)
        added = [i for i in customer.identities if i not in d.identities]
        for ident in customer.identities:
            d.identities[ident] = customer.id

        def undo() -> None:
            for ident in added:
                d.identities.pop(ident, None)
            for ident in removed:
                d.identities[ident] = customer.id
            if old is None:
                del d.customers[customer.id]
            else:
                d.customers[customer.id] = old

        self._undo.append(undo)

    def get_customer(self, customer_id: str) -> Customer:
        try:
            return _copy_customer(self._d.customers[customer_id])
        except KeyError:
            raise NotFound("customer", customer_id) from None

    def find_customer_by_identity(self, identity: Identity) -> Customer | None:
        cid = self._d.identities.get(identity)
        return None if cid is None else self.get_customer(cid)

    def save_agent(self, agent: Agent) -> None:
        self._put(self._d.agents, agent.id, attrs.evolve(agent))

    def get_agent(self, agent_id: str) -> Agent:
        try:
            return attrs.evolve(self._d.agents[agent_id])
        except KeyError:
            raise NotFound("agent", agent_id, "add it with SupportDesk.add_agent()") from None

    def list_agents(self) -> list[Agent]:
        return [attrs.evolve(a) for a in self._d.agents.values()]

    def save_team(self, team: Team) -> None:
        self._put(self._d.teams, team.id, attrs.evolve(team))

    def list_teams(self) -> list[Team]:
        return [attrs.evolve(t) for t in self._d.teams.values()]

    # -- events -----------------------------------------------------------------------------
    def add_events(self, events: Iterable[DomainEvent]) -> list[int]:
        d = self._d
        seqs = []
        start = len(d.events)
        for e in events:
            seq = len(d.events) + 1
            d.events.append(StoredEvent(seq, e))
            d.unpublished[seq] = None
            if e.ticket_id:
                d.events_by_ticket[e.ticket_id].append(seq)
            seqs.append(seq)

        def undo() -> None:
            for stored in d.events[start:]:
                d.unpublished.pop(stored.seq, None)
                if stored.event.ticket_id:
                    d.events_by_ticket[stored.event.ticket_id].remove(stored.seq)
            del d.events[start:]

        self._undo.append(undo)
        return seqs

    def pending_events(self, limit: int = 1000) -> list[StoredEvent]:
        out: list[StoredEvent] = []
        for seq in self._d.unpublished:
            out.append(self._d.events[seq - 1])
            if len(out) >= limit:
                break
        return out

    def mark_published(self, seqs: Iterable[int]) -> None:
        d = self._d
        done = []
        for seq in seqs:
            if d.unpublished.pop(seq, 0) is None:
                d.events[seq - 1] = attrs.evolve(d.events[seq - 1], published=True)
                done.append(seq)

        def undo() -> None:
            for seq in done:
                d.unpublished[seq] = None
                d.events[seq - 1] = attrs.evolve(d.events[seq - 1], published=False)
            if done:  # re-added seqs went to the end; pending_events must stay oldest first
                d.unpublished = dict.fromkeys(sorted(d.unpublished))

        self._undo.append(undo)

    def events_for(self, ticket_id: str) -> list[StoredEvent]:
        d = self._d
        return [d.events[s - 1] for s in d.events_by_ticket.get(ticket_id, ())]

    def events_since(self, seq: int, limit: int = 1000) -> list[StoredEvent]:
        return self._d.events[seq : seq + limit]

    # -- timers ------------------------------------------------------------------------------
    def schedule_timer(self, timer: Timer) -> None:
        d = self._d
        old = d.timers.get(timer.key)
        if old is not None:
            self._remove_timer(old)
        d.timers[timer.key] = timer
        bisect.insort(d.timer_order, (timer.due_at, timer.key))

        def undo() -> None:
            self._remove_timer(timer)
            if old is not None:
                d.timers[old.key] = old
                bisect.insort(d.timer_order, (old.due_at, old.key))

        self._undo.append(undo)

    def _remove_timer(self, timer: Timer) -> None:
        d = self._d
        d.timers.pop(timer.key, None)
        i = bisect.bisect_left(d.timer_order, (timer.due_at, timer.key))
        if i < len(d.timer_order) and d.timer_order[i] == (timer.due_at, timer.key):
            del d.timer_order[i]

    def cancel_timer(self, key: str) -> None:
        d = self._d
        old = d.timers.get(key)
        if old is None:
            return
        self._remove_timer(old)

        def undo() -> None:
            d.timers[old.key] = old
            bisect.insort(d.timer_order, (old.due_at, old.key))

        self._undo.append(undo)

    def due_timers(self, now: datetime, limit: int = 1000) -> list[Timer]:
        d = self._d
        out: list[Timer] = []
        for due_at, key in d.timer_order:
            if due_at > now or len(out) >= limit:
                break
            out.append(d.timers[key])
        return out

    def timers_for(self, ticket_id: str) -> list[Timer]:
        return sorted(
            (t for t in self._d.timers.values() if t.ticket_id == ticket_id),
            key=lambda t: (t.due_at, t.key),
        )

    # -- raw inbound ----------------------------------------------------------------------------
    def add_raw_inbound(self, raw: RawInbound) -> bool:
        d = self._d
        key = (raw.channel, raw.external_id) if raw.external_id else None
        if key is not None and key in d.raw_keys:
            return False
        if raw.id in d.raw:
            raise DuplicateError(f"raw inbound id {raw.id!r} exists already")
        d.raw[raw.id] = raw
        if key is not None:
            d.raw_keys.add(key)

        def undo() -> None:
            del d.raw[raw.id]
            if key is not None:
                d.raw_keys.discard(key)

        self._undo.append(undo)
        return True

    def update_raw_inbound(
        self, raw_id: str, status: str, ticket_id: str | None = None, error: str | None = None
    ) -> None:
        d = self._d
        try:
            old = d.raw[raw_id]
        except KeyError:
            raise NotFound("raw inbound message", raw_id) from None
        self._put(d.raw, raw_id, attrs.evolve(old, status=status, ticket_id=ticket_id, error=error))

    def list_raw_inbound(self, status: str | None = None, limit: int = 100) -> list[RawInbound]:
        rows = [r for r in self._d.raw.values() if status is None or r.status == status]
        return sorted(rows, key=lambda r: (r.received_at, r.id))[:limit]

    def claim_raw_inbound(self, raw_id: str, now: datetime, until: datetime) -> RawInbound | None:
        d = self._d
        row = d.raw.get(raw_id)
        held = d.raw_claims.get(raw_id)
        if row is None or row.status not in CLAIMABLE_STATUSES:
            return None
        if row.status == "pending" and held is not None and held > now:
            return None
        self._put(d.raw_claims, raw_id, until)
        taken = attrs.evolve(row, status="pending")
        self._put(d.raw, raw_id, taken)
        return taken

    def raw_inbound_by_key(self, channel: str, external_id: str) -> RawInbound | None:
        for row in self._d.raw.values():
            if row.channel == channel and row.external_id == external_id:
                return row
        return None

    def claimable_raw_inbound(
        self, now: datetime, channel_prefix: str = "", limit: int = 100
    ) -> list[RawInbound]:
        d = self._d
        rows = [
            r
            for r in d.raw.values()
            if r.status in CLAIMABLE_STATUSES
            and r.channel.startswith(channel_prefix)
            and (r.id not in d.raw_claims or d.raw_claims[r.id] <= now)
        ]
        return sorted(rows, key=lambda r: (r.status != "pending", r.received_at, r.id))[:limit]

    # -- kv ------------------------------------------------------------------------------------
    def kv_get(self, namespace: str, key: str) -> Any | None:
        value = self._d.kv.get(namespace, {}).get(key)
        return copy.deepcopy(value)

    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        self._put(self._d.kv[namespace], key, copy.deepcopy(value))

    def kv_items(self, namespace: str) -> list[tuple[str, Any]]:
        return sorted(copy.deepcopy(list(self._d.kv.get(namespace, {}).items())))
