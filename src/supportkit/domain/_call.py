"""A phone call on a ticket: who called which way, how long, how it ended, what was said.

A call is stored as the ticket message that logs it (``meta["call"]``), so
it travels with the ticket through every backend; :class:`Call` is its typed
view (``desk.calls(ticket_id)``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from ._errors import ValidationError
from ._model import Attachment, Message

__all__ = ["Call", "CallOutcome"]


class CallOutcome(enum.StrEnum):
    """How a call ended."""

    ANSWERED = "answered"
    MISSED = "missed"
    VOICEMAIL = "voicemail"
    BUSY = "busy"
    FAILED = "failed"


def call_outcome(value: str | CallOutcome | None, duration_seconds: int) -> CallOutcome:
    """The outcome given, or ``answered`` for a call that lasted, ``missed`` for one that did not."""
    if value is None or value == "":
        return CallOutcome.ANSWERED if duration_seconds > 0 else CallOutcome.MISSED
    try:
        return CallOutcome(str(value).lower())
    except ValueError:
        raise ValidationError(
            f"unknown call outcome {value!r}; use one of {[o.value for o in CallOutcome]}"
        ) from None


@attrs.frozen
class Call:
    """One logged call (see the module docstring)."""

    message_id: str
    ticket_id: str
    call_id: str | None
    direction: str
    caller: str | None
    duration_seconds: int
    outcome: CallOutcome
    at: datetime
    recording_url: str | None = None
    recording: Attachment | None = None
    transcript: str | None = None
    notes: str = ""

    @classmethod
    def from_message(cls, message: Message) -> Call | None:
        """The call a message logs, or None for any other message."""
        data: Any = message.meta.get("call")
        if not isinstance(data, dict):
            return None
        duration = int(data.get("duration_seconds") or 0)
        recording = None
        sha = data.get("recording_sha256")
        if sha:
            recording = next((a for a in message.attachments if a.sha256 == sha), None)
        started = data.get("started_at")
        return cls(
            message_id=message.id,
            ticket_id=message.ticket_id,
            call_id=data.get("call_id"),
            direction=str(data.get("direction") or message.direction.value),
            caller=data.get("caller"),
            duration_seconds=duration,
            outcome=call_outcome(data.get("outcome"), duration),
            at=datetime.fromisoformat(started) if started else message.created_at,
            recording_url=data.get("recording_url"),
            recording=recording,
            transcript=data.get("transcript"),
            notes=message.text,
        )
