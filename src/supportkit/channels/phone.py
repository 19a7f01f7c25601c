"""Phone: call records from a telephony system become messages on tickets.

A telephony system (a PBX, a cloud call centre) reports each call as a
record: who called, which way, how long, how it ended (answered, missed,
voicemail, busy), what the agent noted, where the recording is and what was said.
:class:`PhoneChannel` normalises such a record (:meth:`CallRecord.from_mapping`
accepts the usual field names) and logs it: a call naming a ticket is
logged on it with ``desk.log_call``; an inbound call without one opens a
ticket on channel ``"phone"``. The record is stored raw first and keyed by
its call id, so a telephony system repeating a webhook logs the call once.
Like every inbound path it is stored and claimed with a lease in one
transaction, then logged: a process killed in between leaves the record to
the same record sent again, or to :meth:`PhoneChannel.reprocess` (the
worker's loop); a record failing for a lasting reason is kept ``failed`` with
its error.

Phone is not a written channel: :meth:`PhoneChannel.deliver` refuses
replies with a PermanentDeliveryError (recorded on the ticket), telling
the agent to call back and log the call, or to route phone tickets to
email in the ChannelRegistry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from .._calls import call_external_id
from .._convert import dumps, structure, unstructure
from ..domain._call import CallOutcome, call_outcome
from ..domain._errors import ChannelError, ConfigurationError, MalformedMessage, ValidationError
from ..domain._model import Attachment, Message, Ticket, ensure_utc
from ..ports._attachments import AttachmentStore
from ..ports._channel import Channel, DeliveryReceipt, OutboundMessage, PermanentDeliveryError
from ..ports._storage import RawInbound
from ._inbound import Address, InboundMessage
from ._raw_store import (
    DEFAULT_LEASE,
    claim_stale,
    describe_error,
    failure_status,
    finish,
    store_and_claim,
)

if TYPE_CHECKING:
    from ..desk import SupportDesk

__all__ = ["CallInProgress", "CallRecord", "PhoneChannel"]


class CallInProgress(ChannelError):
    """The same call record is being logged by another process; sending it again later is
    safe (a call is logged once)."""


_ALIASES: Mapping[str, tuple[str, ...]] = {
    "call_id": ("call_id", "id", "uniqueid", "call_uuid", "sid"),
    "caller": ("caller", "from", "caller_id", "phone", "number"),
    "direction": ("direction",),
    "duration_seconds": ("duration_seconds", "duration", "billsec"),
    "started_at": ("started_at", "start_time", "start", "timestamp"),
    "notes": ("notes", "summary", "comment"),
    "outcome": ("outcome", "disposition", "status", "call_status"),
    "recording_url": ("recording_url", "recording", "recordingurl", "record_url"),
    "transcript": ("transcript", "transcription"),
    "agent": ("agent", "agent_id", "operator"),
    "ticket_number": ("ticket_number", "ticket"),
    "caller_name": ("caller_name", "name"),
}


_OUTCOMES = {
    "completed": "answered",
    "no answer": "missed",
    "no-answer": "missed",
    "no_answer": "missed",
    "noanswer": "missed",
    "canceled": "missed",
    "cancelled": "missed",
}


def _outcome(value: Any) -> str | None:
    """A telephony system's disposition (``ANSWERED``, ``NO ANSWER``, ``completed``) as an outcome."""
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    return _OUTCOMES.get(text, text)


def _pick(data: Mapping[str, Any], field: str) -> Any:
    for key in _ALIASES[field]:
        if data.get(key) not in (None, ""):
            return data[key]
    return None


