"""Two relays in two processes on one database, publishing to a real RabbitMQ and Redis.

Every stored event reaches the broker; none twice while the relays live; when
one relay is killed (SIGKILL) after publishing a batch and before marking it,
the other publishes that batch again once the lease ends: the duplicates are
exactly that batch, recognisable by their sequence numbers, and nothing is lost.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
from collections import Counter
from typing import Any

import pytest

from supportkit import SupportDesk

from ..scale._procs import open_url
from ..scale.conftest import url
from ._procs import relay_all, unrelayed
from .brokers import Broker

__all__ = ["url"]  # the database fixture: a SQLite file, and a fresh PostgreSQL schema

TICKETS = 300  # three events each
LEASE = 3.0  # seconds: the dead relay's batch waits this long for the survivor


def fill_outbox(db: str) -> list[str]:
    """Store TICKETS tickets' events; their keys, in outbox order."""
    storage = open_url(db)
    try:
        desk = SupportDesk(storage)
        with desk.batch():
            for i in range(TICKETS):
                desk.receive("email", f"c{i}@example.com", f"Question {i}")
        with storage.unit_of_work() as uow:
            return [f"default:{se.seq}" for se in uow.events_since(0, 100_000)]
    finally:
        storage.close()


def start(target: Any, *args: Any) -> multiprocessing.process.BaseProcess:
    proc = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    proc.start()
    return proc


def test_two_relays_deliver_every_event_once(broker: Broker, url: str) -> None:
    db = url
    keys = fill_outbox(db)
    ctx = multiprocessing.get_context("spawn")
    ready, go, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [start(relay_all, db, broker.url, 25, 30.0, ready, go, results) for _ in range(2)]
    for _ in procs:
        ready.get(timeout=60)  # both connected: start together
    go.set()
    counts = dict(results.get(timeout=90) for _ in procs)
    for p in procs:
        p.join(10)
    delivered = [m.key for m in broker.delivered()]
    assert Counter(delivered) == Counter(keys)  # every event, each exactly once
    assert sum(counts.values()) == len(keys)
    assert all(n > 0 for n in counts.values()), f"one relay did all the work: {counts}"
    assert unrelayed(db) == 0


def test_a_relay_killed_between_publish_and_mark_costs_duplicates_of_its_batch_only(
    broker: Broker, url: str
) -> None:
    db = url
    keys = fill_outbox(db)
    ctx = multiprocessing.get_context("spawn")
    ready, go, results, stalled = ctx.Queue(), ctx.Event(), ctx.Queue(), ctx.Queue()
    # a lease long enough for any live batch even on a loaded machine, short for the test
    victim = start(relay_all, db, broker.url, 25, LEASE, ready, go, stalled, 2)
    survivor = start(relay_all, db, broker.url, 25, LEASE, ready, go, results)
    for _ in (victim, survivor):
        ready.get(timeout=60)
    go.set()
    try:
        killed_batch = stalled.get(timeout=60)  # published, not marked
    except queue.Empty:
        pytest.fail("the relay to be killed never published its second batch")
    os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
    victim.join(10)
    assert victim.exitcode == -signal.SIGKILL
    _pid, survivor_published = results.get(timeout=90)
    survivor.join(10)
    delivered = Counter(m.key for m in broker.delivered())
    assert set(delivered) == set(keys)  # nothing lost
    duplicates = {k for k, n in delivered.items() if n > 1}
    assert duplicates == set(killed_batch), (  # the dead relay's batch, published again
        sorted(duplicates - set(killed_batch)),
        sorted(set(killed_batch) - duplicates),
    )
    assert all(delivered[k] == 2 for k in duplicates)
    assert sum(delivered.values()) == len(keys) + len(killed_batch)
    assert survivor_published >= len(killed_batch)
    assert unrelayed(db) == 0
