"""SupportDesk: the application service a host builds once and calls for every use case.

Each use case runs in one unit of work: it loads what it needs, asks the
lifecycle and the policies what happens, lets in-transaction handlers
(routing, SLA, triage, the bot) react to the events it recorded, stores the
changes and the events together, commits, and only then publishes the
events as blinker signals. A failing subscriber neither undoes the change
nor stops the other subscribers; its failure is logged and sent on
``desk.signals.subscriber_failed``.

>>> from supportkit import SupportDesk
>>> desk = SupportDesk()
>>> t = desk.receive("email", "ann@example.com", "My invoice is wrong", subject="Invoice")
>>> t.status, t.number
('registered', 1)
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs
import blinker

from ._context import DeskContext, Handler
from ._ids import TimeOrderedIds
from .domain._errors import (
    ConfigurationError,
    DuplicateError,
    MalformedMessage,
    NotFound,
    ValidationError,
)
from .domain._events import (
    EVENT_TYPES,
    AgentAvailabilityChanged,
    AgentSaved,
    CustomerMerged,
    CustomerUpdated,
    DomainEvent,
    TeamSaved,
    TicketReceived,
    event_type,
)
from .domain._lifecycle import Lifecycle, default_lifecycle
from .domain._model import (
    Agent,
    Attachment,
    Availability,
    Customer,
    Direction,
    HistoryEntry,
    Identity,
    Message,
    Priority,
    Team,
    Ticket,
    ensure_utc,
)
from .ports._clock import Clock, SystemClock
from .ports._storage import Storage, StoredEvent, TicketQuery, Timer

__all__ = ["CustomerHistory", "CustomerNote", "DeskSignals", "SupportDesk", "TicketTracking"]

log = logging.getLogger("supportkit")
T = TypeVar("T")

_TOKEN_RE = re.compile(r"\[(?:ticket)?#(\d{1,12})\]", re.IGNORECASE)
_CTRL_RE = re.compile(r"[\r\n\x00]+")

TimerHandler = Callable[[DeskContext, Timer], None]


class DeskSignals:
    """The blinker signals of one desk (never global: two desks never see each other).

    - ``event``: every domain event, ``sender`` is the desk, keyword ``event``.
    - ``for_type(name)``: events of one type, e.g. ``"ticket.status_changed"``.
    - ``subscriber_failed``: a subscriber raised; keywords ``event``, ``receiver``, ``error``.
    """

    def __init__(self) -> None:
        self._ns = blinker.Namespace()
        self.event = self._ns.signal("event")
        self.subscriber_failed = self._ns.signal("subscriber_failed")

    def for_type(self, name: str | type[DomainEvent]) -> blinker.NamedSignal:
        if isinstance(name, type):
            name = name.type_name
        if name not in EVENT_TYPES:
            raise ValidationError(
                f"unknown event type {name!r}; known types: {sorted(EVENT_TYPES)}"
            )
        return self._ns.signal(f"event:{name}")


@attrs.frozen
class TicketTracking:
    """A ticket as its customer sees it: no internal notes, no agent names."""

    number: int
    subject: str
    status: str
    status_label: str
    received_at: datetime
    updated_at: datetime | None
    resolved: bool
    closed: bool
    public_messages: int
    timeline: tuple[tuple[datetime, str], ...]


@attrs.frozen
class CustomerHistory:
    """A customer's profile as agents see it: every ticket, the messages on the
    listed tickets, the agents' notes on the customer, and how many tickets are open."""

    customer: Customer
    tickets: tuple[Ticket, ...]
    message_count: int
    open_count: int
    ticket_count: int = 0
    messages: tuple[Message, ...] = ()
    notes: tuple[CustomerNote, ...] = ()


@attrs.frozen
class CustomerNote:
    """An agent's note on a customer (not on a ticket): kept on the profile."""

    at: datetime
    author: str
    text: str


