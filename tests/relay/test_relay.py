"""relay_once and the subscriber, on the in-process broker (the wire encoding included)."""

from __future__ import annotations

import doctest
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from supportkit import ConfigurationError, SupportDesk, ValidationError
from supportkit.channels import ChannelRegistry, MemoryChannel, OutboundDispatcher
from supportkit.domain import MessageAdded
from supportkit.ports import DeliveryReceipt, FakeClock, OutboundMessage
from supportkit.relay import (
    MemoryRelay,
    RelayedEvent,
    RelayError,
    RelaySubscriber,
    _memory,
    _subscriber,
    decode,
    encode,
    follow_replies,
    open_relay,
    relay_once,
)
from supportkit.storage.memory import MemoryStorage
from supportkit.storage.sqlite import SQLiteStorage


def all_seqs(desk: SupportDesk) -> list[int]:
    with desk.storage.unit_of_work() as uow:
        return sorted({se.seq for se in uow.events_since(0, 100_000)})


class FailingRelay:
    """A broker that refuses every batch."""

    def __init__(self) -> None:
        self.tried = 0

    def publish(self, batch: Sequence[RelayedEvent]) -> None:
        self.tried += 1
        raise RelayError("the broker is down")

    def close(self) -> None:
        pass


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "memory":
        yield MemoryStorage()
        return
    s = SQLiteStorage(tmp_path / "desk.sqlite3", background_checkpoint=None)
    yield s
    s.close()


def test_relay_once_publishes_each_event_once_with_its_desk_and_sequence_number(
    storage: Any,
) -> None:
    desk = SupportDesk(storage)
    for i in range(4):
        desk.receive("email", f"c{i}@example.com", f"Question {i}")
    broker = MemoryRelay()
    assert relay_once(desk, broker, batch=5) == 5
    assert relay_once(desk, broker, batch=5) == 5
    assert relay_once(desk, broker, batch=5) == 2
    assert relay_once(desk, broker, batch=5) == 0
    keys = [m.key for m in broker.published]
    assert keys == [f"default:{s}" for s in all_seqs(desk)]
    assert len(set(keys)) == 12
    assert {m.type for m in broker.published} == {
        "ticket.received",
        "ticket.message_added",
        "ticket.status_changed",
    }


def test_relay_once_takes_a_bare_storage_too(storage: Any) -> None:
    SupportDesk(storage).receive("email", "ann@example.com", "Hello")
    broker = MemoryRelay()
    assert relay_once(storage, broker) == 3
    assert relay_once(storage, broker) == 0


def test_a_batch_the_broker_refused_is_not_marked_and_goes_again_once_the_lease_ends(
    storage: Any,
) -> None:
    clock = FakeClock()
    desk = SupportDesk(storage, clock=clock)
    desk.receive("email", "ann@example.com", "Hello")
    failing = FailingRelay()
    with pytest.raises(RelayError, match="broker is down"):
        relay_once(desk, failing, lease=30)
    broker = MemoryRelay()
    assert relay_once(desk, broker, lease=30) == 0  # still claimed by the failed relay
    clock.advance(seconds=31)
    assert relay_once(desk, broker, lease=30) == 3
    assert [m.seq for m in broker.published] == all_seqs(desk)


def test_relays_of_many_desks_in_one_database_carry_each_desk_key(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "d.sqlite3", background_checkpoint=None)
    try:
        acme, globex = (
            SupportDesk(storage.for_desk("acme")),
            SupportDesk(storage.for_desk("globex")),
        )
        acme.receive("email", "a@example.com", "Hi")
        globex.receive("email", "g@example.com", "Hi")
        broker = MemoryRelay()
        assert relay_once(acme, broker) == 3
        assert {m.desk for m in broker.published} == {"acme"}
        assert relay_once(globex, broker) == 3
        assert [m.desk for m in broker.published[3:]] == ["globex"] * 3
    finally:
        storage.close()


