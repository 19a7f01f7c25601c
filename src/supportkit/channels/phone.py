"""Phone: call records from a telephony system become messages on tickets.

A telephony system (a PBX, a cloud call centre) reports each call as a
record: who called, which way, how long, what the agent noted.
:class:`PhoneChannel` normalises such a record (:meth:`CallRecord.from_mapping`
accepts the usual field names) and logs it: a call naming a ticket is
logged on it with ``desk.log_call``; an inbound call without one opens a
ticket on channel ``"phone"``. The record is stored raw first and keyed by
its call id, so a telephony system repeating a webhook logs the call once.

Phone is not a written channel: :meth:`PhoneChannel.deliver` refuses
replies with a PermanentDeliveryError (recorded on the ticket), telling
the agent to call back and log the call, or to route phone tickets to
email in the ChannelRegistry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .._convert import dumps, unstructure
from ..domain._errors import MalformedMessage, ValidationError
from ..domain._model import Message, Ticket, ensure_utc
from ..ports._channel import Channel, DeliveryReceipt, OutboundMessage, PermanentDeliveryError
from ..ports._storage import RawInbound
from ._inbound import Address, InboundMessage

if TYPE_CHECKING:
    from ..desk import SupportDesk

__all__ = ["CallRecord", "PhoneChannel"]

_ALIASES: Mapping[str, tuple[str, ...]] = {
    "call_id": ("call_id", "id", "uniqueid", "call_uuid", "sid"),
    "caller": ("caller", "from", "caller_id", "phone", "number"),
    "direction": ("direction",),
    "duration_seconds": ("duration_seconds", "duration", "billsec"),
    "started_at": ("started_at", "start_time", "start", "timestamp"),
    "notes": ("notes", "summary", "comment", "transcript"),
    "agent": ("agent", "agent_id", "operator"),
    "ticket_number": ("ticket_number", "ticket"),
    "caller_name": ("caller_name", "name"),
}


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
        )

    def summary(self) -> str:
        """The text logged on the ticket: the agent's notes, or a line about the call."""
        if self.notes.strip():
            return self.notes.strip()
        minutes, seconds = divmod(self.duration_seconds, 60)
        return f"{self.direction} phone call with {self.caller}, {minutes}:{seconds:02d}"


class PhoneChannel(Channel):
    """Logs calls from a telephony system on tickets (see the module docstring)."""

    name = "phone"

    def __init__(self, desk: SupportDesk) -> None:
        self.desk = desk

    def normalise(self, payload: Any, *, received_at: datetime) -> InboundMessage:
        record = payload if isinstance(payload, CallRecord) else CallRecord.from_mapping(payload)
        text = record.summary()
        return InboundMessage(
            channel=self.name,
            external_id=f"phone:{record.call_id}",
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

    def log(self, record: CallRecord | Mapping[str, Any]) -> Ticket:
        """Log one call; returns its ticket. A repeated call id changes nothing."""
        if not isinstance(record, CallRecord):
            record = CallRecord.from_mapping(record)
        raw_id = self.desk.new_id()
        with self.desk.storage.unit_of_work() as uow:
            fresh = uow.add_raw_inbound(
                RawInbound(
                    id=raw_id,
                    channel=self.name,
                    received_at=self.desk.clock.now(),
                    raw=json.dumps(unstructure(record)).encode(),
                    external_id=record.call_id,
                )
            )
            uow.commit()
        if not fresh:
            return self._already_logged(record)
        try:
            ticket = self._log(record)
        except Exception as exc:
            self._mark(raw_id, "failed", None, f"{type(exc).__name__}: {exc}")
            raise
        self._mark(raw_id, "processed", ticket.id, None)
        return ticket

    def _log(self, record: CallRecord) -> Ticket:
        call = {
            "call_id": record.call_id,
            "direction": record.direction,
            "duration_seconds": record.duration_seconds,
            "started_at": record.started_at.isoformat(),
        }
        if record.ticket_number is not None:
            ticket = self.desk.get_ticket_by_number(record.ticket_number)
            self.desk.log_call(
                ticket.id,
                record.agent or f"phone:{record.caller}",
                direction=record.direction,
                duration_seconds=record.duration_seconds,
                notes=record.summary(),
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
            external_id=f"phone:{record.call_id}",
            received_at=record.started_at,
            meta={"call": call},
        )

    def _already_logged(self, record: CallRecord) -> Ticket:
        with self.desk.storage.unit_of_work() as uow:
            msg: Message | None = uow.find_message_by_external_id(f"phone:{record.call_id}")
            if msg is not None:
                return uow.get_ticket(msg.ticket_id)
        if record.ticket_number is not None:
            return self.desk.get_ticket_by_number(record.ticket_number)
        raise ValidationError(f"call {record.call_id!r} was received before and failed")

    def _mark(self, raw_id: str, status: str, ticket_id: str | None, error: str | None) -> None:
        with self.desk.storage.unit_of_work() as uow:
            uow.update_raw_inbound(raw_id, status, ticket_id=ticket_id, error=error)
            uow.commit()
