"""Calls on the desk (values and in-transaction handlers): logging a call with its outcome, recording and transcript; callbacks.

A call is logged as a message on its ticket (``meta["call"]``) and recorded
as :class:`~supportkit.domain.CallLogged`; ``desk.calls(ticket_id)`` reads
them back as :class:`~supportkit.domain.Call` values. A recording is a URL
the telephony system keeps, or bytes kept in an
:class:`~supportkit.ports.AttachmentStore` and attached to the message.

A phone request outside the phone's hours (the desk's channel hours, phone
set to queue) becomes a **callback task**: due at the next opening
(:class:`~supportkit.domain.CallbackScheduled`), kept in the
``supportkit.callbacks`` namespace, announced by a timer when due
(:class:`~supportkit.domain.CallbackDue`), and done when an outbound call is
logged on the ticket.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from .domain._call import Call, CallOutcome
from .domain._errors import MalformedMessage, ValidationError
from .domain._events import MessageAdded
from .domain._model import Attachment, Direction, Message
from .domain._service_events import CallbackDue, CallbackScheduled, CallLogged, ReceivedOutOfHours
from .policies._channel_hours import OutOfHoursAction
from .ports._storage import Timer
from .typing import Desk, DeskContext

__all__ = [
    "CALLBACKS_NAMESPACE",
    "CALLBACK_TIMER",
    "Callback",
    "check_call",
    "install_calls",
    "log_call_in",
]

CALLBACKS_NAMESPACE = "supportkit.callbacks"
CALLBACK_TIMER = "supportkit.callback"


@attrs.frozen
class Callback:
    """A promised call back: to *number* about *ticket_id*, due at *due_at*."""

    ticket_id: str
    number: str
    due_at: datetime
    reason: str
    status: str = "scheduled"  # scheduled | due | done
    done_at: datetime | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "number": self.number,
            "due_at": self.due_at.isoformat(),
            "reason": self.reason,
            "status": self.status,
            "done_at": self.done_at.isoformat() if self.done_at else None,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Callback:
        done = row.get("done_at")
        return cls(
            row["ticket_id"],
            row["number"],
            datetime.fromisoformat(row["due_at"]),
            row["reason"],
            row.get("status", "scheduled"),
            datetime.fromisoformat(done) if done else None,
        )


def check_call(
    direction: str,
    duration_seconds: int,
    notes: str,
    recording_url: str | None,
    recording: Attachment | None,
) -> None:
    """Refuse a call that cannot be logged (direction, duration, notes, recording)."""
    if direction not in ("inbound", "outbound"):
        raise ValidationError(f"call direction must be 'inbound' or 'outbound', not {direction!r}")
    if duration_seconds < 0:
        raise ValidationError(f"call duration cannot be negative ({duration_seconds}s)")
    if not isinstance(notes, str) or not notes.strip():
        raise MalformedMessage("call notes text is empty; write what the call was about")
    if recording_url is not None and not recording_url.startswith(("http://", "https://")):
        raise ValidationError(
            f"recording_url {recording_url!r} is not an http(s) URL; keep the bytes in an "
            "AttachmentStore and pass recording= instead"
        )
    if recording is not None and not recording.sha256:
        raise ValidationError(
            "a call recording must be kept in an attachment store: pass store.put(...)'s result"
        )


def log_call_in(
    ctx: DeskContext,
    ticket_id: str,
    author: str,
    *,
    direction: str,
    duration_seconds: int,
    notes: str,
    caller: str | None,
    outcome: CallOutcome,
    call_id: str | None,
    started_at: datetime | None,
    recording_url: str | None,
    recording: Attachment | None,
    transcript: str | None,
) -> Message:
    """Store the call message on the ticket (``meta["call"]``, the recording attached).

    A call with a *call_id* is logged once: its message carries the external id
    :func:`call_external_id`, and logging the same call again returns that message."""
    t = ctx.ticket(ticket_id)
    external_id = call_external_id(call_id) if call_id else None
    if external_id is not None:
        seen = ctx.uow.find_message_by_external_id(external_id)
        if seen is not None:
            return seen
    call: dict[str, Any] = {
        "direction": direction,
        "duration_seconds": duration_seconds,
        "outcome": outcome.value,
    }
    for key, value in (
        ("call_id", call_id),
        ("caller", caller),
        ("started_at", started_at.isoformat() if started_at else None),
        ("recording_url", recording_url),
        ("recording_sha256", recording.sha256 if recording else None),
        ("transcript", transcript),
    ):
        if value is not None:
            call[key] = value
    return ctx.add_message(
        t,
        Direction(direction),
        author,
        notes,
        channel="phone",
        attachments=(recording,) if recording else (),
        external_id=external_id,
        meta={"call": call},
        created_at=started_at,
    )


def call_external_id(call_id: str) -> str:
    """The external id of the message that logs the telephony system's call *call_id*
    (one per call, whichever path logged it)."""
    return f"phone:{call_id}"


def record_call(ctx: DeskContext, event: MessageAdded) -> None:
    """In-transaction handler: every message that logs a call (``log_call``, a call that
    opened a ticket) records :class:`CallLogged`; an outbound call completes the ticket's
    pending callback."""
    if event.channel != "phone":
        return
    msg = next((m for m in ctx.uow.messages_for(event.ticket_id) if m.id == event.message_id), None)
    call = Call.from_message(msg) if msg is not None else None
    if call is None:
        return
    ticket = ctx.ticket(event.ticket_id)
    recording = call.recording_url or (call.recording.sha256 if call.recording else None)
    ticket.record(
        CallLogged(
            ticket.id,
            ctx.now,
            call.message_id,
            call.call_id or call.message_id,
            call.direction,
            call.outcome.value,
            call.duration_seconds,
            recording,
        )
    )
    if call.direction == "outbound":
        row = ctx.uow.kv_get(CALLBACKS_NAMESPACE, ticket.id)
        if row is not None and row.get("status") != "done":
            done = attrs.evolve(Callback.from_row(row), status="done", done_at=ctx.now)
            ctx.uow.kv_put(CALLBACKS_NAMESPACE, ticket.id, done.to_row())
            ctx.uow.cancel_timer(f"{CALLBACK_TIMER}:{ticket.id}")


def install_calls(desk: Desk) -> None:
    """Wire the call handlers into a desk (done by the desk itself)."""
    desk.on(MessageAdded, record_call)
    desk.on(ReceivedOutOfHours, schedule_callback)
    desk.on_timer(CALLBACK_TIMER, callback_due)


def schedule_callback(ctx: DeskContext, event: ReceivedOutOfHours) -> None:
    """In-transaction handler: a phone request while the phone queues becomes a callback."""
    if event.channel != "phone" or event.action != OutOfHoursAction.QUEUE.value:
        return
    ticket = ctx.ticket(event.ticket_id)
    customer = ctx.uow.get_customer(ticket.customer_id)
    number = next((i.address for i in customer.identities if i.channel == "phone"), "")
    reason = "phone request outside hours; call back when the line opens"
    cb = Callback(ticket.id, number, event.next_open, reason)
    ctx.uow.kv_put(CALLBACKS_NAMESPACE, ticket.id, cb.to_row())
    ctx.uow.schedule_timer(
        Timer(f"{CALLBACK_TIMER}:{ticket.id}", event.next_open, CALLBACK_TIMER, ticket.id)
    )
    ticket.custom_fields["callback_due"] = event.next_open.isoformat()
    ticket.record(CallbackScheduled(ticket.id, ctx.now, number, event.next_open, reason))


def callback_due(ctx: DeskContext, timer: Timer) -> None:
    """Timer handler: the callback is due now; the agents see it (event and a note)."""
    row = ctx.uow.kv_get(CALLBACKS_NAMESPACE, timer.ticket_id)
    if row is None or row.get("status") == "done":
        return
    cb = attrs.evolve(Callback.from_row(row), status="due")
    ctx.uow.kv_put(CALLBACKS_NAMESPACE, cb.ticket_id, cb.to_row())
    ticket = ctx.ticket(cb.ticket_id)
    if not ctx.desk.lifecycle_of(ticket).is_final(ticket.status):
        ctx.add_message(
            ticket, Direction.NOTE, "system", f"Call {cb.number} back now: {cb.reason}."
        )
    ticket.record(CallbackDue(ticket.id, ctx.now, cb.number, cb.due_at))
