"""Outbound webhooks over real HTTP on loopback: replies to the host and ticket events,
signed like inbound ones, retried with backoff through desk timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from supportkit import FakeClock, SupportDesk
from supportkit.channels import ChannelRegistry, OutboundDispatcher, RetryPolicy
from supportkit.channels.webhook import EventForwarder, WebhookChannel, verify

from .conftest import Receiver

SECRET = "hook-secret"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def assert_signed(receiver: Receiver, clock: FakeClock) -> None:
    for _, headers, body in receiver.requests:
        verify([SECRET], body, headers, clock.now(), timedelta(days=1))


def reply_desk(
    receiver: Receiver,
) -> tuple[SupportDesk, OutboundDispatcher, FakeClock, WebhookChannel]:
    clock = FakeClock(START)
    channel = WebhookChannel(
        receiver.url, SECRET, aliases=("telegram",), clock=clock, client=httpx.Client(timeout=5)
    )
    dispatcher = OutboundDispatcher(
        ChannelRegistry([channel]), retry=RetryPolicy(max_attempts=3, base=timedelta(minutes=1))
    )
    return SupportDesk(clock=clock, extensions=[dispatcher]), dispatcher, clock, channel


def test_a_reply_on_a_messenger_ticket_is_posted_to_the_host_signed(
    http_receiver: Receiver,
) -> None:
    http_receiver.reply = {"external_id": "tg-msg-77"}
    desk, dispatcher, clock, _ = reply_desk(http_receiver)
    t = desk.receive("telegram", "tg-1001", "Bot is down")
    reply = desk.reply(t.id, "agent-1", "Restarted it")
    [body] = http_receiver.bodies()
    assert body["type"] == "message.outbound"
    assert (body["text"], body["recipient"], body["channel"]) == (
        "Restarted it",
        "tg-1001",
        "telegram",
    )
    assert http_receiver.requests[0][1]["Idempotency-Key"] == reply.id
    assert_signed(http_receiver, clock)
    record = dispatcher.status(reply.id)
    assert record is not None
    assert record["receipt"]["external_id"] == "tg-msg-77"


def test_a_5xx_from_the_host_is_retried_after_the_backoff(http_receiver: Receiver) -> None:
    http_receiver.statuses = [503]
    desk, dispatcher, clock, _ = reply_desk(http_receiver)
    t = desk.receive("telegram", "tg-1", "hi")
    reply = desk.reply(t.id, "agent-1", "hello")
    assert dispatcher.status(reply.id)["status"] == "pending"  # type: ignore[index]
    clock.advance(minutes=1)
    assert desk.tick() == 1
    assert dispatcher.status(reply.id)["status"] == "delivered"  # type: ignore[index]
    assert len(http_receiver.requests) == 2


def test_a_4xx_from_the_host_is_a_permanent_failure_on_the_ticket(
    http_receiver: Receiver,
) -> None:
    http_receiver.statuses = [410]
    desk, _, _, _ = reply_desk(http_receiver)
    t = desk.receive("telegram", "tg-1", "hi")
    desk.reply(t.id, "agent-1", "hello")
    [failure] = desk.get_ticket(t.id).custom_fields["delivery_failures"]
    assert "answered 410" in failure["error"]


def test_an_unreachable_host_is_a_transient_failure() -> None:
    clock = FakeClock(START)
    channel = WebhookChannel("http://127.0.0.1:9/nothing", SECRET, aliases=("telegram",))
    dispatcher = OutboundDispatcher(ChannelRegistry([channel]))
    desk = SupportDesk(clock=clock, extensions=[dispatcher])
    t = desk.receive("telegram", "tg-1", "hi")
    reply = desk.reply(t.id, "agent-1", "hello")
    record = dispatcher.status(reply.id)
    assert record is not None
    assert record["status"] == "pending"
    assert "ConnectError" in record["errors"][0]["error"]


def forwarder_desk(
    receiver: Receiver, **kw: object
) -> tuple[SupportDesk, EventForwarder, FakeClock]:
    clock = FakeClock(START)
    forwarder = EventForwarder(
        receiver.url,
        SECRET,
        retry=RetryPolicy(max_attempts=3, base=timedelta(seconds=30)),
        **kw,  # type: ignore[arg-type]
    )
    return SupportDesk(clock=clock, extensions=[forwarder]), forwarder, clock


def test_ticket_events_are_forwarded_in_order_signed(http_receiver: Receiver) -> None:
    desk, forwarder, clock = forwarder_desk(http_receiver)
    t = desk.receive("email", "ann@example.com", "Hello")
    desk.resolve(t.id, actor="agent-1", resolution="done")
    types = [b["type"] for b in http_receiver.bodies()]
    assert types == [
        "ticket.received",
        "ticket.message_added",
        "ticket.status_changed",
        "ticket.status_changed",
    ]
    ids = [b["id"] for b in http_receiver.bodies()]
    assert ids == sorted(ids)
    assert http_receiver.bodies()[3]["event"]["to_status"] == "resolved"
    assert http_receiver.requests[0][1]["X-Supportkit-Event"] == "ticket.received"
    assert http_receiver.requests[0][1]["Idempotency-Key"] == f"event-{ids[0]}"
    assert_signed(http_receiver, clock)
    assert forwarder.state()["cursor"] == ids[-1]


def test_forwarding_backs_off_on_failure_and_resumes_on_tick(http_receiver: Receiver) -> None:
    http_receiver.statuses = [500, 502]
    desk, forwarder, clock = forwarder_desk(http_receiver)
    desk.receive("email", "ann@example.com", "Hello")
    assert len(http_receiver.requests) == 1  # stopped at the first event
    state = forwarder.state()
    assert state["failures"] == 1
    clock.advance(seconds=30)
    assert desk.tick() == 1  # the retry fails again (502): the wait doubles
    assert forwarder.state()["failures"] == 2
    clock.advance(seconds=59)
    assert desk.tick() == 0
    clock.advance(seconds=1)
    assert desk.tick() == 1
    types = [b["type"] for b in http_receiver.bodies()]
    assert types[-3:] == ["ticket.received", "ticket.message_added", "ticket.status_changed"]
    assert forwarder.state()["failures"] == 0


def test_an_event_the_host_refuses_is_dead_lettered_and_forwarding_goes_on(
    http_receiver: Receiver,
) -> None:
    http_receiver.statuses = [400]
    desk, forwarder, _ = forwarder_desk(http_receiver)
    desk.receive("email", "ann@example.com", "Hello")
    [(_, dead)] = forwarder.dead_letters()
    assert dead["type"] == "ticket.received"
    assert "answered 400" in dead["error"]
    assert len(http_receiver.requests) == 3


def test_only_chosen_event_types_are_forwarded(http_receiver: Receiver) -> None:
    desk, _, _ = forwarder_desk(http_receiver, types=["ticket.status_changed"])
    desk.receive("email", "ann@example.com", "Hello")
    assert [b["type"] for b in http_receiver.bodies()] == ["ticket.status_changed"]


def test_a_restarted_forwarder_resumes_from_its_stored_cursor(http_receiver: Receiver) -> None:
    desk, _, _ = forwarder_desk(http_receiver)
    desk.receive("email", "ann@example.com", "Hello")
    sent = len(http_receiver.requests)
    again = EventForwarder(http_receiver.url, SECRET, inline=False)
    SupportDesk(desk.storage, extensions=[again])  # a new process over the same storage
    assert again.pump() == 0
    assert len(http_receiver.requests) == sent
