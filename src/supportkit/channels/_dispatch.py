"""Outbound delivery: every reply and notification reaches its channel, or the ticket says why not.

The :class:`OutboundDispatcher` is a desk extension. When a use case adds an
outbound message, an in-transaction handler stores a *delivery record*
(``kv`` namespace ``supportkit.delivery``) and a timer in the same
transaction, so a crash right after commit loses nothing: ``desk.tick()``
finds the timer and delivers. Right after commit the dispatcher also tries
at once (``inline=True``), calling the channel outside any storage
transaction; an attempt from a timer runs inside ``desk.tick()``'s. Each
attempt's outcome is recorded in a desk use case:

- accepted: the record becomes ``delivered``, the timer is cancelled and
  :class:`~supportkit.ports.MessageDelivered` is recorded; the id the channel
  gave the message (``DeliveryReceipt.external_id``, an email's Message-ID)
  becomes the stored message's ``external_id``
  (:meth:`~supportkit.ports.UnitOfWork.set_message_external_id`, same
  transaction), so a customer's answer to it threads onto the ticket through
  ``find_message_by_external_id`` and later replies list it in
  ``OutboundMessage.references``. A notification is no stored message: its
  id is indexed instead (:func:`delivered_ticket_id`);
- transient failure: the timer is moved by the :class:`RetryPolicy`
  backoff and ``DeliveryFailed(permanent=False)`` is recorded;
- permanent failure (or retries exhausted, or no channel for it): the
  record becomes ``failed``, the failure is appended to the ticket's
  ``custom_fields["delivery_failures"]`` and ``DeliveryFailed(permanent=True)``
  is recorded. Nothing is dropped silently.

A message whose meta has ``"deliver": False`` was sent by its channel
already (or is a record, like a logged call) and is not queued. Exceptions
that are not DeliveryErrors count as transient unless they carry
``retryable = False``.

Delivery is at least once: a crash between a channel accepting a message
and the record being stored sends it again; channels may deduplicate on
``OutboundMessage.delivery_id``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs

from .._convert import structure, unstructure
from ..domain._errors import ConfigurationError, NotFound
from ..domain._events import DeliveryFailed, DomainEvent, MessageAdded
from ..domain._model import Customer, Direction, Message, Ticket
from ..ports._channel import (
    AUTO_SUBMITTED,
    ChannelRegistry,
    DeliveryError,
    DeliveryReceipt,
    MessageDelivered,
    OutboundMessage,
    RetryPolicy,
)
from ..ports._storage import DeliveryStore, MessageStore, StoredDelivery, Timer
from ..typing import DeskContext

if TYPE_CHECKING:
    from ..typing import Desk

__all__ = [
    "DeliveryRecord",
    "OutboundDispatcher",
    "delivered_ticket_id",
    "recipient_for",
]

log = logging.getLogger("supportkit.channels")

TIMER_KIND = "supportkit.delivery"

DeliveryRecord = dict[str, Any]


def _load(deliveries: DeliveryStore, delivery_id: str) -> DeliveryRecord | None:
    found = deliveries.get_delivery(delivery_id)
    return None if found is None else found.data


def _store(deliveries: DeliveryStore, delivery_id: str, record: DeliveryRecord) -> None:
    ticket_id = str(record["outbound"]["ticket_id"])
    deliveries.put_delivery(StoredDelivery(delivery_id, ticket_id, str(record["status"]), record))


def recipient_for(customer: Customer, channel: str) -> tuple[str, str]:
    """The customer's address on *channel* (falling back to email, then any), and name."""
    by_channel = {i.channel: i.address for i in customer.identities}
    for candidate in (channel, "email"):
        if candidate in by_channel:
            return by_channel[candidate], customer.name
    if customer.identities:
        return customer.identities[0].address, customer.name
    return "", customer.name


def delivered_ticket_id(
    messages: MessageStore, deliveries: DeliveryStore, external_id: str
) -> str | None:
    """The ticket a message or notification with this channel id (a Message-ID) went to.

    A delivered reply carries the id itself (``Message.external_id``, set by
    the dispatcher when its channel accepted it); a notification (an
    acknowledgement, a status change) is no stored message, so the dispatcher
    indexes its id in the transaction that records the delivery. Inbound
    threading asks this for every In-Reply-To/References id.
    """
    found = messages.find_message_by_external_id(external_id)
    if found is not None:
        return found.ticket_id
    return deliveries.ticket_for_external_id(external_id)