def test_bad_arguments_say_what_to_give() -> None:
    with pytest.raises(ConfigurationError, match="batch"):
        relay_once(SupportDesk(), MemoryRelay(), batch=0)
    with pytest.raises(ConfigurationError, match="lease"):
        relay_once(SupportDesk(), MemoryRelay(), lease=0)
    with pytest.raises(ConfigurationError, match="Storage or a SupportDesk"):
        relay_once(object(), MemoryRelay())
    with pytest.raises(ConfigurationError, match="amqp://"):
        open_relay("kafka://broker:9092")
    with pytest.raises(ConfigurationError, match="broker URL"):
        open_relay("localhost")
    with pytest.raises(ConfigurationError, match="maxlen"):
        open_relay("redis://127.0.0.1:6379/0?stream=s&maxlen=lots")
    with pytest.raises(ConfigurationError, match="twice"):
        open_relay("amqp://127.0.0.1/?exchange=a&exchange=b")
    with pytest.raises(ConfigurationError, match="subscribe"):
        RelaySubscriber(SupportDesk(), object())  # type: ignore[arg-type]


def test_the_wire_form_round_trips_and_refuses_what_is_not_an_event() -> None:
    desk = SupportDesk()
    desk.receive("chat", "visitor-1", "Привет")
    broker = MemoryRelay()
    relay_once(desk, broker)
    for m in broker.published:
        assert decode(encode(m)) == m
    for bad in (b"not json", b"{}", b'{"desk": 1, "seq": "x", "event": {}}', b"[1]"):
        with pytest.raises(ValidationError, match="not a relayed supportkit event"):
            decode(bad)
    with pytest.raises(ValidationError, match="unknown event type"):
        decode(b'{"desk": "d", "seq": 1, "event": {"type": "no.such"}}')


def test_a_url_password_never_reaches_an_error_message() -> None:
    with pytest.raises(RelayError) as info:
        open_relay("amqp://guest:s3cret@127.0.0.1:1/?exchange=x").publish(
            [RelayedEvent("d", 1, MessageAdded("t", FakeClock().now(), "m", "note", "a", "x"))]
        )
    assert "s3cret" not in str(info.value)
    assert "guest:***@127.0.0.1:1" in str(info.value)


# -- the subscriber -----------------------------------------------------------------------
def recorder(desk: SupportDesk) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def on_event(sender: Any, *, event: Any, **_: Any) -> None:
        seen.append((event.type_name, event.ticket_id))

    desk.signals.event.connect(on_event, sender=desk, weak=False)
    return seen


def test_the_subscriber_signals_other_desks_events_once_and_its_own_never_again() -> None:
    storage, broker = MemoryStorage(), MemoryRelay()
    here, there = SupportDesk(storage), SupportDesk(storage)
    seen = recorder(here)
    remote: list[int] = []
    with RelaySubscriber(here, broker) as sub:
        sub.remote.connect(lambda desk, event, seq: remote.append(seq), weak=False)
        mine = here.receive("email", "ann@example.com", "Mine")
        theirs = there.receive("email", "bob@example.com", "Theirs")
        assert relay_once(there, broker) == 6
        assert sub.wait_for(3)
        assert relay_once(there, broker) == 0
    assert sorted(seen) == sorted(
        (t, ticket.id)
        for ticket in (mine, theirs)
        for t in ("ticket.received", "ticket.message_added", "ticket.status_changed")
    )
    assert len(remote) == 3
    assert sub.signalled == 3
    assert sub.dropped == 3  # the broker's copies of this desk's own events


def test_a_duplicate_from_the_broker_is_dropped_by_its_sequence_number() -> None:
    storage, broker = MemoryStorage(), MemoryRelay()
    here, there = SupportDesk(storage), SupportDesk(storage)
    seen = recorder(here)
    there.receive("email", "bob@example.com", "Theirs")
    with RelaySubscriber(here, broker) as sub:
        with storage.unit_of_work() as uow:
            events = uow.events_since(0, 100)
        again = [RelayedEvent("default", se.seq, se.event) for se in events]
        broker.publish(again)
        broker.publish(again)  # a relay crashed after publishing: the same batch again
        assert sub.wait_for(3)
        other = [RelayedEvent("other-desk", se.seq, se.event) for se in events]
        broker.publish(other)  # another desk's events are not this desk's
        broker.publish(again[:1])
        for _ in range(50):
            if sub.dropped == 4:
                break
            sub.wait_for(99, timeout=0.05)
    assert len(seen) == 3
    assert sub.dropped == 4


