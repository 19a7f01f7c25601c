"""The broker adapters on the real RabbitMQ and Redis: what is published arrives, whole."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from supportkit import SupportDesk
from supportkit.relay import RelayError, RelaySubscriber, open_relay, relay_once
from supportkit.storage.sqlite import SQLiteStorage

from .brokers import AMQP_URL, REDIS_URL, Broker, require


@pytest.fixture
def storage(tmp_path: Path) -> Any:
    s = SQLiteStorage(tmp_path / "desk.sqlite3", background_checkpoint=None)
    yield s
    s.close()


def test_every_event_reaches_the_broker_with_its_key_in_outbox_order(
    broker: Broker, storage: Any
) -> None:
    desk = SupportDesk(storage)
    with desk.batch():
        for i in range(40):
            t = desk.receive("chat", f"visitor-{i}", f"Вопрос {i}")
            desk.reply(t.id, "agent-1", f"Ответ {i}")
    relay = open_relay(broker.url)
    try:
        total = 0
        while n := relay_once(desk, relay, batch=64):
            total += n
    finally:
        relay.close()
    with storage.unit_of_work() as uow:
        stored = uow.events_since(0, 10_000)
    assert total == len(stored)
    got = broker.delivered()
    assert [m.key for m in got] == [f"default:{se.seq}" for se in stored]
    assert [m.event for m in got] == [se.event for se in stored]  # nothing lost on the way


def test_a_broker_that_does_not_answer_raises_relay_error_and_nothing_is_marked(
    storage: Any,
) -> None:
    desk = SupportDesk(storage)
    desk.receive("email", "ann@example.com", "Hello")
    for url in (
        "amqp://guest:guest@127.0.0.1:1/?exchange=x&connection_attempts=1",
        "redis://127.0.0.1:1/0?stream=x",
    ):
        with pytest.raises(RelayError):
            relay_once(desk, open_relay(url), lease=0.01)
        time.sleep(0.02)  # the failed claim's lease runs out
    with storage.unit_of_work() as uow:
        assert len(uow.claim_events("check", desk.clock.now(), desk.clock.now(), 100)) == 3


def test_a_subscriber_signals_what_another_desk_on_the_database_relayed(
    broker: Broker, storage: Any, tmp_path: Path
) -> None:
    here = SupportDesk(storage)
    other = SQLiteStorage(tmp_path / "desk.sqlite3", background_checkpoint=None)
    there = SupportDesk(other)
    seen: list[str] = []
    here.signals.event.connect(
        lambda sender, event, **_: seen.append(event.type_name), sender=here, weak=False
    )
    relay = open_relay(broker.url)
    try:
        with RelaySubscriber(here, broker.url, poll=0.1) as sub:
            ticket = there.receive("chat", "visitor-9", "Hello")
            there.reply(ticket.id, "agent-1", "Hi there")
            here.add_note(ticket.id, "agent-2", "made here: signalled at commit only")
            assert relay_once(there, relay) == 6
            assert sub.wait_for(5, timeout=10)
            assert relay_once(there, relay) == 0
            sub.wait_for(6, timeout=0.5)  # would be a sixth, signalled twice: must not come
    finally:
        relay.close()
        other.close()
    assert sorted(seen) == sorted(
        ["ticket.received", "ticket.status_changed"]
        + ["ticket.message_added"] * 3  # customer, reply, the note made here
        + ["ticket.status_changed"]  # the first reply starts diagnosis
    )
    assert sub.signalled == 5
    assert sub.dropped == 1


def test_the_rabbitmq_relay_recovers_when_the_broker_closes_its_channel(storage: Any) -> None:
    require("rabbitmq")
    import pika

    broker = Broker("rabbitmq")
    desk = SupportDesk(storage)
    relay = open_relay(broker.url)
    try:
        desk.receive("email", "ann@example.com", "First")
        assert relay_once(desk, relay) == 3
        conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))  # another client
        conn.channel().exchange_delete(broker.name)  # the next publish is refused: 404
        conn.close()
        desk.receive("email", "bob@example.com", "Second")
        assert relay_once(desk, relay) == 3  # refused, connected again, declared, published
        broker.rebind()  # the reader's binding went with the deleted exchange
        desk.receive("email", "cy@example.com", "Third")
        assert relay_once(desk, relay) == 3
        got = broker.delivered()
    finally:
        relay.close()
        broker.close()
    assert [m.seq for m in got] == [1, 2, 3, 7, 8, 9]  # 4-6 went to no queue at all


def test_an_idle_rabbitmq_relay_connects_again_after_the_broker_dropped_it(storage: Any) -> None:
    require("rabbitmq")
    broker = Broker("rabbitmq")
    desk = SupportDesk(storage)
    relay = open_relay(broker.url + "&heartbeat=1")  # the broker drops it after ~2 s idle
    try:
        desk.receive("email", "ann@example.com", "Before the pause")
        assert relay_once(desk, relay) == 3
        time.sleep(4)  # idle: no heartbeat answered, the broker closes the connection
        desk.receive("email", "bob@example.com", "After the pause")
        assert relay_once(desk, relay) == 3  # found dead, connected again, published
        got = broker.delivered()
    finally:
        relay.close()
        broker.close()
    assert [m.seq for m in got] == [1, 2, 3, 4, 5, 6]


def test_a_subscriber_whose_redis_connection_is_killed_subscribes_again(
    storage: Any, tmp_path: Path
) -> None:
    require("redis")
    import redis

    from supportkit.relay._redis import SUBSCRIBER_NAME

    broker = Broker("redis")
    admin = redis.Redis.from_url(REDIS_URL)
    here = SupportDesk(storage)
    other = SQLiteStorage(tmp_path / "desk.sqlite3", background_checkpoint=None)
    there = SupportDesk(other)
    relay = open_relay(broker.url)
    try:
        with RelaySubscriber(here, broker.url, poll=0.1) as sub:
            ours = [c for c in admin.client_list() if c.get("name") == SUBSCRIBER_NAME]
            assert ours
            for c in ours:
                admin.client_kill_filter(_id=c["id"])
            time.sleep(0.3)
            there.receive("chat", "visitor-1", "Still there?")
            assert relay_once(there, relay) == 3
            assert sub.wait_for(3, timeout=10)
    finally:
        relay.close()
        other.close()
        admin.close()
        broker.close()