@attrs.frozen
class _Outcome:
    receipt: DeliveryReceipt | None
    error: str
    permanent: bool


def _timer_key(delivery_id: str) -> str:
    return f"delivery:{delivery_id}"


class OutboundDispatcher:
    """Delivers outbound messages through the ticket's channel, with retries.

    >>> from supportkit import SupportDesk
    >>> from supportkit.channels import ChannelRegistry, MemoryChannel, OutboundDispatcher
    >>> email = MemoryChannel("email")
    >>> desk = SupportDesk(extensions=[OutboundDispatcher(ChannelRegistry([email]))])
    >>> t = desk.receive("email", "ann@example.com", "Hello")
    >>> _ = desk.reply(t.id, "agent-1", "Hi Ann")
    >>> email.texts()
    ['Hi Ann']
    """

    def __init__(
        self,
        registry: ChannelRegistry,
        *,
        retry: RetryPolicy | None = None,
        inline: bool = True,
        grace: timedelta = timedelta(minutes=2),
    ) -> None:
        self.registry = registry
        self.retry = retry or RetryPolicy()
        self.inline = inline
        self.grace = grace
        self._desk: Desk | None = None
        self._local = threading.local()

    # -- wiring ------------------------------------------------------------------------
    def install(self, desk: Desk) -> None:
        """Hook into *desk* (called by ``SupportDesk(extensions=[...])``)."""
        if self._desk is not None:
            raise ConfigurationError("an OutboundDispatcher serves one desk; build one per desk")
        self._desk = desk
        desk.on(MessageAdded, self._on_message_added)
        desk.on_timer(TIMER_KIND, self._on_timer)
        if self.inline:
            desk.signals.event.connect(self._after_commit, weak=False)

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            raise ConfigurationError(
                "the dispatcher is not installed; pass it in SupportDesk(extensions=[...])"
            )
        return self._desk

    # -- queueing (inside the use case's transaction) ------------------------------------
    def _on_message_added(self, ctx: DeskContext, event: MessageAdded) -> None:
        if event.direction != Direction.OUTBOUND.value:
            return
        ticket = ctx.ticket(event.ticket_id)
        messages = ctx.messages.messages_for(ticket.id)
        msg = next((m for m in messages if m.id == event.message_id), None)
        if msg is None or "call" in msg.meta or msg.meta.get("deliver") is False:
            return  # a logged phone call is a record, not something to send
        self.enqueue(ctx, self._outbound_for(ctx, ticket, msg, messages))

    def _outbound_for(
        self, ctx: DeskContext, ticket: Ticket, msg: Message, messages: Sequence[Message]
    ) -> OutboundMessage:
        customer = ctx.customers.get_customer(ticket.customer_id)
        recipient, name = recipient_for(customer, msg.channel)
        refs = tuple(m.external_id for m in messages if m.id != msg.id and m.external_id)
        inbound_refs = [
            m.external_id for m in messages if m.direction is Direction.INBOUND and m.external_id
        ]
        return OutboundMessage(
            delivery_id=msg.id,
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            channel=msg.channel,
            recipient=recipient,
            recipient_name=name,
            text=msg.text,
            subject=ticket.subject,
            html=msg.html,
            attachments=msg.attachments,
            external_id=msg.external_id,
            in_reply_to=inbound_refs[-1] if inbound_refs else None,
            references=refs,
            language=ticket.language,
            kind="notification" if msg.meta.get("notification") else "reply",
            author=msg.author,
            meta={k: v for k, v in msg.meta.items() if k in ("notification", AUTO_SUBMITTED)},
        )

    def enqueue(self, ctx: DeskContext, outbound: OutboundMessage) -> None:
        """Queue *outbound* for delivery, atomically with the use case running in *ctx*."""
        record: DeliveryRecord = {
            "outbound": unstructure(outbound),
            "status": "pending",
            "attempts": 0,
            "errors": [],
            "queued_at": ctx.now.isoformat(),
        }
        _store(ctx.deliveries, outbound.delivery_id, record)
        delay = self.grace if self.inline else timedelta(0)
        self._schedule(ctx, outbound, delay)
        queued: list[str] = getattr(self._local, "queued", [])
        queued.append(outbound.delivery_id)
        self._local.queued = queued

    def _schedule(self, ctx: DeskContext, outbound: OutboundMessage, delay: timedelta) -> None:
        ctx.timers.schedule_timer(
            Timer(
                key=_timer_key(outbound.delivery_id),
                due_at=ctx.now + delay,
                kind=TIMER_KIND,
                ticket_id=outbound.ticket_id,
                payload={"delivery_id": outbound.delivery_id},
            )
        )

    # -- attempts ----------------------------------------------------------------------
    def _after_commit(self, sender: Any, *, event: DomainEvent, **_: Any) -> None:
        queued: list[str] = getattr(self._local, "queued", [])
        if not queued:
            return
        self._local.queued = []
        for delivery_id in queued:
            try:
                self.attempt(delivery_id)
            except Exception:
                # the timer stays in place: desk.tick() retries it
                log.exception("delivery attempt of %s could not be recorded", delivery_id)

    def _on_timer(self, ctx: DeskContext, timer: Timer) -> None:
        self._attempt(ctx, str(timer.payload["delivery_id"]))

    def outbound(self, delivery_id: str) -> OutboundMessage | None:
        """The message queued for delivery *delivery_id* (a stored message's id), exactly
        as its channel gets it; None when nothing was queued (a note, a logged call)."""
        with self.desk.storage.unit_of_work() as uow:
            record = _load(uow, delivery_id)
        return None if record is None else structure(record["outbound"], OutboundMessage)

    def attempt(self, delivery_id: str) -> str:
        """Try to deliver now (if still pending); returns the record's status after.

        The channel is called outside any storage transaction (a slow SMTP or
        HTTP server holds no lock); the outcome is recorded in a use case after.
        """
        with self.desk.storage.unit_of_work() as uow:
            record = _load(uow, delivery_id)
        if record is None or record["status"] != "pending":
            return "unknown" if record is None else str(record["status"])
        outcome = self._send(structure(record["outbound"], OutboundMessage))
        return self.desk.run(lambda ctx: self._record(ctx, delivery_id, outcome))

    def _attempt(self, ctx: DeskContext, delivery_id: str) -> str:
        record = _load(ctx.deliveries, delivery_id)
        if record is None or record["status"] != "pending":
            return "unknown" if record is None else str(record["status"])
        outcome = self._send(structure(record["outbound"], OutboundMessage))
        return self._record(ctx, delivery_id, outcome)

    def _send(self, outbound: OutboundMessage) -> _Outcome:
        try:
            channel = self.registry.get(outbound.channel)
        except NotFound as exc:
            return _Outcome(None, f"no channel delivers for {outbound.channel!r}: {exc}", True)
        try:
            return _Outcome(channel.deliver(outbound), "", False)
        except DeliveryError as exc:
            return _Outcome(None, str(exc), exc.permanent)
        except Exception as exc:
            log.warning(
                "channel %r raised on %s", channel.name, outbound.delivery_id, exc_info=True
            )
            retryable = getattr(exc, "retryable", True) is not False
            return _Outcome(None, f"{type(exc).__name__}: {exc}", not retryable)

    def _record(self, ctx: DeskContext, delivery_id: str, outcome: _Outcome) -> str:
        record = _load(ctx.deliveries, delivery_id)
        if record is None or record["status"] != "pending":
            return "unknown" if record is None else str(record["status"])
        outbound = structure(record["outbound"], OutboundMessage)
        attempt = int(record["attempts"]) + 1
        record["attempts"] = attempt
        ticket = ctx.ticket(outbound.ticket_id)
        if outcome.receipt is not None:
            self._delivered(ctx, ticket, record, outbound, outcome.receipt, attempt)
        else:
            error = outcome.error
            record["errors"].append({"at": ctx.now.isoformat(), "error": error})
            if outcome.permanent or self.retry.gives_up_after(attempt):
                self._failed(ctx, ticket, record, outbound, error, attempt)
            else:
                delay = self.retry.delay(attempt)
                record["next_attempt_at"] = (ctx.now + delay).isoformat()
                self._schedule(ctx, outbound, delay)
                ticket.record(
                    DeliveryFailed(ticket.id, ctx.now, delivery_id, outbound.channel, error, False)
                )
        _store(ctx.deliveries, delivery_id, record)
        return str(record["status"])

    def _delivered(
        self,
        ctx: DeskContext,
        ticket: Ticket,
        record: DeliveryRecord,
        outbound: OutboundMessage,
        receipt: DeliveryReceipt,
        attempt: int,
    ) -> None:
        record["status"] = "delivered"
        record["receipt"] = unstructure(receipt)
        ctx.timers.cancel_timer(_timer_key(outbound.delivery_id))
        if receipt.external_id:
            self._remember_external_id(ctx, ticket, outbound, receipt.external_id)
        ticket.record(
            MessageDelivered(
                ticket.id,
                ctx.now,
                outbound.delivery_id,
                receipt.channel,
                attempt,
                receipt.external_id,
            )
        )

    @staticmethod
    def _remember_external_id(
        ctx: DeskContext, ticket: Ticket, outbound: OutboundMessage, external_id: str
    ) -> None:
        """Put the channel's id on the delivered message; index it for a notification.

        Checked before writing, so an id the message cannot take (a channel
        handing out one id twice, a message stored with another id) never
        fails the transaction that records the delivery: it is indexed instead.
        """
        messages = ctx.messages.messages_for(ticket.id)
        msg = next((m for m in messages if m.id == outbound.delivery_id), None)
        if msg is not None:
            owner = ctx.messages.find_message_by_external_id(external_id)
            if msg.external_id in (None, external_id) and (owner is None or owner.id == msg.id):
                ctx.messages.set_message_external_id(msg.id, external_id)
                return
            log.warning(
                "delivery %s: the channel's id %r cannot become message %s's external id "
                "(it has %r; the id belongs to %r); indexed for threading instead",
                outbound.delivery_id,
                external_id,
                msg.id,
                msg.external_id,
                owner.id if owner is not None else None,
            )
        ctx.deliveries.index_external_id(external_id, ticket.id, outbound.delivery_id)

    def _failed(
        self,
        ctx: DeskContext,
        ticket: Ticket,
        record: DeliveryRecord,
        outbound: OutboundMessage,
        error: str,
        attempt: int,
    ) -> None:
        record["status"] = "failed"
        ctx.timers.cancel_timer(_timer_key(outbound.delivery_id))
        failures = list(ticket.custom_fields.get("delivery_failures", []))
        failures.append(
            {
                "delivery_id": outbound.delivery_id,
                "channel": outbound.channel,
                "kind": outbound.kind,
                "recipient": outbound.recipient,
                "error": error,
                "attempts": attempt,
                "at": ctx.now.isoformat(),
            }
        )
        ticket.custom_fields = {**ticket.custom_fields, "delivery_failures": failures}
        ticket.record(
            DeliveryFailed(ticket.id, ctx.now, outbound.delivery_id, outbound.channel, error, True)
        )
        log.error(
            "delivery %s of ticket #%s through %r failed permanently after %d attempt(s): %s",
            outbound.delivery_id,
            ticket.number,
            outbound.channel,
            attempt,
            error,
        )

    # -- queries -----------------------------------------------------------------------
    def status(self, delivery_id: str) -> DeliveryRecord | None:
        """The delivery record (status, attempts, errors, receipt), or None."""
        with self.desk.storage.unit_of_work() as uow:
            value = _load(uow, delivery_id)
        return dict(value) if value is not None else None

    def ticket_for_external_id(self, external_id: str) -> str | None:
        """The ticket a delivered message or notification with this channel id went to."""
        with self.desk.storage.unit_of_work() as uow:
            return delivered_ticket_id(uow, uow, external_id)

    def redeliver(self, delivery_id: str) -> str:
        """Put a failed delivery back in the queue and try it now (an agent fixed the address)."""

        def use_case(ctx: DeskContext) -> None:
            record = _load(ctx.deliveries, delivery_id)
            if record is None:
                raise NotFound("delivery", delivery_id)
            record["status"] = "pending"
            record["attempts"] = 0
            _store(ctx.deliveries, delivery_id, record)

        self.desk.run(use_case)
        return self.attempt(delivery_id)