def test_a_failing_signal_receiver_neither_stops_the_others_nor_the_subscriber() -> None:
    storage, broker = MemoryStorage(), MemoryRelay()
    here, there = SupportDesk(storage), SupportDesk(storage)

    def broken(sender: Any, **_: Any) -> None:
        raise RuntimeError("host bug")

    here.signals.event.connect(broken, sender=here, weak=False)
    failures: list[Any] = []
    here.signals.subscriber_failed.connect(lambda s, **kw: failures.append(kw["error"]), weak=False)
    seen = recorder(here)
    with RelaySubscriber(here, broker) as sub:
        there.receive("email", "bob@example.com", "One")
        relay_once(there, broker)
        assert sub.wait_for(3)
        there.receive("email", "bob@example.com", "Two")
        relay_once(there, broker)
        assert sub.wait_for(6)
    assert len(seen) == 6
    assert len(failures) == 6


def test_the_relay_modules_examples_run() -> None:
    for module in (_memory, _subscriber):
        result = doctest.testmod(module)
        assert result.attempted > 0
        assert result.failed == 0, module.__name__


# -- replies of other processes to the live connections held here ----------------------------
class LiveRecorder:
    """A live channel holding the connections of *addresses* in this process."""

    name = "chat"

    def __init__(self, *addresses: str) -> None:
        self.addresses = set(addresses)
        self.pushed: list[OutboundMessage] = []

    def connected(self, address: str) -> bool:
        return address in self.addresses

    def deliver(self, outbound: OutboundMessage) -> DeliveryReceipt:
        self.pushed.append(outbound)
        return DeliveryReceipt(outbound.delivery_id, self.name, datetime.now(UTC))


def handled(sub: RelaySubscriber, n: int) -> None:
    """Wait until the subscriber has signalled or dropped *n* events in all."""
    deadline = time.monotonic() + 10
    while sub.signalled + sub.dropped < n:
        assert time.monotonic() < deadline, (sub.signalled, sub.dropped, n)
        time.sleep(0.01)


def dispatching_desk(storage: Any) -> tuple[SupportDesk, OutboundDispatcher]:
    dispatcher = OutboundDispatcher(ChannelRegistry([MemoryChannel("chat")]))
    return SupportDesk(storage, extensions=[dispatcher]), dispatcher


def test_replies_made_elsewhere_reach_the_connections_held_here_once() -> None:
    storage, broker = MemoryStorage(), MemoryRelay()
    here, here_dispatcher = dispatching_desk(storage)
    there, _ = dispatching_desk(storage)
    live = LiveRecorder("visitor-1")
    with RelaySubscriber(here, broker) as sub:
        stop = follow_replies(sub, here_dispatcher, live)
        held = there.receive("chat", "visitor-1", "Is my order shipped?")
        away = there.receive("chat", "visitor-2", "And mine?")
        there.add_note(held.id, "olga", "checking the warehouse")
        there.reply(held.id, "olga", "It left this morning.")
        there.reply(away.id, "olga", "Yours too.")
        here.reply(held.id, "ivan", "Made here: the local dispatcher sends it.")
        n = relay_once(there, broker)
        handled(sub, n)
        assert sub.dropped > 0  # the events of the reply made here were signalled here already
        stop()
        there.reply(held.id, "olga", "After stop(): not followed.")
        handled(sub, n + relay_once(there, broker))
    assert [(o.recipient, o.text, o.author) for o in live.pushed] == [
        ("visitor-1", "It left this morning.", "olga")
    ]
    assert live.pushed[0].ticket_number == held.number


class LateBroker(MemoryRelay):
    """A broker that refuses the first *n* subscriptions (it is still starting)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.refusals = n
        self.subscribed = threading.Event()

    def subscribe(self, desk: str | None = None) -> Any:
        if self.refusals:
            self.refusals -= 1
            raise RelayError("connection refused")
        self.subscribed.set()
        return super().subscribe(desk)


def test_a_subscriber_started_while_its_broker_is_down_subscribes_once_it_answers() -> None:
    storage, broker = MemoryStorage(), LateBroker(2)
    here, there = SupportDesk(storage), SupportDesk(storage)
    seen = recorder(here)
    with RelaySubscriber(here, broker, poll=0.05) as sub:  # start() does not raise
        assert broker.subscribed.wait(10)  # the third try, from the subscriber's thread
        there.receive("email", "bob@example.com", "Hello")
        relay_once(there, broker)
        assert sub.wait_for(3)
    assert len(seen) == 3
