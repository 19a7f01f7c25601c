"""Calls: direction, caller, duration, outcome, recording (URL or stored bytes), transcript; callbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportkit import (
    CallbackDue,
    CallbackScheduled,
    CallLogged,
    CallOutcome,
    ConfigurationError,
    MalformedMessage,
    SupportDesk,
    ValidationError,
)
from supportkit.channels.phone import PhoneChannel
from supportkit.policies import service_hours
from supportkit.storage.attachments import FileAttachmentStore
from tests.service.conftest import desk_with_events

SATURDAY = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
MONDAY_OPEN = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)  # 09:00 Moscow
TUESDAY = datetime(2026, 1, 13, 8, 0, tzinfo=UTC)


def _desk(storage: Any, at: datetime = TUESDAY, **kw: Any) -> tuple[SupportDesk, list[Any]]:
    return desk_with_events(storage, at, **kw)


def test_a_call_keeps_its_outcome_recording_url_and_transcript(storage: Any) -> None:
    desk, seen = _desk(storage)
    ticket = PhoneChannel(desk).log(
        {
            "uniqueid": "pbx-1",
            "from": "+7 495 111-22-33",
            "direction": "incoming",
            "billsec": "0",
            "start_time": "2026-01-13T07:55:00Z",
            "disposition": "NO ANSWER",
            "recordingurl": "https://pbx.example.com/rec/pbx-1.mp3",
            "transcription": "Hello, I am calling about my order",
        }
    )
    [call] = desk.calls(ticket.id)
    assert (call.call_id, call.direction, call.caller) == ("pbx-1", "inbound", "+7 495 111-22-33")
    assert (call.duration_seconds, call.outcome) == (0, CallOutcome.MISSED)
    assert call.recording_url == "https://pbx.example.com/rec/pbx-1.mp3"
    assert call.transcript == "Hello, I am calling about my order"
    assert call.at == datetime(2026, 1, 13, 7, 55, tzinfo=UTC)
    [logged] = [e for e in seen if isinstance(e, CallLogged)]
    assert (logged.outcome, logged.recording) == ("missed", call.recording_url)


def test_a_recording_is_kept_in_the_attachment_store(storage: Any, tmp_path: Path) -> None:
    desk, _ = _desk(storage)
    store = FileAttachmentStore(tmp_path / "blobs")
    phone = PhoneChannel(desk, attachments=store)
    audio = b"ID3\x03\x00fake mp3 bytes"
    ticket = phone.log(
        {"id": "c2", "from": "+15550100", "direction": "in", "duration": 95,
         "start_time": "2026-01-13T07:00:00Z", "notes": "wants a refund"},
        recording=audio,
    )  # fmt: skip
    [call] = desk.calls(ticket.id)
    assert call.outcome is CallOutcome.ANSWERED
    assert call.recording is not None
    assert store.get(call.recording.sha256 or "") == audio
    later = phone.log(
        {"id": "c3", "from": "+15550100", "direction": "out", "duration": 30,
         "start_time": "2026-01-13T07:30:00Z", "ticket": ticket.number, "outcome": "voicemail"},
    )  # fmt: skip
    assert [c.outcome for c in desk.calls(later.id)] == [
        CallOutcome.ANSWERED,
        CallOutcome.VOICEMAIL,
    ]
    with pytest.raises(ConfigurationError, match="attachments="):
        PhoneChannel(desk).log(
            {"id": "c4", "from": "+1", "start_time": "2026-01-13T07:00:00Z"}, recording=audio
        )


def test_log_call_on_a_ticket_and_bad_calls_are_refused(storage: Any) -> None:
    desk, _ = _desk(storage)
    t = desk.receive("email", "ann@example.com", "Call me", subject="Call me")
    desk.log_call(
        t.id, "kate", direction="outbound", duration_seconds=120, notes="called back",
        caller="+7 900", recording_url="https://rec.example.com/1", transcript="...",
    )  # fmt: skip
    [call] = desk.calls(t.id)
    assert (call.direction, call.outcome, call.recording_url) == (
        "outbound",
        CallOutcome.ANSWERED,
        "https://rec.example.com/1",
    )
    with pytest.raises(ValidationError, match="http"):
        desk.log_call(t.id, "k", direction="outbound", duration_seconds=1, notes="x",
                      recording_url="ftp://x")  # fmt: skip
    with pytest.raises(ValidationError, match="outcome"):
        desk.log_call(t.id, "k", direction="outbound", duration_seconds=1, notes="x",
                      outcome="hung up")  # fmt: skip
    with pytest.raises(MalformedMessage, match="outcome"):
        PhoneChannel(desk).log(
            {"id": "c9", "from": "+1", "start_time": "2026-01-13T07:00:00Z", "outcome": "weird"}
        )
    assert len(desk.calls(t.id)) == 1


def test_a_phone_request_outside_hours_becomes_a_callback_task(storage: Any) -> None:
    desk, seen = _desk(storage, at=SATURDAY, channel_hours=service_hours("Europe/Moscow"))
    ticket = PhoneChannel(desk).log(
        {"id": "night-1", "from": "+7 495 777-00-11", "direction": "in", "duration": 0,
         "start_time": "2026-01-10T11:58:00Z", "outcome": "voicemail",
         "transcript": "Please call me back about the invoice"}
    )  # fmt: skip
    [scheduled] = [e for e in seen if isinstance(e, CallbackScheduled)]
    assert (scheduled.number, scheduled.due_at) == ("+74957770011", MONDAY_OPEN)
    [cb] = desk.callbacks(status="scheduled")
    assert (cb.ticket_id, cb.due_at) == (ticket.id, MONDAY_OPEN)
    assert desk.get_ticket(ticket.id).custom_fields["callback_due"] == MONDAY_OPEN.isoformat()
    assert desk.tick(MONDAY_OPEN - timedelta(seconds=1)) == 0
    assert desk.tick(MONDAY_OPEN) == 1
    assert desk.callback_for(ticket.id).status == "due"
    assert any(isinstance(e, CallbackDue) for e in seen)
    assert "Call +74957770011 back now" in desk.messages(ticket.id)[-1].text
    desk.log_call(ticket.id, "kate", direction="outbound", duration_seconds=60, notes="done")
    done = desk.callback_for(ticket.id)
    assert (done.status, done.done_at) == ("done", SATURDAY)
    assert desk.callbacks(status="due") == []


def test_a_call_in_hours_or_an_email_at_night_schedules_no_callback(storage: Any) -> None:
    desk, _ = _desk(storage, at=TUESDAY, channel_hours=service_hours("Europe/Moscow"))
    PhoneChannel(desk).log(
        {"id": "day-1", "from": "+7 495 1", "direction": "in", "duration": 10,
         "start_time": "2026-01-13T08:00:00Z"}
    )  # fmt: skip
    desk.receive("email", "ann@example.com", "x", subject="x", received_at=SATURDAY)
    assert desk.callbacks() == []
