"""Relay throughput: the outbox relayed to RabbitMQ and to Redis, beside a bare client.

A SQLite desk (a file, WAL) holds N stored events (tickets received in one
batch: three events each). The relay side runs ``relay_once(storage, relay,
batch=B)`` until the outbox is empty: claim a batch under a lease (one
transaction), publish it, mark it relayed (another transaction). The floor
is the broker's own client publishing the very same messages (the same
bodies, properties and batch size) with the same delivery guarantee and no
database. RabbitMQ, publisher confirms on both sides: pika publishing a whole
batch, then waiting for the broker's acks (what the relay does), and, for
scale, pika's blocking channel in confirm mode (each ``basic_publish`` waits
for its ack). Redis: one pipelined ``XADD`` per message, a pipeline per batch. Both sides run in this process, one after the other, on a
fresh exchange or stream each; the figure is the median of R rounds.

Run: ``.venv/bin/python benchmarks/bench_relay.py [--events 6000] [--batch 500] [--rounds 3]``
(RabbitMQ on 127.0.0.1:5672 as guest, Redis on 127.0.0.1:6379).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pika
import redis

from supportkit import SupportDesk
from supportkit.relay import RelayedEvent, encode, open_relay, relay_once
from supportkit.storage.sqlite import SQLiteStorage

AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"
REDIS = "redis://127.0.0.1:6379/0"


def fill(path: Path, events: int) -> list[RelayedEvent]:
    storage = SQLiteStorage(path, background_checkpoint=None)
    desk = SupportDesk(storage)
    with desk.batch():
        for i in range((events + 2) // 3):
            desk.receive("email", f"c{i}@example.com", f"Question number {i} about my invoice")
    with storage.unit_of_work() as uow:
        stored = uow.events_since(0, events + 3)
    storage.close()
    return [RelayedEvent("default", se.seq, se.event) for se in stored]


def relay_side(url: str, path: Path, batch: int) -> tuple[int, float]:
    storage = SQLiteStorage(path, background_checkpoint=None)
    relay = open_relay(url)
    t0 = time.perf_counter()
    total = 0
    while n := relay_once(storage, relay, batch=batch):
        total += n
    elapsed = time.perf_counter() - t0
    relay.close()
    storage.close()
    return total, elapsed


def _props(m: RelayedEvent) -> pika.BasicProperties:
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=m.key,
        type=m.type,
        headers={"desk": m.desk, "seq": m.seq},
    )


def bare_rabbitmq(exchange: str, messages: list[RelayedEvent], batch: int) -> float:
    """pika, confirm mode, a batch in flight: publish it, then wait for every ack."""
    conn = pika.BlockingConnection(pika.URLParameters(AMQP))
    ch = conn.channel()
    ch.exchange_declare(exchange, exchange_type="topic", durable=True)
    pending: set[int] = set()
    selected: list[bool] = []

    def on_confirm(frame: Any) -> None:
        tag, multiple = frame.method.delivery_tag, frame.method.multiple
        pending.difference_update([t for t in pending if t <= tag] if multiple else [tag])

    ch._impl.confirm_delivery(ack_nack_callback=on_confirm, callback=selected.append)
    while not selected:
        conn.process_data_events(time_limit=0.001)
    tag = 0
    t0 = time.perf_counter()
    for i in range(0, len(messages), batch):
        for m in messages[i : i + batch]:
            ch._impl.basic_publish(exchange, f"{m.desk}.{m.type}", encode(m), _props(m))
            tag += 1
            pending.add(tag)
        while pending:
            conn.process_data_events(time_limit=0.001)
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def bare_rabbitmq_blocking(exchange: str, messages: list[RelayedEvent], batch: int) -> float:
    """pika's blocking channel in confirm mode: every publish waits for its own ack."""
    conn = pika.BlockingConnection(pika.URLParameters(AMQP))
    ch = conn.channel()
    ch.exchange_declare(exchange, exchange_type="topic", durable=True)
    ch.confirm_delivery()
    t0 = time.perf_counter()
    for m in messages:
        ch.basic_publish(exchange, f"{m.desk}.{m.type}", encode(m), _props(m))
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def bare_redis(stream: str, messages: list[RelayedEvent], batch: int) -> float:
    client = redis.Redis.from_url(REDIS)
    t0 = time.perf_counter()
    for i in range(0, len(messages), batch):
        pipe = client.pipeline(transaction=False)
        for m in messages[i : i + batch]:
            pipe.xadd(
                stream,
                {"desk": m.desk, "seq": m.seq, "type": m.type, "body": encode(m)},
                maxlen=100_000,
                approximate=True,
            )
        pipe.execute(raise_on_error=True)
    elapsed = time.perf_counter() - t0
    client.close()
    return elapsed


def cleanup(kind: str, name: str) -> None:
    if kind == "rabbitmq":
        conn = pika.BlockingConnection(pika.URLParameters(AMQP))
        conn.channel().exchange_delete(name)
        conn.close()
    else:
        client = redis.Redis.from_url(REDIS)
        client.delete(name)
        client.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"relay throughput, {args.events} events, batch {args.batch}, median of {args.rounds}")
    print(f"cores: {os.cpu_count()}, pika {pika.__version__}, redis-py {redis.__version__}")
    print()
    print(f"{'broker':<10} {'side':<38} {'events/s':>10} {'vs floor':>9}")
    sides: dict[str, list[tuple[str, Callable[[str, list[RelayedEvent], int], float]]]] = {
        "rabbitmq": [
            ("bare pika, confirms, batch in flight", bare_rabbitmq),
            ("bare pika, confirm per message", bare_rabbitmq_blocking),
        ],
        "redis": [("bare redis-py, pipelined XADD", bare_redis)],
    }
    for kind, floors in sides.items():
        rates: dict[str, list[float]] = {"relay": [], **{name: [] for name, _ in floors}}
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "desk.sqlite3"
                messages = fill(path, args.events)
                name = f"sk-bench-{uuid.uuid4().hex[:8]}"
                url = f"{AMQP}?exchange={name}" if kind == "rabbitmq" else f"{REDIS}?stream={name}"
                try:
                    total, elapsed = relay_side(url, path, args.batch)
                    assert total == len(messages), (total, len(messages))
                    rates["relay"].append(total / elapsed)
                    for i, (side, bare) in enumerate(floors):
                        target = f"{name}-bare{i}"
                        try:
                            rates[side].append(len(messages) / bare(target, messages, args.batch))
                        finally:
                            cleanup(kind, target)
                finally:
                    cleanup(kind, name)
        floor = statistics.median(rates[floors[0][0]])
        for side, values in rates.items():
            label = "supportkit relay_once (SQLite)" if side == "relay" else side
            rate = statistics.median(values)
            print(
                f"{kind if side == 'relay' else '':<10} {label:<38} {rate:>10,.0f} {rate / floor:>8.0%}"
            )


if __name__ == "__main__":
    main()
