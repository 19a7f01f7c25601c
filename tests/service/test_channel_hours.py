"""Channel availability as one setting: status, the preset, out-of-hours requests, SLA, routing, chat."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supportkit import ConfigurationError, FakeClock, ReceivedOutOfHours, SupportDesk
from supportkit.channels import ChannelRegistry, CustomerNotifier, MemoryChannel, OutboundDispatcher
from supportkit.channels.chat import ChatChannel, ChatEndpoint
from supportkit.domain import Agent, Team, TicketQueued
from supportkit.policies import (
    CHANNEL_CALENDAR,
    ChannelHours,
    DeskRouting,
    OutOfHours,
    SlaExtension,
    SlaKind,
    SlaPolicy,
    SlaRule,
    office_hours,
    service_hours,
)
from tests.channels.test_chat import until

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

# Moscow is UTC+3 all year
SATURDAY = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
MONDAY_OPEN = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)  # 09:00 Moscow
FRIDAY_17_MSK = datetime(2026, 1, 9, 14, 0, tzinfo=UTC)


def test_the_seed_table_is_a_ready_preset() -> None:
    hours = service_hours("Europe/Moscow")
    for at in (SATURDAY, datetime(2026, 1, 12, 3, tzinfo=UTC), FRIDAY_17_MSK):
        assert hours.is_open("email", at)
        assert hours.is_open("social", at)
    assert not hours.is_open("chat", SATURDAY)
    assert not hours.is_open("phone", SATURDAY)
    assert hours.is_open("chat", FRIDAY_17_MSK)
    assert hours.is_open("phone", FRIDAY_17_MSK)
    assert not hours.is_open("chat", datetime(2026, 1, 9, 15, 0, tzinfo=UTC))  # 18:00 Moscow
    assert hours.status("chat", SATURDAY).next_open == MONDAY_OPEN
    assert hours.status("phone", SATURDAY).next_open == MONDAY_OPEN


def test_channel_status_says_open_or_closed_with_the_next_opening() -> None:
    desk = SupportDesk(clock=FakeClock(SATURDAY), channel_hours=service_hours("Europe/Moscow"))
    closed = desk.channel_status("chat")
    assert (closed.open, closed.next_open, closed.redirect_to) == (False, MONDAY_OPEN, "email")
    assert "12 Jan 2026 09:00" in closed.notice("en")
    assert "email" in closed.notice("en")
    assert "12.01.2026 09:00" in closed.notice("ru")
    assert desk.channel_status("email").open
    assert desk.channel_status("email").notice() == ""
    assert desk.channel_status("chat", FRIDAY_17_MSK).open
    assert desk.channel_status("chat").to_dict()["next_open"] == MONDAY_OPEN.isoformat()


def test_a_desk_without_channel_hours_has_every_channel_open() -> None:
    desk = SupportDesk(clock=FakeClock(SATURDAY))
    assert desk.channel_status("phone").open


def test_bad_channel_hours_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="redirects to itself"):
        ChannelHours({"chat": office_hours()}, {"chat": OutOfHours.redirect("chat")})
    with pytest.raises(ConfigurationError, match="needs the channel"):
        OutOfHours("redirect")
    with pytest.raises(ConfigurationError, match="BusinessCalendar"):
        ChannelHours({"chat": "09:00-18:00"})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="ChannelHours"):
        SupportDesk(channel_hours={"chat": office_hours()})  # type: ignore[arg-type]


def _queueing_hours() -> ChannelHours:
    return service_hours("Europe/Moscow", chat_out_of_hours=OutOfHours.queue())


def test_a_request_on_a_closed_channel_is_queued_with_an_honest_acknowledgement(
    storage: Any,
) -> None:
    chat = MemoryChannel("chat")
    email = MemoryChannel("email")
    dispatcher = OutboundDispatcher(ChannelRegistry([chat, email]))
    desk = SupportDesk(
        storage,
        clock=FakeClock(SATURDAY),
        channel_hours=_queueing_hours(),
        extensions=[dispatcher, CustomerNotifier(dispatcher)],
    )
    seen: list[Any] = []
    desk.signals.for_type(ReceivedOutOfHours).connect(
        lambda _s, event: seen.append(event), weak=False
    )
    t = desk.receive("chat", "visitor-1", "Is my order shipped?")
    assert t.custom_fields["out_of_hours"] == {
        "next_open": MONDAY_OPEN.isoformat(),
        "action": "queue",
        "redirect_to": None,
    }
    assert [(e.channel, e.next_open, e.action) for e in seen] == [("chat", MONDAY_OPEN, "queue")]
    [ack] = chat.sent
    assert "closed now" in ack.text
    assert "12 Jan 2026 09:00" in ack.text
    assert desk.get_ticket(t.id).first_response_at is None  # an acknowledgement is no answer
    # an email at the same instant is simply registered: email is open around the clock
    e = desk.receive("email", "ann@example.com", "Invoice", subject="Invoice")
    assert "out_of_hours" not in e.custom_fields
    assert "closed" not in email.sent[0].text


def test_sla_in_the_channels_hours_chat_waits_for_monday_email_does_not(storage: Any) -> None:
    sla = SlaExtension(
        SlaPolicy([SlaRule(first_response=timedelta(hours=2), calendar=CHANNEL_CALENDAR)])
    )
    desk = SupportDesk(
        storage,
        clock=FakeClock(FRIDAY_17_MSK),
        channel_hours=_queueing_hours(),
        extensions=[sla],
    )
    chat = desk.receive("chat", "visitor-1", "Hello?")
    mail = desk.receive("email", "ann@example.com", "Hello?", subject="Q")
    chat_due = sla.status(desk, chat.id)[SlaKind.FIRST_RESPONSE].due_at
    mail_due = sla.status(desk, mail.id)[SlaKind.FIRST_RESPONSE].due_at
    assert chat_due == MONDAY_OPEN + timedelta(hours=1)  # 1h on Friday, 1h on Monday
    assert mail_due == FRIDAY_17_MSK + timedelta(hours=2)


def test_sla_rule_in_channel_hours_needs_the_desk_to_have_them() -> None:
    sla = SlaExtension(SlaPolicy([SlaRule(first_response=timedelta(1), calendar=CHANNEL_CALENDAR)]))
    with pytest.raises(ConfigurationError, match="channel_hours"):
        SupportDesk(extensions=[sla])


def test_routing_holds_a_closed_channels_request_until_it_opens(storage: Any) -> None:
    clock = FakeClock(SATURDAY)
    routing = DeskRouting(
        teams=[Team("l1", "First line", tier="L1")],
        agents=[Agent("kate", "Kate", tier="L1", teams=("l1",))],
    )
    desk = SupportDesk(storage, clock=clock, channel_hours=_queueing_hours(), extensions=[routing])
    queued: list[Any] = []
    desk.signals.for_type(TicketQueued).connect(lambda _s, event: queued.append(event), weak=False)
    chat = desk.receive("chat", "visitor-1", "Hello?")
    assert desk.get_ticket(chat.id).assignee_id is None
    assert "chat is closed until" in queued[0].reason
    mail = desk.receive("email", "ann@example.com", "Hello?", subject="Q")
    assert desk.get_ticket(mail.id).assignee_id == "kate"  # email is open: routed at once
    assert desk.tick(MONDAY_OPEN - timedelta(minutes=1)) == 0
    clock.set(MONDAY_OPEN)
    assert desk.tick(MONDAY_OPEN) == 1
    assert desk.get_ticket(chat.id).assignee_id == "kate"


def test_the_chat_follows_the_desks_hours_and_redirects_to_email_honestly() -> None:
    clock = FakeClock(SATURDAY)
    chat = ChatChannel(clock=clock)
    desk = SupportDesk(clock=clock, channel_hours=service_hours("Europe/Moscow"))
    endpoint = ChatEndpoint(desk, chat)
    with TestClient(endpoint.app).websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "name": "Bob"})
        assert until(ws, "welcome")["open"] is False
        notice = until(ws, "notice")["text"]
        assert "12 Jan 2026 09:00" in notice
        assert "email address" in notice
        ws.send_json({"type": "message", "text": "bob@example.com I cannot log in"})
        assert until(ws, "ticket")["channel"] == "email"
    clock.set(FRIDAY_17_MSK)
    assert endpoint.is_open()


def test_a_closed_chat_that_queues_opens_a_chat_ticket() -> None:
    clock = FakeClock(SATURDAY)
    desk = SupportDesk(clock=clock, channel_hours=_queueing_hours())
    endpoint = ChatEndpoint(desk, ChatChannel(clock=clock))
    with TestClient(endpoint.app).websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "name": "Bob", "language": "ru"})
        assert "12.01.2026 09:00" in until(ws, "notice")["text"]
        ws.send_json({"type": "message", "text": "Не могу войти"})
        assert until(ws, "ticket")["channel"] == "chat"
    [t] = desk.find_tickets()
    assert t.custom_fields["out_of_hours"]["action"] == "queue"


def test_chat_hours_cannot_be_set_twice() -> None:
    desk = SupportDesk(channel_hours=service_hours())
    with pytest.raises(ConfigurationError, match="set twice"):
        ChatEndpoint(desk, ChatChannel(), hours=office_hours())


def test_a_request_registered_after_the_opening_is_not_marked(storage: Any) -> None:
    desk = SupportDesk(
        storage, clock=FakeClock(MONDAY_OPEN + timedelta(hours=1)), channel_hours=_queueing_hours()
    )
    late = desk.receive(
        "chat", "visitor-1", "sent on Saturday, imported on Monday", received_at=SATURDAY
    )
    assert "out_of_hours" not in late.custom_fields
