"""The Protocols an extension is written against (structlog keeps its own the same way).

An *extension* is any object with ``install(desk)``; handing it to
``SupportDesk(storage, extensions=[...])`` calls that once. In ``install`` it
subscribes *handlers* with ``desk.on(EventType, handler)`` and
``desk.on_timer(kind, handler)``. A handler runs inside the transaction of the
use case that recorded the event and receives a :class:`DeskContext`: what it
changes through the context is stored atomically with the use case, and the
events it records are handled in turn and published after the commit.

>>> from supportkit import SupportDesk, TicketReceived
>>> from supportkit.typing import Desk, DeskContext
>>> class Tagger:
...     def install(self, desk: Desk) -> None:
...         desk.on(TicketReceived, self.tag)
...     def tag(self, ctx: DeskContext, event: TicketReceived) -> None:
...         ctx.update(ctx.ticket(event.ticket_id), "tagger", tags=frozenset({"new"}))
>>> desk = SupportDesk(extensions=[Tagger()])
>>> sorted(desk.receive("email", "ann@example.com", "Hello").tags)
['new']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from ._signals import DeskSignals
    from .domain._events import DomainEvent
    from .domain._lifecycle import Lifecycle
    from .domain._model import Attachment, Direction, Message, Ticket
    from .policies._channel_hours import ChannelHours
    from .ports._clock import Clock
    from .ports._storage import (
        AcknowledgementStore,
        CursorStore,
        CustomerStore,
        DeliveryStore,
        KeyValueStore,
        MessageStore,
        OutboxStore,
        Storage,
        TicketStore,
        Timer,
        TimerStore,
        UnitOfWork,
    )

__all__ = ["Desk", "DeskContext", "Extension", "Handler", "TimerHandler"]

T = TypeVar("T")
E = TypeVar("E")


class DeskContext(Protocol):
    """One use case's transaction, as a handler (or a use case given to ``desk.run``) sees it.

    Tickets loaded through :meth:`ticket` are cached for the use case and saved
    once, with optimistic concurrency, when it ends. Everything else is read and
    written through the storage ports, each by its name (:attr:`messages`,
    :attr:`customers`, :attr:`timers`, :attr:`deliveries`, ...), in the same
    transaction; :attr:`uow` is all of them at once, for a port without a name here.
    """

    @property
    def desk(self) -> Desk:
        """The desk running this use case."""

    @property
    def uow(self) -> UnitOfWork:
        """The unit of work: every storage port at once, inside this use case's transaction
        (prefer the port by its name below)."""

    @property
    def tickets(self) -> TicketStore:
        """Tickets by id, number or query (``ctx.ticket`` loads one for change)."""

    @property
    def messages(self) -> MessageStore:
        """Messages and status history of tickets."""

    @property
    def customers(self) -> CustomerStore:
        """Customers and their identities."""

    @property
    def outbox(self) -> OutboxStore:
        """The stored domain events (the outbox), in order."""

    @property
    def timers(self) -> TimerStore:
        """Scheduled wake-ups: schedule, cancel, list per ticket."""

    @property
    def deliveries(self) -> DeliveryStore:
        """Outbound delivery records and the channel ids they were given."""

    @property
    def acknowledgements(self) -> AcknowledgementStore:
        """Automatic acknowledgements per sender (the limit, decided in the database)."""

    @property
    def cursors(self) -> CursorStore:
        """Readers' positions (a mailbox's last UID, the webhook forwarder's last event)."""

    @property
    def kv(self) -> KeyValueStore:
        """Small keyed JSON state (positions, settings) under a namespace."""

    @property
    def now(self) -> datetime:
        """The instant of this use case (aware UTC), the same for every handler in it."""

    def ticket(self, ticket_id: str) -> Ticket:
        """The ticket, loaded once per use case; changes to it are saved at the end."""

    def ticket_by_number(self, number: int) -> Ticket:
        """The ticket with this number, loaded once per use case."""

    def adopt_new(self, ticket: Ticket) -> None:
        """Register a ticket created in this use case (stored at the end)."""

    def tickets_in_use(self) -> list[tuple[Ticket, bool]]:
        """The tickets loaded or created in this use case, True for those created in it.

        Their changes are stored when the use case ends: a handler that counts
        stored rows (routing's agent loads) corrects the count with these.
        """

    def record(self, event: DomainEvent) -> None:
        """Record an event not tied to a loaded ticket (customer merges, agent changes)."""

    def transition(
        self, ticket: Ticket, event: str, actor: str, reason: str = "", **params: Any
    ) -> str:
        """Fire a lifecycle event on *ticket*; records history and StatusChanged; the new status."""

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

    def escalate(
        self, ticket: Ticket, to_tier: str, *, actor: str, reason: str, policy: str = "manual"
    ) -> None:
        """Move *ticket* to *to_tier*; records history and TicketEscalated."""

    def update(self, ticket: Ticket, actor: str, **changes: Any) -> None:
        """Set plain fields (priority, category, tags, custom_fields, ...); records TicketUpdated."""

    def reply(self, ticket: Ticket, author: str, text: str, **fields: Any) -> Message:
        """An outbound answer; a person's first one fires the desk's ``first_reply_event``."""

    def resolve(self, ticket: Ticket, actor: str, resolution: str) -> None:
        """Resolve with a summary of what fixed it."""


#: an in-transaction event handler: ``handler(ctx, event)``
Handler = Callable[[DeskContext, Any], None]
#: a timer handler: ``handler(ctx, timer)`` when ``desk.tick`` finds the timer due
TimerHandler = Callable[[DeskContext, "Timer"], None]


class Desk(Protocol):
    """The desk as an extension sees it (a :class:`~supportkit.SupportDesk` is one)."""

    @property
    def storage(self) -> Storage:
        """The desk's storage backend."""

    @property
    def clock(self) -> Clock:
        """The desk's clock."""

    @property
    def tiers(self) -> tuple[str, ...]:
        """The support tiers, lowest first (e.g. ``("L1", "L2", "L3")``)."""

    @property
    def signals(self) -> DeskSignals:
        """The desk's blinker signals (published after commit)."""

    @property
    def lifecycle(self) -> Lifecycle:
        """The lifecycle new tickets follow unless told otherwise."""

    @property
    def channel_hours(self) -> ChannelHours | None:
        """When each channel is open (None: always)."""

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of support the desk offers."""

    def new_id(self) -> str:
        """A fresh id from the desk's id generator."""

    def lifecycle_of(self, ticket: Ticket) -> Lifecycle:
        """The lifecycle *ticket* follows."""

    def check_tier(self, tier: str) -> None:
        """Raise ValidationError unless *tier* is one of :attr:`tiers`."""

    def on(self, event_cls: type[E], handler: Callable[[DeskContext, E], None]) -> None:
        """Run *handler(ctx, event)* inside every use case that records an *event_cls*."""

    def on_timer(self, kind: str, handler: TimerHandler) -> None:
        """Handle due timers of *kind* (one handler per kind)."""

    def run(self, use_case: Callable[[DeskContext], T], *, now: datetime | None = None) -> T:
        """Run *use_case(ctx)* in one unit of work, commit, then publish its events."""

    def tick(self, now: datetime | None = None, *, limit: int = 1000) -> int:
        """Handle the timers due by *now*; returns how many ran."""


@runtime_checkable
class Extension(Protocol):
    """What ``SupportDesk(extensions=[...])`` accepts: an object that installs itself."""

    def install(self, desk: Desk) -> None:
        """Subscribe handlers and timers on *desk* (called once, when the desk is built)."""
