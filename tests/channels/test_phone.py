"""Phone: call records from a telephony system become messages on tickets, once."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit import FakeClock, MalformedMessage, SupportDesk, ValidationError
from supportkit.channels import (
    CallRecord,
    ChannelRegistry,
    MemoryChannel,
    OutboundDispatcher,
    PhoneChannel,
)
from supportkit.channels.phone import CallInProgress

CALL = {
    "id": "call-1",
    "from": "+7 495 123-45-67",
    "direction": "incoming",
    "duration": 125,
    "start_time": "2026-01-05T09:00:00Z",
    "summary": "Customer cannot log in; reset sent.",
}


@pytest.fixture
def phone() -> PhoneChannel:
    return PhoneChannel(SupportDesk(clock=FakeClock()))


def test_common_telephony_field_names_are_understood() -> None:
    r = CallRecord.from_mapping(CALL)
    assert (r.call_id, r.caller, r.direction, r.duration_seconds) == (
        "call-1",
        "+7 495 123-45-67",
        "inbound",
        125,
    )
    assert r.started_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert r.summary() == "Customer cannot log in; reset sent."
    unix = CallRecord.from_mapping({"uniqueid": 7, "caller_id": "100", "timestamp": 0})
    assert unix.started_at.year == 1970
    assert unix.summary() == "inbound phone call with 100, 0:00"


@pytest.mark.parametrize(
    ("record", "detail"),
    [
        ({"from": "1", "start_time": "2026-01-05T09:00:00Z"}, "no call_id"),
        ({"id": "c", "start_time": "2026-01-05T09:00:00Z"}, "no caller"),
        ({"id": "c", "from": "1"}, "no started_at"),
        ({**CALL, "direction": "sideways"}, "direction"),
        ({**CALL, "duration": -5}, "negative"),
        ({**CALL, "duration": "long"}, "call-1"),
        ({**CALL, "start_time": "2026-01-05T09:00:00"}, "no time zone"),
    ],
)
def test_bad_call_records_are_refused_with_the_reason(record: dict[str, Any], detail: str) -> None:
    with pytest.raises(MalformedMessage, match=detail):
        CallRecord.from_mapping(record)


@given(st.dictionaries(st.text(max_size=12), st.one_of(st.none(), st.text(), st.integers())))
def test_any_mapping_gives_a_call_record_or_a_malformed_message(data: dict[str, Any]) -> None:
    with contextlib.suppress(MalformedMessage):
        CallRecord.from_mapping(data)


def test_an_inbound_call_opens_a_phone_ticket(phone: PhoneChannel) -> None:
    t = phone.log(CALL)
    assert (t.channel, t.number) == (("phone"), 1)
    [msg] = phone.desk.messages(t.id)
    assert msg.text == "Customer cannot log in; reset sent."
    assert msg.meta["call"]["duration_seconds"] == 125
    assert msg.external_id == "phone:call-1"


def test_a_repeated_call_record_is_logged_once(phone: PhoneChannel) -> None:
    first = phone.log(CALL)
    again = phone.log(CALL)
    assert first.id == again.id
    assert len(phone.desk.messages(first.id)) == 1


def test_a_call_naming_a_ticket_is_logged_on_it(phone: PhoneChannel) -> None:
    t = phone.desk.receive("email", "ann@example.com", "Invoice wrong")
    logged = phone.log(
        {**CALL, "id": "call-2", "direction": "outbound", "ticket": "#1", "agent": "agent-7"}
    )
    assert logged.id == t.id
    call = phone.desk.messages(t.id)[-1]
    assert (call.author, call.channel, call.direction.value) == ("agent-7", "phone", "outbound")
    assert phone.log({**CALL, "id": "call-2", "direction": "outbound", "ticket": "#1"}).id == t.id
    assert len(phone.desk.messages(t.id)) == 2


def test_an_outbound_call_without_a_ticket_is_refused_but_kept(phone: PhoneChannel) -> None:
    with pytest.raises(ValidationError, match="names no ticket"):
        phone.log({**CALL, "direction": "out"})
    with phone.desk.storage.unit_of_work() as uow:
        [raw] = uow.list_raw_inbound()
    assert raw.status == "failed"
    assert "names no ticket" in (raw.error or "")


def test_a_written_reply_on_a_phone_ticket_fails_loudly() -> None:
    desk = SupportDesk(clock=FakeClock())
    phone = PhoneChannel(desk)
    dispatcher = OutboundDispatcher(ChannelRegistry([phone, MemoryChannel("email")]))
    desk = SupportDesk(desk.storage, clock=FakeClock(), extensions=[dispatcher])
    phone.desk = desk
    t = phone.log(CALL)
    desk.reply(t.id, "agent-1", "We reset it")
    [failure] = desk.get_ticket(t.id).custom_fields["delivery_failures"]
    assert "call the customer back" in failure["error"]


def test_a_call_logged_twice_on_a_ticket_is_one_message() -> None:
    """``log_call`` with a call id is idempotent: a worker repeating a call it logged before
    a crash adds nothing."""
    desk = SupportDesk(clock=FakeClock())
    t = desk.receive("email", "ann@example.com", "Invoice wrong")
    facts: dict[str, Any] = {"direction": "outbound", "duration_seconds": 30, "notes": "rang"}
    first = desk.log_call(t.id, "agent-1", call_id="c-9", **facts)
    again = desk.log_call(t.id, "agent-1", call_id="c-9", **facts)
    assert first.id == again.id
    assert [m.external_id for m in desk.messages(t.id)] == [None, "phone:c-9"]
    assert len(desk.calls(t.id)) == 1


class _Killed(BaseException):
    """Stands for the process dying between keeping the record and logging it."""


def test_a_call_kept_but_never_logged_is_logged_by_reprocess_after_the_lease() -> None:
    clock = FakeClock()
    desk = SupportDesk(clock=clock)
    phone = PhoneChannel(desk, lease=timedelta(minutes=5))
    real_log = phone._log

    def die(*_: Any) -> Any:
        raise _Killed

    phone._log = die  # type: ignore[method-assign]
    with pytest.raises(_Killed):
        phone.log(CALL)
    phone._log = real_log  # type: ignore[method-assign]
    # the telephony system re-sends at once: the dead process's lease still holds it
    with pytest.raises(CallInProgress, match="send it again later"):
        phone.log(CALL)
    assert phone.reprocess() == []  # nor does a worker take it before the lease ends
    clock.advance(timedelta(minutes=6))
    [ticket] = phone.reprocess()
    assert [m.external_id for m in desk.messages(ticket.id)] == ["phone:call-1"]
    assert phone.log(CALL).id == ticket.id  # and a later re-send is answered with it
    with desk.storage.unit_of_work() as uow:
        [raw] = uow.list_raw_inbound()
    assert (raw.status, raw.ticket_id) == ("processed", ticket.id)


def test_reprocess_keeps_a_lasting_failure_failed_with_its_error(phone: PhoneChannel) -> None:
    with pytest.raises(ValidationError):
        phone.log({**CALL, "direction": "out"})
    assert phone.reprocess() == []
    with phone.desk.storage.unit_of_work() as uow:
        [raw] = uow.list_raw_inbound()
    assert raw.status == "failed"
    assert "names no ticket" in str(raw.error)