@attrs.frozen
class CallRecord:
    """One call as a telephony system reports it."""

    call_id: str
    caller: str
    direction: str
    duration_seconds: int
    started_at: datetime = attrs.field(converter=ensure_utc)
    notes: str = ""
    agent: str = ""
    ticket_number: int | None = None
    caller_name: str = ""
    outcome: str | None = None
    recording_url: str | None = None
    transcript: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.direction not in ("inbound", "outbound"):
            raise MalformedMessage(
                f"call {self.call_id!r}: direction must be 'inbound' or 'outbound', "
                f"not {self.direction!r}"
            )
        if self.duration_seconds < 0:
            raise MalformedMessage(
                f"call {self.call_id!r}: duration cannot be negative ({self.duration_seconds}s)"
            )
        if self.outcome is not None and self.outcome not in {o.value for o in CallOutcome}:
            raise MalformedMessage(
                f"call {self.call_id!r}: unknown outcome {self.outcome!r}; use one of "
                f"{[o.value for o in CallOutcome]}"
            )
        if self.recording_url is not None and not self.recording_url.startswith(
            ("http://", "https://")
        ):
            raise MalformedMessage(
                f"call {self.call_id!r}: recording {self.recording_url!r} is not an http(s) URL"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CallRecord:
        """Read a call record from JSON-shaped data, accepting common field names.

        >>> r = CallRecord.from_mapping({"id": "c1", "from": "+7 495 000-00-00",
        ...     "direction": "in", "duration": "75", "start_time": "2026-01-05T09:00:00Z"})
        >>> r.direction, r.duration_seconds
        ('inbound', 75)
        """
        if not isinstance(data, Mapping):
            raise MalformedMessage(f"a call record must be a mapping, got {type(data).__name__}")
        values = {f: _pick(data, f) for f in _ALIASES}
        for required in ("call_id", "caller", "started_at"):
            if values[required] is None:
                names = " / ".join(_ALIASES[required])
                raise MalformedMessage(f"call record has no {required} (one of: {names})")
        direction = str(values["direction"] or "inbound").lower()
        direction = {"in": "inbound", "incoming": "inbound", "out": "outbound"}.get(
            direction, "outbound" if direction == "outgoing" else direction
        )
        try:
            duration = int(float(values["duration_seconds"] or 0))
            started = values["started_at"]
            if isinstance(started, int | float):
                from datetime import UTC

                started = datetime.fromtimestamp(started, UTC)
            elif not isinstance(started, datetime):
                started = datetime.fromisoformat(str(started).replace("Z", "+00:00"))
            number = values["ticket_number"]
            number = int(str(number).lstrip("#")) if number is not None else None
        except (TypeError, ValueError) as exc:
            raise MalformedMessage(f"call record {values['call_id']!r}: {exc}") from exc
        if started.tzinfo is None:
            raise MalformedMessage(
                f"call record {values['call_id']!r}: start time {started.isoformat()} has "
                "no time zone; send it with an offset or Z"
            )
        return cls(
            call_id=str(values["call_id"]),
            caller=str(values["caller"]).strip(),
            direction=direction,
            duration_seconds=duration,
            started_at=started,
            notes=str(values["notes"] or ""),
            agent=str(values["agent"] or ""),
            ticket_number=number,
            caller_name=str(values["caller_name"] or ""),
            outcome=_outcome(values["outcome"]),
            recording_url=str(values["recording_url"]) if values["recording_url"] else None,
            transcript=str(values["transcript"]) if values["transcript"] else None,
        )

    def call(self) -> dict[str, Any]:
        """The call's facts as kept in the message meta (``meta["call"]``)."""
        call: dict[str, Any] = {
            "call_id": self.call_id,
            "caller": self.caller,
            "direction": self.direction,
            "duration_seconds": self.duration_seconds,
            "outcome": call_outcome(self.outcome, self.duration_seconds).value,
            "started_at": self.started_at.isoformat(),
        }
        if self.recording_url:
            call["recording_url"] = self.recording_url
        if self.transcript:
            call["transcript"] = self.transcript
        return call

    def summary(self) -> str:
        """The text logged on the ticket: the agent's notes, or a line about the call."""
        if self.notes.strip():
            return self.notes.strip()
        minutes, seconds = divmod(self.duration_seconds, 60)
        return f"{self.direction} phone call with {self.caller}, {minutes}:{seconds:02d}"


class PhoneChannel(Channel):
    """Logs calls from a telephony system on tickets (see the module docstring)."""

    name = "phone"

    def __init__(
        self,
        desk: SupportDesk,
        *,
        attachments: AttachmentStore | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.desk = desk
        self.attachments = attachments
        self.lease = lease

    def normalise(self, payload: Any, *, received_at: datetime) -> InboundMessage:
        record = payload if isinstance(payload, CallRecord) else CallRecord.from_mapping(payload)
        text = record.summary()
        return InboundMessage(
            channel=self.name,
            external_id=call_external_id(record.call_id),
            sender=Address(record.caller, record.caller_name),
            text=text,
            full_text=text,
            sent_at=record.started_at,
            received_at=received_at,
            raw=dumps(unstructure(record)).encode(),
        )

    def deliver(self, outbound: OutboundMessage) -> DeliveryReceipt:
        raise PermanentDeliveryError(
            f"ticket #{outbound.ticket_number} came in by phone, which cannot carry a written "
            "reply: call the customer back and log the call, or route 'phone' tickets to a "
            "written channel (ChannelRegistry.add(email, also_for=['phone']))"
        )

    def log(
        self,
        record: CallRecord | Mapping[str, Any],
        *,
        recording: bytes | None = None,
        recording_type: str = "audio/mpeg",
    ) -> Ticket:
        """Log one call; returns its ticket. A repeated call id changes nothing.

        The record's ``recording_url`` is kept with the call; *recording*
        (the audio bytes) is kept in the channel's attachment store and
        attached to the call's message.
        """
        if not isinstance(record, CallRecord):
            record = CallRecord.from_mapping(record)
        attachment: Attachment | None = None
        if recording is not None:
            if self.attachments is None:
                raise ConfigurationError(
                    "a call recording needs somewhere to keep it: "
                    "PhoneChannel(desk, attachments=FileAttachmentStore(...))"
                )
            attachment = self.attachments.put(
                recording, filename=f"call-{record.call_id}.mp3", content_type=recording_type
            )
        return self._claimed(record, attachment)

    def reprocess(self, limit: int = 100) -> list[Ticket]:
        """Log the calls kept ``pending`` past their lease (a process died between keeping
        the record and logging it) or ``failed``; safe from several workers at once.
        Returns the tickets of the calls logged now; a call failing again stays ``failed``
        with its error (``list_raw_inbound("failed")``)."""
        return [t for t in self.reprocess_each(limit) if t is not None]

    def reprocess_each(self, limit: int = 100) -> Iterator[Ticket | None]:
        """:meth:`reprocess`, yielding as each claimed call is done: its ticket, or None
        when it failed (again)."""
        for raw in claim_stale(self.desk, self.name, self.lease, limit, exact=self.name):
            try:
                data = json.loads(raw.raw)
                record = CallRecord.from_mapping(data)
                kept = data.get("_recording") if isinstance(data, dict) else None
                attachment = structure(kept, Attachment) if kept else None
            except (ValueError, TypeError, MalformedMessage) as exc:
                finish(self.desk, raw.id, "failed", error=describe_error(exc))
                yield None
                continue
            try:
                yield self._process(raw.id, record, attachment)
            except Exception:  # recorded on the row by _process; the next row goes on
                yield None

    def _claimed(self, record: CallRecord, attachment: Attachment | None) -> Ticket:
        data = unstructure(record)
        if attachment is not None:
            data["_recording"] = unstructure(attachment)
        row = RawInbound(
            id=self.desk.new_id(),
            channel=self.name,
            received_at=self.desk.clock.now(),
            raw=json.dumps(data).encode(),
            external_id=record.call_id,
        )
        claim = store_and_claim(self.desk, row, self.lease)
        if not claim.ours:
            return self._already_logged(record, claim.raw)
        assert claim.raw is not None
        return self._process(claim.raw.id, record, attachment)

    def _process(self, raw_id: str, record: CallRecord, attachment: Attachment | None) -> Ticket:
        try:
            ticket = self._log(record, attachment)
        except Exception as exc:
            finish(
                self.desk,
                raw_id,
                failure_status(exc, f"call {record.call_id!r}"),
                error=describe_error(exc),
            )
            raise
        finish(self.desk, raw_id, "processed", ticket.id)
        return ticket

    def _log(self, record: CallRecord, recording: Attachment | None) -> Ticket:
        call = record.call()
        if recording is not None:
            call["recording_sha256"] = recording.sha256
        if record.ticket_number is not None:
            ticket = self.desk.get_ticket_by_number(record.ticket_number)
            self.desk.log_call(
                ticket.id,
                record.agent or f"phone:{record.caller}",
                direction=record.direction,
                duration_seconds=record.duration_seconds,
                notes=record.summary(),
                caller=record.caller,
                outcome=record.outcome,
                call_id=record.call_id,
                started_at=record.started_at,
                recording_url=record.recording_url,
                recording=recording,
                transcript=record.transcript,
            )
            return self.desk.get_ticket(ticket.id)
        if record.direction != "inbound":
            raise ValidationError(
                f"outbound call {record.call_id!r} names no ticket; give ticket_number so "
                "the call is logged where it belongs"
            )
        return self.desk.receive(
            self.name,
            record.caller,
            record.summary(),
            sender_name=record.caller_name or None,
            attachments=(recording,) if recording else (),
            external_id=call_external_id(record.call_id),
            received_at=record.started_at,
            meta={"call": call},
        )

    def _already_logged(self, record: CallRecord, raw: RawInbound | None) -> Ticket:
        with self.desk.storage.unit_of_work() as uow:
            msg: Message | None = uow.find_message_by_external_id(call_external_id(record.call_id))
            if msg is not None:
                return uow.get_ticket(msg.ticket_id)
        if raw is not None and raw.status == "processed" and raw.ticket_id:
            return self.desk.get_ticket(raw.ticket_id)
        raise CallInProgress(
            f"call {record.call_id!r} is being logged by another process right now; "
            "send it again later (it is logged once)"
        )
