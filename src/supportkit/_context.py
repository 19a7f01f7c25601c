"""The transaction a use case runs in: loads tickets once, saves each once, records events.

A :class:`DeskContext` is what every use case and every in-transaction
handler (routing, SLA, triage, the bot) works with. It caches the tickets it
loads, remembers the version each was loaded at, and on :meth:`flush` runs
the handlers for newly recorded events (which may record more), then saves
every touched ticket with optimistic concurrency and appends all events to
the outbox, all inside the one unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Protocol

from .domain._definitions import AUTOMATED, is_automated, is_response
from .domain._errors import InvalidTransition, StaleVersion, ValidationError
from .domain._events import (
    DomainEvent,
    MessageAdded,
    StatusChanged,
    TicketAssigned,
    TicketEscalated,
    TicketUpdated,
)
from .domain._model import Attachment, Direction, HistoryEntry, Message, Ticket
from .ports._storage import (
    AcknowledgementStore,
    CursorStore,
    CustomerStore,
    DeliveryStore,
    KeyValueStore,
    MessageStore,
    OutboxStore,
    StoredEvent,
    TicketStore,
    TimerStore,
    UnitOfWork,
)
from .typing import Desk, Handler

__all__ = ["DeskContext", "Handler"]


class _CoreDesk(Desk, Protocol):
    """The desk as its own context uses it: the public surface plus two internal hooks."""

    first_reply_event: str | None
    expected_versions: ContextVar[Mapping[str, int] | None]

    def validate_text(self, text: str, html: str | None, *, what: str) -> None: ...

    def dispatch_in_transaction(self, ctx: DeskContext, event: DomainEvent) -> None: ...


_MAX_HANDLER_ROUNDS = 50


class DeskContext:
    """One use case's view of the desk: a unit of work plus the ticket operations.

    The implementation of the public :class:`supportkit.typing.DeskContext` Protocol.
    """

    def __init__(self, desk: _CoreDesk, uow: UnitOfWork, now: datetime) -> None:
        self.desk = desk
        self.uow = uow
        self.now = now
        self._tickets: dict[str, Ticket] = {}
        self._loaded_version: dict[str, int] = {}
        self._new: set[str] = set()
        self._loose_events: list[DomainEvent] = []
        self.stored: list[StoredEvent] = []

    # -- the storage ports by name (the public context's way to them) ------------------
    @property
    def tickets(self) -> TicketStore:
        return self.uow

    @property
    def messages(self) -> MessageStore:
        return self.uow

    @property
    def customers(self) -> CustomerStore:
        return self.uow

    @property
    def outbox(self) -> OutboxStore:
        return self.uow

    @property
    def timers(self) -> TimerStore:
        return self.uow

    @property
    def deliveries(self) -> DeliveryStore:
        return self.uow

    @property
    def acknowledgements(self) -> AcknowledgementStore:
        return self.uow

    @property
    def cursors(self) -> CursorStore:
        return self.uow

    @property
    def kv(self) -> KeyValueStore:
        return self.uow

    # -- loading -----------------------------------------------------------------------
    def ticket(self, ticket_id: str) -> Ticket:
        """The ticket, loaded once per use case; changes to it are saved on flush."""
        t = self._tickets.get(ticket_id)
        if t is None:
            # held until commit: another use case on this ticket waits instead of conflicting
            t = self.uow.get_ticket_for_update(ticket_id)
            self._loaded(t)
        return t

    def loaded_ticket(self, ticket_id: str) -> Ticket | None:
        """The ticket if this use case has loaded or created it already, else None (no I/O)."""
        return self._tickets.get(ticket_id)

    def _loaded(self, t: Ticket) -> None:
        expected = (self.desk.expected_versions.get() or {}).get(t.id)
        if expected is not None and expected != t.version:
            raise StaleVersion("ticket", t.id, expected, t.version)
        self._tickets[t.id] = t
        self._loaded_version[t.id] = t.version

    def ticket_by_number(self, number: int) -> Ticket:
        for t in self._tickets.values():
            if t.number == number:
                return t
        t = self.uow.get_ticket_by_number(number)
        if t.id in self._tickets:
            return self._tickets[t.id]
        t = self.uow.get_ticket_for_update(t.id)
        self._loaded(t)
        return t

    def adopt_new(self, ticket: Ticket) -> None:
        """Register a ticket created in this use case (stored on flush)."""
        self._tickets[ticket.id] = ticket
        self._new.add(ticket.id)

    def tickets_in_use(self) -> list[tuple[Ticket, bool]]:
        """The tickets this use case loaded or created (their changes are stored at the
        end), each with True if it was created in it (not stored at all yet)."""
        return [(t, tid in self._new) for tid, t in self._tickets.items()]

    def record(self, event: DomainEvent) -> None:
        """Record an event not tied to a loaded ticket (customer merges, agent changes)."""
        self._loose_events.append(event)

    # -- operations shared by use cases and handlers ------------------------------------
    def transition(
        self, ticket: Ticket, event: str, actor: str, reason: str = "", **params: Any
    ) -> str:
        """Fire a lifecycle event on *ticket*; records history and a StatusChanged event."""
        lifecycle = self.desk.lifecycle_of(ticket)
        before = ticket.status
        after = lifecycle.fire(ticket, event, {"reason": reason, **params})
        ticket.status = after
        ticket.updated_at = self.now
        self.uow.add_history(HistoryEntry(ticket.id, self.now, actor, event, before, after, reason))
        ticket.record(StatusChanged(ticket.id, self.now, event, before, after, actor, reason))
        return after

    def resolve(self, ticket: Ticket, actor: str, resolution: str) -> None:
        """Resolve with a summary of what fixed it (the lifecycle's guard requires one)."""
        self.transition(ticket, "resolve", actor, resolution=resolution)
        ticket.resolution = resolution.strip()
        ticket.resolved_at = self.now

    def reply(self, ticket: Ticket, author: str, text: str, **fields: Any) -> Message:
        """An outbound answer to the customer; a person's first one also fires the
        desk's ``first_reply_event`` when the lifecycle allows it (registered ->
        diagnosing), so the customer's tracking says the request is in progress."""
        first = ticket.first_response_at is None
        msg = self.add_message(ticket, Direction.OUTBOUND, author, text, **fields)
        event = self.desk.first_reply_event
        if (
            first
            and ticket.first_response_at is not None  # a person answered, not the bot
            and event is not None
            and self.desk.lifecycle_of(ticket).can_fire(ticket.status, event)
        ):
            self.transition(ticket, event, author, "first reply to the customer")
        return msg

    def add_message(
        self,
        ticket: Ticket,
        direction: Direction,
        author: str,
        text: str,
        *,
        html: str | None = None,
        channel: str | None = None,
        attachments: Iterable[Attachment] = (),
        external_id: str | None = None,
        in_reply_to: str | None = None,
        meta: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> Message:
        """Store a message on *ticket* and record MessageAdded."""
        self.desk.validate_text(text, html, what=f"{direction.value} message")
        if direction is not Direction.NOTE and self.desk.lifecycle_of(ticket).is_final(
            ticket.status
        ):
            raise InvalidTransition(
                ticket.id,
                ticket.status,
                f"add {direction.value} message",
                (),
                "the ticket is closed; a new inbound message opens a new ticket",
            )
        at = created_at or self.now
        meta = dict(meta or {})
        automated = is_automated(meta)
        if automated:
            meta[AUTOMATED] = True  # decided once, here; every metric reads this mark
        msg = Message(
            id=self.desk.new_id(),
            ticket_id=ticket.id,
            direction=direction,
            channel=channel or ticket.channel,
            author=author,
            text=text,
            created_at=at,
            html=html,
            attachments=tuple(attachments),
            external_id=external_id,
            in_reply_to=in_reply_to,
            meta=meta,
        )
        self.uow.add_message(msg)
        if ticket.first_response_at is None and is_response(direction, automated):
            ticket.first_response_at = at
        if direction is Direction.INBOUND:
            ticket.last_customer_message_at = at
        ticket.updated_at = self.now
        ticket.record(
            MessageAdded(
                ticket.id, self.now, msg.id, direction.value, author, msg.channel, automated
            )
        )
        return msg

    def assign(
        self,
        ticket: Ticket,
        agent_id: str | None,
        *,
        actor: str,
        strategy: str = "manual",
        team_id: str | None = None,
    ) -> None:
        """Give *ticket* to *agent_id* (None unassigns); records TicketAssigned."""
        if agent_id is not None:
            agent = self.uow.get_agent(agent_id)
            if team_id is None and agent.teams and ticket.team_id not in agent.teams:
                team_id = agent.teams[0]
        previous = ticket.assignee_id
        ticket.assignee_id = agent_id
        if team_id is not None:
            ticket.team_id = team_id
        ticket.updated_at = self.now
        ticket.record(
            TicketAssigned(ticket.id, self.now, agent_id, ticket.team_id, previous, strategy, actor)
        )

    def escalate(
        self, ticket: Ticket, to_tier: str, *, actor: str, reason: str, policy: str = "manual"
    ) -> None:
        """Move *ticket* to *to_tier*; records history and TicketEscalated."""
        self.desk.check_tier(to_tier)
        if not reason.strip():
            raise ValidationError("an escalation needs a reason: pass reason='...'")
        if self.desk.lifecycle_of(ticket).is_final(ticket.status):
            raise InvalidTransition(
                ticket.id, ticket.status, "escalate", (), "the ticket is closed"
            )
        from_tier = ticket.tier
        if to_tier == from_tier:
            raise ValidationError(f"ticket {ticket.id} is already at tier {to_tier!r}")
        ticket.tier = to_tier
        ticket.escalation_count += 1
        ticket.updated_at = self.now
        self.uow.add_history(
            HistoryEntry(
                ticket.id,
                self.now,
                actor,
                "escalate",
                ticket.status,
                ticket.status,
                f"{from_tier} -> {to_tier} ({policy}): {reason}",
            )
        )
        ticket.record(
            TicketEscalated(ticket.id, self.now, from_tier, to_tier, reason, policy, actor)
        )

    def update(self, ticket: Ticket, actor: str, **changes: Any) -> None:
        """Set plain fields (priority, category, tags, custom_fields, ...); records TicketUpdated."""
        allowed = {
            "priority",
            "category",
            "tags",
            "custom_fields",
            "language",
            "subject",
            "team_id",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(
                f"cannot update {sorted(unknown)} directly; updatable fields: {sorted(allowed)}"
            )
        actual: dict[str, Any] = {}
        for name, value in changes.items():
            if getattr(ticket, name) != value:
                setattr(ticket, name, value)
                actual[name] = sorted(value) if isinstance(value, frozenset) else value
        if actual:
            ticket.updated_at = self.now
            ticket.record(TicketUpdated(ticket.id, self.now, actual, actor))

    # -- flushing ----------------------------------------------------------------------
    def flush(self) -> None:
        """Run in-transaction handlers, then save tickets and append events to the outbox."""
        handled: dict[str, int] = {}
        loose_done = 0
        for _ in range(_MAX_HANDLER_ROUNDS):
            pending = [(t, t.events[handled.get(t.id, 0) :]) for t in list(self._tickets.values())]
            pending = [(t, evs) for t, evs in pending if evs]
            loose = self._loose_events[loose_done:]
            if not pending and not loose:
                break
            loose_done += len(loose)
            for ev in loose:
                self.desk.dispatch_in_transaction(self, ev)
            for t, evs in pending:
                handled[t.id] = handled.get(t.id, 0) + len(evs)
                for ev in evs:
                    self.desk.dispatch_in_transaction(self, ev)
        else:
            raise RuntimeError(
                "in-transaction handlers kept recording events for "
                f"{_MAX_HANDLER_ROUNDS} rounds; a handler loops"
            )
        events: list[DomainEvent] = list(self._loose_events)
        for tid, t in self._tickets.items():
            if tid in self._new:
                self.uow.add_ticket(t)
            elif t.events:
                self.uow.save_ticket(t, self._loaded_version[tid])
            events.extend(t.events)
        if events:
            seqs = self.uow.add_events(events)
            self.stored = [StoredEvent(s, e) for s, e in zip(seqs, events, strict=True)]
        for t in self._tickets.values():
            t.events.clear()
