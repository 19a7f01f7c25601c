"""Live chat over a WebSocket: a session bound to a ticket, opening hours, the bot's first turn."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

import pytest

from supportkit import FakeClock, SupportDesk
from supportkit.channels import ChannelRegistry, CustomerNotifier, MemoryChannel, OutboundDispatcher
from supportkit.channels.chat import ChatChannel, ChatEndpoint, OpeningHours, first_line_bot
from supportkit.knowledge import Answer, FirstLineBot
from supportkit.policies import BusinessCalendar

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

MONDAY_10 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
SUNDAY_10 = datetime(2026, 1, 4, 10, 0, tzinfo=UTC)
HOURS = BusinessCalendar({"mon-fri": "09:00-18:00"}, timezone="UTC")


class Env:
    def __init__(
        self,
        at: datetime = MONDAY_10,
        bot: Any = None,
        notify: bool = False,
        identify: Any = None,
    ) -> None:
        self.clock = FakeClock(at)
        self.chat = ChatChannel(clock=self.clock)
        self.email = MemoryChannel("email")
        dispatcher = OutboundDispatcher(ChannelRegistry([self.chat, self.email]))
        ext: list[Any] = [dispatcher]
        if notify:
            ext.append(CustomerNotifier(dispatcher))
        self.desk = SupportDesk(clock=self.clock, extensions=ext)
        self.endpoint = ChatEndpoint(self.desk, self.chat, hours=HOURS, bot=bot, identify=identify)
        self.client = TestClient(self.endpoint.app)


def until(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(10):
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


def test_business_calendar_is_an_opening_hours_object() -> None:
    assert isinstance(HOURS, OpeningHours)


def test_first_message_opens_a_chat_ticket_and_agent_replies_are_pushed() -> None:
    env = Env()
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "name": "Ann"})
        welcome = until(ws, "welcome")
        assert welcome["open"] is True
        ws.send_json({"type": "message", "text": "My order is late"})
        ticket_frame = until(ws, "ticket")
        assert ticket_frame == {"type": "ticket", "number": 1, "channel": "chat"}
        [t] = env.desk.find_tickets()
        assert (t.channel, t.subject) == ("chat", "My order is late")
        env.desk.reply(t.id, "agent-1", "Checking now")
        pushed = until(ws, "message")
        assert (pushed["author"], pushed["text"]) == ("agent", "Checking now")
        ws.send_json({"type": "message", "text": "thanks"})
        until(ws, "received")
        env.desk.reply(t.id, "agent-1", "It ships today")
        assert until(ws, "message")["text"] == "It ships today"
    texts = [m.text for m in env.desk.messages(t.id)]
    assert texts == ["My order is late", "Checking now", "thanks", "It ships today"]
    assert len(env.desk.find_tickets()) == 1


def test_a_reply_while_the_customer_is_away_stays_in_the_transcript_for_resume() -> None:
    env = Env()
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "message", "text": "Hello"})
        session = until(ws, "welcome")["resume"]
        until(ws, "ticket")
    [t] = env.desk.find_tickets()
    env.desk.reply(t.id, "agent-1", "Sorry for the wait")
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "resume": session})
        history = until(ws, "history")
        assert [m["text"] for m in history["messages"]] == ["Hello", "Sorry for the wait"]
        ws.send_json({"type": "message", "text": "no problem"})
        until(ws, "received")
        env.desk.reply(t.id, "agent-1", "ok")
        assert until(ws, "message")["text"] == "ok"
    assert len(env.desk.find_tickets()) == 1


def test_outside_opening_hours_the_chat_becomes_an_email_ticket() -> None:
    env = Env(at=SUNDAY_10, notify=True)
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "name": "Bob", "language": "ru"})
        assert until(ws, "welcome")["open"] is False
        closed = until(ws, "notice")
        assert "электронной почте" in closed["text"]
        ws.send_json({"type": "message", "text": "Не могу войти в кабинет"})
        assert "адрес" in until(ws, "notice")["text"]
        ws.send_json({"type": "message", "text": "bob@example.com"})
        ticket = until(ws, "ticket")
        assert ticket["channel"] == "email"
        assert "bob@example.com" in until(ws, "notice")["text"]
        ws.send_json({"type": "message", "text": "И ещё пароль не приходит"})
        until(ws, "received")
    [t] = env.desk.find_tickets()
    assert (t.channel, t.language) == ("email", "ru")
    texts = [m.text for m in env.desk.messages(t.id) if m.direction.value == "inbound"]
    assert texts[0] == "Не могу войти в кабинет"
    assert "И ещё пароль не приходит" in texts
    [ack] = env.email.sent
    assert ack.recipient == "bob@example.com"
    assert ack.subject.startswith("[#1] Ваше обращение получено")


def test_after_hours_with_the_email_given_up_front_the_first_message_is_the_ticket() -> None:
    env = Env(at=SUNDAY_10)
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "email": "Eve@Example.com"})
        until(ws, "welcome")
        ws.send_json({"type": "message", "text": "Refund please"})
        assert until(ws, "ticket")["channel"] == "email"
        until(ws, "received")
    [t] = env.desk.find_tickets()
    assert env.desk.find_customer("email", "eve@example.com") is not None
    assert env.desk.messages(t.id)[0].text == "Refund please"


class KB:
    def answer(self, question: str, locale: str) -> Answer:
        if "password" in question:
            return Answer("Use 'Forgot password' on the login page.", 0.9, ("kb-1",))
        return Answer("", 0.0)


def test_the_first_line_bot_takes_the_first_turn_then_hands_over() -> None:
    env = Env(bot=first_line_bot(FirstLineBot(KB())))
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "message", "text": "I forgot my password"})
        answer = until(ws, "message")
        assert answer["author"] == "bot"
        assert "Forgot password" in answer["text"]
        ws.send_json({"type": "message", "text": "the link never arrives, call a human"})
        assert "agent" in until(ws, "notice")["text"]
        until(ws, "received")
    [t] = env.desk.find_tickets()
    authors = [m.author for m in env.desk.messages(t.id)]
    assert authors.count("bot") == 1


def test_bad_frames_get_an_error_and_the_session_goes_on() -> None:
    env = Env()
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "start"})
        until(ws, "welcome")
        ws.send_json({"type": "message", "text": "   "})
        assert "text must be" in until(ws, "error")["detail"]
        ws.send_json({"type": "typing"})
        assert until(ws, "error")["type"] == "error"
        ws.send_json({"type": "message", "text": "real question"})
        assert until(ws, "ticket")["number"] == 1


def test_resuming_an_unknown_session_says_so() -> None:
    env = Env()
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "resume": "nope"})
        assert "unknown" in until(ws, "error")["detail"]


@pytest.mark.parametrize("kind", ["reply", "notification"])
def test_chat_channel_reports_where_a_delivery_went(kind: str) -> None:
    from supportkit.channels import OutboundMessage

    chat = ChatChannel()
    out = OutboundMessage("d", "t", 1, "chat", "visitor-x", "hi", kind=kind)
    assert "not connected" in chat.deliver(out).detail


def test_a_client_cannot_claim_another_identity_but_the_host_can_name_its_user() -> None:
    env = Env(identify=lambda ws: ws.headers.get("x-user"))
    with env.client.websocket_connect("/chat", headers={"x-user": "42"}) as ws:
        ws.send_json({"type": "start", "email": "victim@example.com", "visitor": "user-7"})
        until(ws, "welcome")
        ws.send_json({"type": "message", "text": "hello"})
        until(ws, "received")
    [t] = env.desk.find_tickets()
    assert env.desk.messages(t.id)[0].author == "user-42"
    assert env.desk.find_customer("email", "victim@example.com") is None


def test_a_message_after_the_ticket_closed_opens_a_follow_up_in_the_same_session() -> None:
    env = Env()
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "message", "text": "first problem"})
        until(ws, "received")
        [t] = env.desk.find_tickets()
        env.desk.resolve(t.id, actor="agent-1", resolution="fixed")
        env.desk.close(t.id, actor="agent-1")
        ws.send_json({"type": "message", "text": "another problem"})
        assert until(ws, "ticket")["number"] == 2
        until(ws, "received")
        ws.send_json({"type": "message", "text": "more on it"})
        until(ws, "received")
    second = env.desk.get_ticket_by_number(2)
    assert [m.text for m in env.desk.messages(second.id)] == ["another problem", "more on it"]
    assert second.custom_fields["follow_up_of"] == 1
