"""Helpers for tests that run the desk from several processes (spawned: nothing shared).

Each worker opens its own storage from a URL, builds its own desk, and
returns what it saw; the parent checks the database afterwards.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

from supportkit import SupportDesk
from supportkit.ports import Storage


def open_url(url: str) -> Storage:
    if url.startswith("postgresql://"):
        from supportkit.storage.postgres import PostgresStorage

        return PostgresStorage(url, pool_size=2)
    from supportkit.storage.sqlite import SQLiteStorage

    return SQLiteStorage(url, background_checkpoint=None)


def run_all(
    target: Callable[..., Any], args: Sequence[tuple[Any, ...]], timeout: float = 60
) -> list[Any]:
    """Run *target(*a)* for each *a* in its own spawned process; their results, in order."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(args)) as pool:
        pending = [pool.apply_async(target, a) for a in args]
        return [p.get(timeout=timeout) for p in pending]


def repeat(url: str, ticket_id: str, who: str, n: int, what: str) -> list[str]:
    """Add *n* notes (*what* = "note") or *n* distinct tags ("tag") to one ticket, each in
    its own call; the errors met (none expected)."""
    storage = open_url(url)
    desk = SupportDesk(storage)
    errors = []
    for i in range(n):
        try:
            if what == "note":
                desk.add_note(ticket_id, who, f"{who} note {i}")
            else:
                desk.add_tags(ticket_id, f"{who}-{i}", actor=who)
        except Exception as exc:
            errors.append(repr(exc))
    storage.close()
    return errors


TIMER_LOG = "timer-log"


def tick_until_done(
    url: str,
    lease_seconds: float,
    deadline_seconds: float,
    name: str,
    pause: float,
    ready: Any,
    go: Any,
) -> None:
    """Tick a desk whose one timer kind appends a history row per firing, until no timer is left."""
    import time
    from datetime import UTC, datetime, timedelta

    from supportkit.domain import HistoryEntry

    storage = open_url(url)
    desk = SupportDesk(storage, timer_lease=timedelta(seconds=lease_seconds))

    def fire(ctx: Any, timer: Any) -> None:
        ctx.uow.add_history(HistoryEntry(TIMER_LOG, ctx.now, name, "fired", "-", "-", timer.key))
        time.sleep(pause)  # some work inside the transaction, so a kill lands mid-timer

    desk.on_timer("test.count", fire)
    ready.wait(deadline_seconds)  # every process has its storage open
    go.wait(deadline_seconds)  # start when told
    stop = time.monotonic() + deadline_seconds
    while time.monotonic() < stop:
        if desk.tick(limit=20):
            continue
        if not desk.retrying(lambda: _any_due(storage, datetime.now(UTC))):
            break
        time.sleep(0.05)
    storage.close()


def _any_due(storage: Storage, now: Any) -> bool:
    with storage.unit_of_work() as uow:
        return bool(uow.due_timers(now, 1))


def fired_by(url: str) -> list[str]:
    """Who fired each logged timer so far, read without a write transaction (no lock taken)."""
    sql = "SELECT actor FROM sk_history WHERE ticket_id = 'timer-log'"
    if url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(url) as conn:
            return [r[0] for r in conn.execute(sql).fetchall()]
    import sqlite3

    conn = sqlite3.connect(url, timeout=10)
    try:
        return [r[0] for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()
