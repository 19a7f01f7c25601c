"""Outbound delivery: recorded, retried with backoff through desk timers, never dropped silently."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportkit import DeliveryFailed, FakeClock, SupportDesk
from supportkit.channels import (
    ChannelRegistry,
    DeliveryReceipt,
    MemoryChannel,
    MessageDelivered,
    OutboundDispatcher,
    OutboundMessage,
    RetryPolicy,
)

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def make(
    *channels: MemoryChannel, inline: bool = True, attempts: int = 4
) -> tuple[SupportDesk, OutboundDispatcher, FakeClock]:
    clock = FakeClock(START)
    dispatcher = OutboundDispatcher(
        ChannelRegistry(channels),
        retry=RetryPolicy(max_attempts=attempts, base=timedelta(minutes=1)),
        inline=inline,
    )
    return SupportDesk(clock=clock, extensions=[dispatcher]), dispatcher, clock


def test_reply_is_delivered_to_the_customer_address_and_recorded() -> None:
    email = MemoryChannel("email")
    desk, dispatcher, _ = make(email)
    t = desk.receive("email", "Ann@Example.com", "Hello", subject="Invoice", external_id="<m1@x>")
    reply = desk.reply(t.id, "agent-1", "Hi Ann")
    [sent] = email.sent
    assert (sent.recipient, sent.text, sent.subject, sent.kind) == (
        "ann@example.com",
        "Hi Ann",
        "Invoice",
        "reply",
    )
    assert sent.in_reply_to == "<m1@x>"
    record = dispatcher.status(reply.id)
    assert record is not None
    assert record["status"] == "delivered"
    assert record["attempts"] == 1
    delivered = [e for e in desk.events(t.id) if isinstance(e, MessageDelivered)]
    assert [(e.message_id, e.attempts) for e in delivered] == [(reply.id, 1)]


def test_the_channel_id_of_a_delivered_message_finds_its_ticket() -> None:
    email = MemoryChannel(
        "email",
        handler=lambda out: DeliveryReceipt(
            out.delivery_id, "email", START, external_id="<out-1@desk>"
        ),
    )
    desk, dispatcher, _ = make(email)
    t = desk.receive("email", "ann@example.com", "Hello")
    desk.reply(t.id, "agent-1", "Hi")
    assert dispatcher.ticket_for_external_id("<out-1@desk>") == t.id


def test_a_delivered_reply_carries_the_channel_id_and_later_replies_reference_it() -> None:
    ids = iter(["<out-1@desk>", "<out-2@desk>"])
    email = MemoryChannel(
        "email",
        handler=lambda out: DeliveryReceipt(out.delivery_id, "email", START, external_id=next(ids)),
    )
    desk, _, _ = make(email)
    t = desk.receive("email", "ann@example.com", "Hello", external_id="<in-1@ann>")
    first = desk.reply(t.id, "agent-1", "Hi")
    assert first.external_id is None  # known only once the channel accepted it
    desk.reply(t.id, "agent-1", "And one more thing")
    stored = {m.id: m.external_id for m in desk.messages(t.id)}
    assert stored[first.id] == "<out-1@desk>"
    with desk.storage.unit_of_work() as uow:
        found = uow.find_message_by_external_id("<out-1@desk>")
    assert found is not None
    assert found.id == first.id
    assert email.sent[1].references == ("<in-1@ann>", "<out-1@desk>")


def test_a_channel_id_the_message_cannot_take_is_indexed_and_the_delivery_recorded() -> None:
    email = MemoryChannel(
        "email",
        handler=lambda out: DeliveryReceipt(
            out.delivery_id, "email", START, external_id="<same@x>"
        ),
    )
    desk, dispatcher, _ = make(email)
    t = desk.receive("email", "ann@example.com", "Hello")
    first = desk.reply(t.id, "agent-1", "Hi")
    second = desk.reply(t.id, "agent-1", "Again")  # a buggy channel hands out one id twice
    status = dispatcher.status(second.id)
    assert status is not None
    assert status["status"] == "delivered"
    stored = {m.id: m.external_id for m in desk.messages(t.id)}
    assert (stored[first.id], stored[second.id]) == ("<same@x>", None)
    assert dispatcher.ticket_for_external_id("<same@x>") == t.id


def test_transient_failure_is_retried_with_exponential_backoff_on_tick() -> None:
    email = MemoryChannel("email")
    desk, dispatcher, clock = make(email)
    t = desk.receive("email", "ann@example.com", "Hello")
    email.fail_next(2)
    reply = desk.reply(t.id, "agent-1", "Hi")
    assert email.sent == []
    clock.advance(seconds=59)
    assert desk.tick() == 0  # the first retry is due after 1 minute
    clock.advance(seconds=1)
    assert desk.tick() == 1  # fails again: the next one waits 2 minutes
    clock.advance(minutes=1, seconds=59)
    assert desk.tick() == 0
    clock.advance(seconds=1)
    assert desk.tick() == 1
    assert email.texts() == ["Hi"]
    record = dispatcher.status(reply.id)
    assert record is not None
    assert (record["status"], record["attempts"], len(record["errors"])) == ("delivered", 3, 2)
    failed = [e for e in desk.events(t.id) if isinstance(e, DeliveryFailed)]
    assert [e.permanent for e in failed] == [False, False]
    clock.advance(hours=5)
    assert desk.tick() == 0  # nothing left scheduled


def test_permanent_failure_is_stored_on_the_ticket_and_raised_as_an_event() -> None:
    email = MemoryChannel("email")
    desk, _, _ = make(email)
    seen: list[Any] = []
    desk.signals.for_type(DeliveryFailed).connect(lambda s, event: seen.append(event), weak=False)
    t = desk.receive("email", "ann@example.com", "Hello")
    email.fail_next(1, permanent=True, error="550 no such user")
    reply = desk.reply(t.id, "agent-1", "Hi")
    [failure] = desk.get_ticket(t.id).custom_fields["delivery_failures"]
    assert failure["delivery_id"] == reply.id
    assert "550 no such user" in failure["error"]
    assert failure["recipient"] == "ann@example.com"
    assert [(e.message_id, e.permanent) for e in seen] == [(reply.id, True)]
    assert len(email.attempts) == 1


def test_retries_exhausted_become_a_permanent_failure() -> None:
    email = MemoryChannel("email")
    desk, dispatcher, clock = make(email, attempts=3)
    t = desk.receive("email", "ann@example.com", "Hello")
    email.fail_next(10)
    reply = desk.reply(t.id, "agent-1", "Hi")
    for _ in range(5):
        clock.advance(hours=1)
        desk.tick()
    assert len(email.attempts) == 3
    record = dispatcher.status(reply.id)
    assert record is not None
    assert record["status"] == "failed"
    assert desk.get_ticket(t.id).custom_fields["delivery_failures"][0]["attempts"] == 3


def test_a_reply_on_a_channel_nobody_delivers_is_a_recorded_failure() -> None:
    desk, _, _ = make(MemoryChannel("email"))
    t = desk.receive("sms", "+10000000", "Hello")
    desk.reply(t.id, "agent-1", "Hi")
    [failure] = desk.get_ticket(t.id).custom_fields["delivery_failures"]
    assert "no channel delivers for 'sms'" in failure["error"]


def test_a_crashing_channel_delays_the_reply_but_never_loses_it() -> None:
    calls: list[OutboundMessage] = []

    def flaky(out: OutboundMessage) -> DeliveryReceipt | None:
        calls.append(out)
        if len(calls) == 1:
            raise RuntimeError("bug in plugin")
        return None

    email = MemoryChannel("email", handler=flaky)
    desk, dispatcher, clock = make(email)
    t = desk.receive("email", "ann@example.com", "Hello")
    reply = desk.reply(t.id, "agent-1", "Hi")
    clock.advance(minutes=1)
    desk.tick()
    record = dispatcher.status(reply.id)
    assert record is not None
    assert record["status"] == "delivered"
    assert "RuntimeError: bug in plugin" in record["errors"][0]["error"]


def test_without_inline_delivery_the_queued_timer_delivers_on_tick() -> None:
    email = MemoryChannel("email")
    desk, dispatcher, _ = make(email, inline=False)
    t = desk.receive("email", "ann@example.com", "Hello")
    reply = desk.reply(t.id, "agent-1", "Hi")
    assert email.sent == []
    with desk.storage.unit_of_work() as uow:
        assert [tm.kind for tm in uow.timers_for(t.id)] == ["supportkit.delivery"]
    assert desk.tick() == 1
    assert email.texts() == ["Hi"]
    assert dispatcher.status(reply.id)["status"] == "delivered"  # type: ignore[index]


def test_delivery_is_queued_in_the_same_transaction_as_the_reply() -> None:
    email = MemoryChannel("email")
    desk, dispatcher, _ = make(email)
    t = desk.receive("email", "ann@example.com", "Hello")
    email.fail_next(1)
    reply = desk.reply(t.id, "agent-1", "Hi")
    with desk.storage.unit_of_work() as uow:
        timers = uow.timers_for(t.id)
    assert [tm.due_at - START for tm in timers] == [timedelta(minutes=1)]
    assert dispatcher.status(reply.id)["status"] == "pending"  # type: ignore[index]


def test_logged_phone_calls_and_notes_are_not_sent() -> None:
    email = MemoryChannel("email")
    desk, _, _ = make(email)
    t = desk.receive("email", "ann@example.com", "Hello")
    desk.add_note(t.id, "agent-1", "internal")
    desk.log_call(t.id, "agent-1", direction="outbound", duration_seconds=30, notes="called")
    assert email.sent == []


def test_redeliver_retries_a_failed_delivery() -> None:
    email = MemoryChannel("email")
    desk, dispatcher, _ = make(email)
    t = desk.receive("email", "ann@example.com", "Hello")
    email.fail_next(1, permanent=True)
    reply = desk.reply(t.id, "agent-1", "Hi")
    assert dispatcher.redeliver(reply.id) == "delivered"
    assert email.texts() == ["Hi"]


def test_one_dispatcher_serves_one_desk() -> None:
    from supportkit import ConfigurationError

    desk, dispatcher, _ = make(MemoryChannel("email"))
    with pytest.raises(ConfigurationError, match="one desk"):
        dispatcher.install(desk)


def test_a_pending_delivery_survives_a_restart_on_sqlite(tmp_path: Path) -> None:
    from supportkit.storage.sqlite import SQLiteStorage

    clock = FakeClock(START)
    down = MemoryChannel("email")
    down.fail_next(1)
    first = OutboundDispatcher(ChannelRegistry([down]))
    desk = SupportDesk(SQLiteStorage(tmp_path / "desk.db"), clock=clock, extensions=[first])
    t = desk.receive("email", "ann@example.com", "Hello")
    reply = desk.reply(t.id, "agent-1", "Hi")
    desk.storage.close()

    up = MemoryChannel("email")
    second = OutboundDispatcher(ChannelRegistry([up]))
    restarted = SupportDesk(SQLiteStorage(tmp_path / "desk.db"), clock=clock, extensions=[second])
    clock.advance(minutes=1)
    assert restarted.tick() == 1
    assert up.texts() == ["Hi"]
    assert second.status(reply.id)["status"] == "delivered"  # type: ignore[index]
    restarted.storage.close()


def test_errors_marked_not_retryable_are_permanent_and_sent_messages_are_skipped() -> None:
    class Refused(Exception):
        retryable = False

    def refuse(out: OutboundMessage) -> DeliveryReceipt | None:
        raise Refused("550 mailbox unavailable")

    email = MemoryChannel("email", handler=refuse)
    desk, dispatcher, _ = make(email)
    t = desk.receive("email", "ann@example.com", "Hello")
    reply = desk.reply(t.id, "agent-1", "Hi")
    assert dispatcher.status(reply.id)["status"] == "failed"  # type: ignore[index]
    already = desk.reply(t.id, "agent-1", "sent by SMTP already", meta={"deliver": False})
    assert dispatcher.status(already.id) is None


def test_the_channel_is_called_outside_any_storage_transaction() -> None:
    free: list[bool] = []
    desk_box: list[SupportDesk] = []

    def probe(out: OutboundMessage) -> DeliveryReceipt | None:
        def other_writer() -> None:
            with desk_box[0].storage.unit_of_work():
                pass

        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join(timeout=2)
        free.append(not thread.is_alive())
        return None

    desk, _, _ = make(MemoryChannel("email", handler=probe))
    desk_box.append(desk)
    t = desk.receive("email", "ann@example.com", "Hello")
    desk.reply(t.id, "agent-1", "Hi")
    assert free == [True]
