"""What the relay processes run (spawned: each opens its own storage and broker connection)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from supportkit.relay import EventRelay, RelayedEvent, open_relay, relay_once

from ..scale._procs import open_url


def unrelayed(url: str) -> int:
    """How many stored events are not marked relayed, read without a write transaction."""
    sql = "SELECT COUNT(*) FROM sk_events WHERE relayed = 0"
    if url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(url) as conn:
            row = conn.execute(sql).fetchone()
            return int(row[0]) if row else 0
    import sqlite3

    conn = sqlite3.connect(url, timeout=10)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


class StallAfter:
    """Publishes through *relay*; after its *n*-th batch reports the batch's keys and stalls
    before returning, so relay_once never marks it: the parent SIGKILLs the process there."""

    def __init__(self, relay: EventRelay, n: int, report: Any) -> None:
        self.relay, self.n, self.report, self.batches = relay, n, report, 0

    def publish(self, batch: Sequence[RelayedEvent]) -> None:
        self.relay.publish(batch)
        self.batches += 1
        if self.batches == self.n:
            self.report.put([m.key for m in batch])
            time.sleep(120)  # killed here: published, never marked

    def close(self) -> None:
        self.relay.close()


def relay_all(
    db: str,
    broker_url: str,
    batch: int,
    lease: float,
    ready: Any,
    go: Any,
    results: Any,
    stall_after: int = 0,
    deadline: float = 60.0,
) -> None:
    """Relay until nothing is left unrelayed (a claim of a dead relay included, once its lease
    ends), pausing a little after each batch so that concurrent relays interleave; puts
    (pid, events published) on *results*."""
    import os

    storage = open_url(db)
    relay: EventRelay = open_relay(broker_url)
    if stall_after:
        relay = StallAfter(relay, stall_after, results)
    ready.put(os.getpid())
    go.wait(deadline)
    published = 0
    stop = time.monotonic() + deadline
    try:
        while time.monotonic() < stop:
            n = relay_once(storage, relay, batch=batch, lease=lease)
            published += n
            if n:
                time.sleep(0.01)  # the other relay's turn, even on a loaded machine
            else:
                if unrelayed(db) == 0:
                    break
                time.sleep(0.05)  # what is left is claimed by another relay
    finally:
        relay.close()
        storage.close()
    results.put((os.getpid(), published))