class SupportDesk:
    """The one object a host builds: every support use case is a method here."""

    def __init__(
        self,
        storage: Storage | None = None,
        *,
        clock: Clock | None = None,
        lifecycle: Lifecycle | None = None,
        lifecycles: Iterable[Lifecycle] = (),
        tiers: Sequence[str] = ("L1", "L2", "L3"),
        ids: Callable[[], str] | None = None,
        max_text_chars: int = 1_000_000,
        outbox_mark_batch: int = 64,
        extensions: Iterable[Any] = (),
    ) -> None:
        if storage is None:
            from .storage.memory import MemoryStorage

            storage = MemoryStorage()
        self.storage = storage
        self.clock: Clock = clock or SystemClock()
        self.lifecycle = lifecycle or default_lifecycle()
        self._lifecycles: dict[str, Lifecycle] = {self.lifecycle.name: self.lifecycle}
        for lc in lifecycles:
            if lc.name in self._lifecycles and self._lifecycles[lc.name] is not lc:
                raise ConfigurationError(f"two lifecycles are named {lc.name!r}")
            self._lifecycles[lc.name] = lc
        if not tiers or len(set(tiers)) != len(tiers):
            raise ConfigurationError(f"tiers must be distinct and non-empty, got {list(tiers)}")
        self.tiers: tuple[str, ...] = tuple(tiers)
        self._ids = ids or TimeOrderedIds()
        if max_text_chars <= 0:
            raise ConfigurationError("max_text_chars must be positive")
        self.max_text_chars = max_text_chars
        self.signals = DeskSignals()
        self._handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)
        self._timer_handlers: dict[str, TimerHandler] = {}
        self._to_mark: list[int] = []
        if outbox_mark_batch < 1:
            raise ConfigurationError("outbox_mark_batch must be at least 1")
        self.outbox_mark_batch = outbox_mark_batch
        self.extensions = list(extensions)
        for ext in self.extensions:
            ext.install(self)

    # ------------------------------------------------------------------ wiring
    def new_id(self) -> str:
        return self._ids()

    def lifecycle_of(self, ticket: Ticket) -> Lifecycle:
        try:
            return self._lifecycles[ticket.lifecycle]
        except KeyError:
            raise ConfigurationError(
                f"ticket {ticket.id} uses lifecycle {ticket.lifecycle!r}, which this desk "
                f"does not know; pass it in SupportDesk(lifecycles=[...])"
            ) from None

    def check_tier(self, tier: str) -> None:
        if tier not in self.tiers:
            raise ValidationError(
                f"unknown tier {tier!r}; this desk's tiers are {list(self.tiers)}"
            )

    def on(self, event_cls: type[T], handler: Callable[[DeskContext, T], None]) -> None:
        """Run *handler(ctx, event)* inside the transaction of every use case recording *event_cls*.

        In-transaction handlers are how policies (routing, SLA clocks,
        triage, the bot) take part in a use case: what they change is stored
        atomically with it. Subscribe to ``desk.signals`` instead for
        side effects after commit.
        """
        self._handlers[event_cls].append(handler)  # type: ignore[index]

    def on_timer(self, kind: str, handler: TimerHandler) -> None:
        """Handle timers of *kind* when :meth:`tick` finds them due."""
        if kind in self._timer_handlers:
            raise ConfigurationError(f"a handler for timer kind {kind!r} is installed already")
        self._timer_handlers[kind] = handler

    def dispatch_in_transaction(self, ctx: DeskContext, event: DomainEvent) -> None:
        for cls in type(event).__mro__:
            for handler in self._handlers.get(cls, ()):
                handler(ctx, event)

    def validate_text(self, text: str, html: str | None, *, what: str) -> None:
        if not isinstance(text, str):
            raise MalformedMessage(f"{what}: text must be str, got {type(text).__name__}")
        size = len(text) + len(html or "")
        if size > self.max_text_chars:
            raise MalformedMessage(
                f"{what} is {size} characters, above this desk's limit of "
                f"{self.max_text_chars}; send large content as an attachment"
            )

    # ------------------------------------------------------------------ running use cases
    def run(self, use_case: Callable[[DeskContext], T], *, now: datetime | None = None) -> T:
        """Run *use_case(ctx)* in one unit of work, commit, then publish its events.

        Public so that extensions can add use cases with the same guarantees.
        *now* overrides the clock for this use case (``tick`` passes its instant).
        """
        marking = self._to_mark if len(self._to_mark) >= self.outbox_mark_batch else []
        with self.storage.unit_of_work() as uow:
            if marking:
                uow.mark_published(marking)
            ctx = DeskContext(self, uow, ensure_utc(now or self.clock.now()))
            result = use_case(ctx)
            ctx.flush()
            uow.commit()
        if marking:
            self._to_mark = []
        self._publish(ctx.stored)
        return result

    def _publish(self, stored: Sequence[StoredEvent]) -> None:
        for se in stored:
            self._deliver(se.event)
            self._to_mark.append(se.seq)

    def _deliver(self, event: DomainEvent) -> None:
        for signal in (self.signals.event, self.signals.for_type(event_type(event))):
            if not signal.receivers:
                continue
            for receiver in list(signal.receivers_for(self)):
                try:
                    receiver(self, event=event)
                except Exception as exc:
                    log.exception("supportkit subscriber %r failed on %s", receiver, event)
                    if self.signals.subscriber_failed.receivers:
                        for r in list(self.signals.subscriber_failed.receivers_for(self)):
                            try:
                                r(self, event=event, receiver=receiver, error=exc)
                            except Exception:
                                log.exception("subscriber_failed receiver %r failed", r)

    def publish_pending(self, limit: int = 1000) -> int:
        """Publish events that were stored but not yet delivered (after a crash).

        Delivered events are marked published in batches (``outbox_mark_batch``,
        written with a later use case, or at once by :meth:`flush_outbox`), so
        delivery is at least once: after a crash a subscriber may see up to one
        batch again. Returns the number published.
        """
        with self.storage.unit_of_work() as uow:
            if self._to_mark:
                uow.mark_published(self._to_mark)
            pending = uow.pending_events(limit)
            uow.commit()
        self._to_mark = []
        for se in pending:
            self._deliver(se.event)
        with self.storage.unit_of_work() as uow:
            uow.mark_published([se.seq for se in pending])
            uow.commit()
        return len(pending)

    def flush_outbox(self) -> None:
        """Mark delivered events as published now (otherwise done with the next use case)."""
        if self._to_mark:
            with self.storage.unit_of_work() as uow:
                uow.mark_published(self._to_mark)
                uow.commit()
            self._to_mark = []

    # ------------------------------------------------------------------ inbound
    def receive(
        self,
        channel: str,
        sender: str,
        text: str,
        *,
        subject: str = "",
        sender_name: str | None = None,
        html: str | None = None,
        attachments: Iterable[Attachment] = (),
        external_id: str | None = None,
        in_reply_to: str | None = None,
        references: Sequence[str] = (),
        ticket_id: str | None = None,
        received_at: datetime | None = None,
        priority: Priority | None = None,
        category: str | None = None,
        tags: Iterable[str] = (),
        language: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Ticket:
        """Take an inbound message: a new ticket, or a message threaded onto the one it answers.

        Threading, in order: ``ticket_id`` given; ``in_reply_to`` or
        ``references`` naming a stored message's external id; a ticket token
        like ``[#42]`` in the subject. A reply to a resolved ticket reopens
        it; a reply while waiting on the customer resumes it; a reply to a
        closed ticket opens a new one that links to it. A repeated
        ``external_id`` (duplicate delivery) changes nothing and returns the
        ticket it went to. New tickets are registered at once.
        """
        if not isinstance(channel, str) or not channel.strip():
            raise MalformedMessage("channel is empty: name the channel the message came through")
        if not isinstance(sender, str) or not sender.strip():
            raise MalformedMessage(
                f"sender is empty on a {channel} message: a customer message needs a sender "
                "address (email, phone, chat user id)"
            )
        if not isinstance(text, str):
            raise MalformedMessage(
                f"message from {sender!r}: text must be str, got {type(text).__name__}"
            )
        if not text.strip() and not html and not attachments:
            raise MalformedMessage(
                f"message from {sender!r} has no text, html or attachment; nothing to register"
            )
        self.validate_text(text, html, what=f"message from {sender!r}")
        subject = _CTRL_RE.sub(" ", subject).strip()[:998]
        attachments = tuple(attachments)
        at = ensure_utc(received_at) if received_at else None

        def use_case(ctx: DeskContext) -> Ticket:
            if external_id is not None:
                dup = ctx.uow.find_message_by_external_id(external_id)
                if dup is not None:
                    return ctx.ticket(dup.ticket_id)
            customer = self._customer_for(ctx, channel, sender, sender_name, language)
            ticket = self._thread(ctx, ticket_id, in_reply_to, references, subject)
            when = at or ctx.now

            def add_inbound(ticket: Ticket) -> None:
                self._add_inbound(
                    ctx, ticket, channel, sender, text, html, attachments,
                    external_id, in_reply_to, references, meta, when,
                )  # fmt: skip

            if ticket is not None and self.lifecycle_of(ticket).is_final(ticket.status):
                follow_up_of = ticket.number
                ticket = None
            else:
                follow_up_of = None
            if ticket is None:
                ticket = Ticket(
                    id=self.new_id(),
                    number=ctx.uow.next_ticket_number(),
                    subject=subject or _subject_from(text),
                    customer_id=customer.id,
                    channel=channel,
                    status=self.lifecycle.initial,
                    received_at=when,
                    priority=priority or Priority.NORMAL,
                    category=category,
                    tier=self.tiers[0],
                    tags=frozenset(tags),
                    language=language or customer.language,
                    lifecycle=self.lifecycle.name,
                    updated_at=ctx.now,
                    custom_fields={"follow_up_of": follow_up_of} if follow_up_of else {},
                )
                ctx.adopt_new(ticket)
                ticket.record(
                    TicketReceived(
                        ticket.id, ctx.now, ticket.number, channel, customer.id, ticket.subject
                    )
                )
                add_inbound(ticket)
                if self.lifecycle.can_fire(ticket.status, "register"):
                    ctx.transition(ticket, "register", actor="system", reason="new request")
                    ticket.registered_at = ctx.now
                return ticket
            add_inbound(ticket)
            lc = self.lifecycle_of(ticket)
            if lc.can_fire(ticket.status, "reopen") and ticket.status == "resolved":
                ctx.transition(ticket, "reopen", actor=sender.strip(), reason="customer replied")
                ticket.reopen_count += 1
                ticket.resolved_at = None
            elif lc.can_fire(ticket.status, "customer_replied"):
                ctx.transition(
                    ticket, "customer_replied", actor=sender.strip(), reason="customer replied"
                )
            return ticket

        return self.run(use_case)

    def _add_inbound(
        self,
        ctx: DeskContext,
        ticket: Ticket,
        channel: str,
        sender: str,
        text: str,
        html: str | None,
        attachments: tuple[Attachment, ...],
        external_id: str | None,
        in_reply_to: str | None,
        references: Sequence[str],
        meta: Mapping[str, Any] | None,
        when: datetime,
    ) -> None:
        m = dict(meta or {})
        if references:
            m["references"] = list(references)
        ctx.add_message(
            ticket,
            Direction.INBOUND,
            sender.strip(),
            text,
            html=html,
            channel=channel,
            attachments=attachments,
            external_id=external_id,
            in_reply_to=in_reply_to,
            meta=m,
            created_at=when,
        )

    def _customer_for(
        self,
        ctx: DeskContext,
        channel: str,
        sender: str,
        name: str | None,
        language: str | None,
    ) -> Customer:
        ident = Identity.of(_identity_channel(channel, sender), sender)
        customer = ctx.uow.find_customer_by_identity(ident)
        if customer is not None:
            while customer.merged_into:
                customer = ctx.uow.get_customer(customer.merged_into)
            return customer
        customer = Customer(
            id=self.new_id(),
            name=(name or "").strip() or sender.strip(),
            identities=[ident],
            language=language or "en",
            created_at=ctx.now,
        )
        ctx.uow.add_customer(customer)
        return customer

    def _thread(
        self,
        ctx: DeskContext,
        ticket_id: str | None,
        in_reply_to: str | None,
        references: Sequence[str],
        subject: str,
    ) -> Ticket | None:
        if ticket_id is not None:
            return ctx.ticket(ticket_id)
        for ref in (in_reply_to, *reversed(references)):
            if ref:
                msg = ctx.uow.find_message_by_external_id(ref)
                if msg is not None:
                    return ctx.ticket(msg.ticket_id)
        m = _TOKEN_RE.search(subject)
        if m:
            try:
                return ctx.ticket_by_number(int(m.group(1)))
            except NotFound:
                return None
        return None

    # ------------------------------------------------------------------ agents' use cases
    def reply(
        self,
        ticket_id: str,
        author: str,
        text: str,
        *,
        html: str | None = None,
        attachments: Iterable[Attachment] = (),
        external_id: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Message:
        """An agent's (or the bot's) answer to the customer, sent through the ticket's channel."""
        _require_text(text, "reply")

        def use_case(ctx: DeskContext) -> Message:
            t = ctx.ticket(ticket_id)
            return ctx.add_message(
                t,
                Direction.OUTBOUND,
                author,
                text,
                html=html,
                attachments=attachments,
                external_id=external_id,
                meta=dict(meta or {}),
            )

        return self.run(use_case)

    def add_note(self, ticket_id: str, author: str, text: str) -> Message:
        """An internal note: visible to agents, never to the customer."""
        _require_text(text, "note")
        return self.run(
            lambda ctx: ctx.add_message(ctx.ticket(ticket_id), Direction.NOTE, author, text)
        )

    def log_call(
        self,
        ticket_id: str,
        author: str,
        *,
        direction: str,
        duration_seconds: int,
        notes: str,
    ) -> Message:
        """Log a phone call on a ticket as a message (inbound or outbound call)."""
        if direction not in ("inbound", "outbound"):
            raise ValidationError(
                f"call direction must be 'inbound' or 'outbound', not {direction!r}"
            )
        if duration_seconds < 0:
            raise ValidationError(f"call duration cannot be negative ({duration_seconds}s)")
        _require_text(notes, "call notes")

        def use_case(ctx: DeskContext) -> Message:
            t = ctx.ticket(ticket_id)
            return ctx.add_message(
                t,
                Direction(direction),
                author,
                notes,
                channel="phone",
                meta={"call": {"direction": direction, "duration_seconds": duration_seconds}},
            )

        return self.run(use_case)

    def assign(self, ticket_id: str, agent_id: str | None, *, actor: str = "system") -> Ticket:
        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.assign(t, agent_id, actor=actor, strategy="manual")
            return t

        return self.run(use_case)

    def transition(
        self, ticket_id: str, event: str, *, actor: str, reason: str = "", **params: Any
    ) -> Ticket:
        """Fire any lifecycle event by name (for host-defined lifecycles)."""

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.transition(t, event, actor, reason, **params)
            return t

        return self.run(use_case)

    def start_diagnosis(self, ticket_id: str, *, actor: str) -> Ticket:
        return self.transition(ticket_id, "start_diagnosis", actor=actor)

    def wait_on_customer(self, ticket_id: str, *, actor: str, reason: str = "") -> Ticket:
        return self.transition(ticket_id, "wait_on_customer", actor=actor, reason=reason)

    def resolve(self, ticket_id: str, *, actor: str, resolution: str) -> Ticket:
        """Resolve with a summary of what fixed it (required)."""

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.transition(t, "resolve", actor, resolution=resolution)
            t.resolution = resolution.strip()
            t.resolved_at = ctx.now
            return t

        return self.run(use_case)

    def close(self, ticket_id: str, *, actor: str, reason: str = "") -> Ticket:
        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.transition(t, "close", actor, reason)
            t.closed_at = ctx.now
            t.close_reason = reason or None
            return t

        return self.run(use_case)

    def close_as_spam(self, ticket_id: str, *, actor: str, reason: str) -> Ticket:
        return self._close_special(ticket_id, "close_as_spam", actor, reason)

    def close_as_duplicate(
        self, ticket_id: str, *, actor: str, duplicate_of: str, reason: str = ""
    ) -> Ticket:
        reason = reason or f"duplicate of {duplicate_of}"

        def extra(ctx: DeskContext, t: Ticket) -> None:
            original = ctx.ticket(duplicate_of)
            if original.id == t.id:
                raise ValidationError("a ticket cannot be a duplicate of itself")
            t.custom_fields["duplicate_of"] = original.number

        return self._close_special(ticket_id, "close_as_duplicate", actor, reason, extra)

    def _close_special(
        self,
        ticket_id: str,
        event: str,
        actor: str,
        reason: str,
        extra: Callable[[DeskContext, Ticket], None] | None = None,
    ) -> Ticket:
        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            if extra:
                extra(ctx, t)
            ctx.transition(t, event, actor, reason)
            t.closed_at = ctx.now
            t.close_reason = reason
            return t

        return self.run(use_case)

    def reopen(self, ticket_id: str, *, actor: str, reason: str) -> Ticket:
        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.transition(t, "reopen", actor, reason)
            t.reopen_count += 1
            t.resolved_at = None
            return t

        return self.run(use_case)

    def escalate(
        self, ticket_id: str, to_tier: str, *, actor: str, reason: str, policy: str = "manual"
    ) -> Ticket:
        """Move a ticket to another tier by hand (automatic policies install handlers)."""

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.escalate(t, to_tier, actor=actor, reason=reason, policy=policy)
            return t

        return self.run(use_case)

    def update(self, ticket_id: str, *, actor: str, **changes: Any) -> Ticket:
        """Change priority, category, tags, custom_fields, language, subject or team."""
        if "priority" in changes:
            changes["priority"] = Priority(changes["priority"])
        if "tags" in changes:
            changes["tags"] = frozenset(changes["tags"])

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.update(t, actor, **changes)
            return t

        return self.run(use_case)

    # ------------------------------------------------------------------ agents and teams
    def add_team(self, team: Team) -> Team:
        self.check_tier(team.tier)

        def use_case(ctx: DeskContext) -> Team:
            if team.fallback is not None:
                teams = {t.id: t for t in ctx.uow.list_teams()}
                teams[team.id] = team
                _check_fallbacks(teams)
            ctx.uow.save_team(team)
            ctx.record(TeamSaved("", ctx.now, team.id, team.tier, team.fallback))
            return team

        return self.run(use_case)

    def add_agent(self, agent: Agent) -> Agent:
        self.check_tier(agent.tier)
        if agent.capacity < 0:
            raise ConfigurationError(
                f"agent {agent.id!r} has capacity {agent.capacity}; capacity cannot be negative"
            )

        def use_case(ctx: DeskContext) -> Agent:
            known = {t.id for t in ctx.uow.list_teams()}
            missing = [t for t in agent.teams if t not in known]
            if missing:
                raise ConfigurationError(
                    f"agent {agent.id!r} is in unknown teams {missing}; add them with add_team()"
                )
            ctx.uow.save_agent(agent)
            ctx.record(AgentSaved("", ctx.now, agent.id, agent.tier, tuple(agent.teams)))
            return agent

        return self.run(use_case)

    def set_availability(self, agent_id: str, availability: Availability | str) -> Agent:
        value = Availability(availability)

        def use_case(ctx: DeskContext) -> Agent:
            agent = ctx.uow.get_agent(agent_id)
            agent.availability = value
            ctx.uow.save_agent(agent)
            ctx.record(AgentAvailabilityChanged("", ctx.now, agent_id, value.value))
            return agent

        return self.run(use_case)

    def agents(self) -> list[Agent]:
        with self.storage.unit_of_work() as uow:
            return uow.list_agents()

    def teams(self) -> list[Team]:
        with self.storage.unit_of_work() as uow:
            return uow.list_teams()

    # ------------------------------------------------------------------ customers
    def add_identity(self, customer_id: str, channel: str, address: str) -> Customer:
        """Teach the desk that *address* on *channel* is this customer too."""
        ident = Identity.of(channel, address)

        def use_case(ctx: DeskContext) -> Customer:
            c = ctx.uow.get_customer(customer_id)
            owner = ctx.uow.find_customer_by_identity(ident)
            if owner is not None and owner.id != c.id:
                raise DuplicateError(
                    f"{channel}:{address} belongs to customer {owner.id!r}; "
                    f"use merge_customers({owner.id!r}, into={c.id!r})"
                )
            if ident not in c.identities:
                c.identities.append(ident)
                ctx.uow.save_customer(c)
                ctx.record(
                    CustomerUpdated("", ctx.now, c.id, f"identity {ident.channel}:{ident.address}")
                )
            return c

        return self.run(use_case)

    def merge_customers(self, source_id: str, *, into: str) -> Customer:
        """Merge two profiles of one person: identities and tickets move to *into*."""
        if source_id == into:
            raise ValidationError("cannot merge a customer into itself")

        def use_case(ctx: DeskContext) -> Customer:
            src = ctx.uow.get_customer(source_id)
            dst = ctx.uow.get_customer(into)
            idents = list(src.identities)
            src.identities = []
            src.merged_into = dst.id
            ctx.uow.save_customer(src)
            for ident in idents:
                if ident not in dst.identities:
                    dst.identities.append(ident)
            ctx.uow.save_customer(dst)
            offset = 0
            while True:
                batch = ctx.uow.find_tickets(
                    TicketQuery(customer_id=src.id, limit=500, offset=offset)
                )
                if not batch:
                    break
                for t in batch:
                    tt = ctx.ticket(t.id)
                    tt.customer_id = dst.id
                    tt.record(CustomerMerged(tt.id, ctx.now, src.id, dst.id))
                offset += len(batch)
            ctx.record(CustomerMerged("", ctx.now, src.id, dst.id))
            return dst

        return self.run(use_case)

    def get_customer(self, customer_id: str) -> Customer:
        with self.storage.unit_of_work() as uow:
            return uow.get_customer(customer_id)

    def find_customer(self, channel: str, address: str) -> Customer | None:
        """Look a customer up by any of their identities."""
        ident = Identity.of(channel, address)
        with self.storage.unit_of_work() as uow:
            c = uow.find_customer_by_identity(ident)
            while c is not None and c.merged_into:
                c = uow.get_customer(c.merged_into)
            return c

    def add_customer_note(self, customer_id: str, author: str, text: str) -> CustomerNote:
        """An agent's note on the customer's profile, shown with their history."""
        _require_text(text, "customer note")

        def use_case(ctx: DeskContext) -> CustomerNote:
            c = ctx.uow.get_customer(customer_id)
            while c.merged_into:
                c = ctx.uow.get_customer(c.merged_into)
            note = CustomerNote(ctx.now, author, text)
            notes = list(c.attributes.get("notes", []))
            notes.append({"at": ctx.now.isoformat(), "author": author, "text": text})
            c.attributes = {**c.attributes, "notes": notes}
            ctx.uow.save_customer(c)
            ctx.record(CustomerUpdated("", ctx.now, c.id, f"note by {author}"))
            return note

        return self.run(use_case)

    def customer_history(self, customer_id: str, *, limit: int = 100) -> CustomerHistory:
        """The customer's profile: tickets (newest first, up to *limit*), their
        messages, agents' notes on the customer, and counts over all tickets.

        A profile merged into another resolves to the one it was merged into.
        """
        with self.storage.unit_of_work() as uow:
            customer = uow.get_customer(customer_id)
            while customer.merged_into:
                customer = uow.get_customer(customer.merged_into)
            tickets = uow.find_tickets(TicketQuery(customer_id=customer.id, limit=limit))
            messages = tuple(m for t in tickets for m in uow.messages_for(t.id))
            total = uow.count_tickets(TicketQuery(customer_id=customer.id))
            done = [
                s
                for lc in self._lifecycles.values()
                for s in lc.states
                if lc.is_final(s) or s == "resolved"
            ]
            open_statuses = sorted(
                {s for lc in self._lifecycles.values() for s in lc.states} - set(done)
            )
            open_count = uow.count_tickets(
                TicketQuery(customer_id=customer.id, status=open_statuses)
            )
        notes = tuple(
            CustomerNote(datetime.fromisoformat(n["at"]), n["author"], n["text"])
            for n in customer.attributes.get("notes", [])
        )
        return CustomerHistory(
            customer,
            tuple(tickets),
            len(messages),
            open_count,
            ticket_count=total,
            messages=messages,
            notes=notes,
        )

    # ------------------------------------------------------------------ queries
    def get_ticket(self, ticket_id: str) -> Ticket:
        with self.storage.unit_of_work() as uow:
            return uow.get_ticket(ticket_id)

    def get_ticket_by_number(self, number: int) -> Ticket:
        with self.storage.unit_of_work() as uow:
            return uow.get_ticket_by_number(number)

    def messages(self, ticket_id: str, *, include_notes: bool = True) -> list[Message]:
        with self.storage.unit_of_work() as uow:
            uow.get_ticket(ticket_id)
            msgs = uow.messages_for(ticket_id)
        if not include_notes:
            msgs = [m for m in msgs if m.direction is not Direction.NOTE]
        return msgs

    def history(self, ticket_id: str) -> list[HistoryEntry]:
        with self.storage.unit_of_work() as uow:
            uow.get_ticket(ticket_id)
            return uow.history_for(ticket_id)

    def events(self, ticket_id: str) -> list[DomainEvent]:
        with self.storage.unit_of_work() as uow:
            return [se.event for se in uow.events_for(ticket_id)]

    def find_tickets(
        self,
        *,
        status: str | Sequence[str] | None = None,
        customer_id: str | None = None,
        assignee_id: str | None = None,
        team_id: str | None = None,
        tier: str | None = None,
        priority: Priority | int | None = None,
        channel: str | None = None,
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
        oldest_first: bool = False,
    ) -> list[Ticket]:
        """Tickets matching every given filter, newest first (unless ``oldest_first``)."""
        if limit < 0 or offset < 0:
            raise ValidationError(f"limit and offset must be >= 0 (got {limit}, {offset})")
        if tier is not None:
            self.check_tier(tier)
        q = TicketQuery(
            status=status,
            customer_id=customer_id,
            assignee_id=assignee_id,
            team_id=team_id,
            tier=tier,
            priority=Priority(priority) if priority is not None else None,
            channel=channel,
            text=text,
            limit=limit,
            offset=offset,
            oldest_first=oldest_first,
        )
        with self.storage.unit_of_work() as uow:
            return uow.find_tickets(q)

    def track(self, number: int, *, customer_address: str | None = None) -> TicketTracking:
        """The ticket's status as its customer sees it (for a status-tracking page).

        With *customer_address*, the ticket is shown only if it belongs to
        that customer (else NotFound, never revealing it exists).
        """
        with self.storage.unit_of_work() as uow:
            t = uow.get_ticket_by_number(number)
            if customer_address is not None:
                c = uow.get_customer(t.customer_id)
                if all(
                    i.address != customer_address.strip().lower()
                    and i.address != customer_address.strip()
                    for i in c.identities
                ):
                    raise NotFound("ticket", f"#{number}", "no such ticket for this customer")
            msgs = uow.messages_for(t.id)
            hist = uow.history_for(t.id)
        lc = self.lifecycle_of(t)
        labels = lc.definition
        return TicketTracking(
            number=t.number,
            subject=t.subject,
            status=t.status,
            status_label=labels.public_label(t.status),
            received_at=t.received_at,
            updated_at=t.updated_at,
            resolved=t.status == "resolved",
            closed=lc.is_final(t.status),
            public_messages=sum(1 for m in msgs if m.direction is not Direction.NOTE),
            timeline=tuple(
                (h.at, labels.public_label(h.to_status))
                for h in hist
                if h.from_status != h.to_status
            ),
        )

    # ------------------------------------------------------------------ time
    def tick(self, now: datetime | None = None, *, limit: int = 1000) -> int:
        """Fire due timers (SLA warnings and breaches, reminders); call it from a scheduler.

        Timers are found by an index on their due time, never by scanning
        tickets. Each timer is handled in its own transaction; a handler that
        raises is logged, its timer stays for the next tick, and the others
        still fire. Returns how many fired.
        """
        when = ensure_utc(now) if now else ensure_utc(self.clock.now())
        with self.storage.unit_of_work() as uow:
            due = uow.due_timers(when, limit)
        fired = 0
        for timer in due:
            handler = self._timer_handlers.get(timer.kind)

            def use_case(ctx: DeskContext, timer: Timer = timer, handler: Any = handler) -> None:
                ctx.uow.cancel_timer(timer.key)
                if handler is not None:
                    handler(ctx, timer)
                else:
                    log.warning("no handler for timer kind %r; dropped %s", timer.kind, timer.key)

            try:
                self.run(use_case, now=when)
            except Exception:  # one failing timer must not block every timer due after it
                log.exception(
                    "timer %s (%s) failed; it stays scheduled and is retried on the next tick",
                    timer.key,
                    timer.kind,
                )
                continue
            fired += 1
        return fired


def _require_text(text: str, what: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise MalformedMessage(f"{what} text is empty; write something for the customer or team")


def _subject_from(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "(no subject)"
    return first[:80]


def _identity_channel(channel: str, sender: str) -> str:
    if "@" in sender and channel in ("email", "web", "webform", "form"):
        return "email"
    return channel


def _check_fallbacks(teams: Mapping[str, Team]) -> None:
    for start in teams.values():
        seen = [start.id]
        current = start
        while current.fallback is not None:
            if current.fallback not in teams:
                raise ConfigurationError(
                    f"team {current.id!r} falls back to unknown team {current.fallback!r}"
                )
            if current.fallback in seen:
                cycle = " -> ".join([*seen, current.fallback])
                raise ConfigurationError(f"fallback teams form a cycle: {cycle}")
            seen.append(current.fallback)
            current = teams[current.fallback]
