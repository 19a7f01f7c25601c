"""Lifecycle throughput with 1, 2 and 4 processes on one PostgreSQL database.

One lifecycle is four use cases on a new ticket, each its own transaction:
receive a customer's message (a new ticket and customer), an agent's reply
(which starts diagnosis), resolve, close. P processes (spawned, nothing
shared) each run M lifecycles at once on one fresh schema, all starting
together after a warm-up; the figures are

- tickets/s: P*M lifecycles divided by the wall time from the common start
  to the last process's end;
- p50 / p99: the latency of one whole lifecycle (its four transactions), over
  every lifecycle of every process.

Two sides, side by side in the same run, each (side, P) on its own fresh schema:

- ``supportkit``: ``SupportDesk`` over ``PostgresStorage`` (the use cases as a
  host calls them: ticket loaded for update, events in the outbox);
- ``raw-psycopg``: the floor, hand-written SQL through psycopg, one
  transaction per use case writing the same kinds of rows (customer, ticket,
  message, history, outbox event; the ticket row locked and
  version-checked), with no library in between.

The machine's core count is printed with the figures: with 2 cores, 4
processes share them (plus the PostgreSQL backends), so what more processes
buy is overlap of the waits on the database, not more CPU.

    .venv/bin/python benchmarks/bench_scale.py                   # 1, 2, 4 processes
    .venv/bin/python benchmarks/bench_scale.py --per-process 200 --processes 1 2
    SUPPORTKIT_BENCH_PG=postgresql://postgres@127.0.0.1:5432/test ...

Never part of the test suite.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

PG_URL = os.environ.get("SUPPORTKIT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
SIDES = ("supportkit", "raw-psycopg")


@contextmanager
def fresh_schema() -> Iterator[str]:
    import psycopg

    name = f"sk_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


# ------------------------------------------------------------------ supportkit
def supportkit_runner(url: str, who: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    from supportkit import SupportDesk
    from supportkit.storage.postgres import PostgresStorage

    storage = PostgresStorage(url, pool_size=2)
    desk = SupportDesk(storage)

    def lifecycle(i: int) -> None:
        t = desk.receive("email", f"{who}-{i}@example.com", "My order has not arrived")
        desk.reply(t.id, "agent-1", "We are on it.")
        desk.resolve(t.id, actor="agent-1", resolution="sent again")
        desk.close(t.id, actor="agent-1")

    return lifecycle, storage.close


# ------------------------------------------------------------------ the floor
FLOOR_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, address TEXT NOT NULL UNIQUE, created_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY, number BIGSERIAL UNIQUE, subject TEXT NOT NULL,
    customer_id TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL,
    assignee_id TEXT, version INTEGER NOT NULL, received_at TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ, resolved_at TIMESTAMPTZ, closed_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ, resolution TEXT);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status, number);
CREATE INDEX IF NOT EXISTS tickets_customer ON tickets (customer_id, number);
CREATE TABLE IF NOT EXISTS messages (
    seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, ticket_id TEXT NOT NULL,
    direction TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL);
CREATE INDEX IF NOT EXISTS messages_ticket ON messages (ticket_id, seq);
CREATE TABLE IF NOT EXISTS history (
    seq BIGSERIAL PRIMARY KEY, ticket_id TEXT NOT NULL, at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL, event TEXT NOT NULL, from_status TEXT NOT NULL, to_status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_ticket ON history (ticket_id, seq);
CREATE TABLE IF NOT EXISTS outbox (
    seq BIGSERIAL PRIMARY KEY, ticket_id TEXT, type TEXT NOT NULL, data TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL, published BOOLEAN NOT NULL DEFAULT false);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE NOT published;
"""


def floor_runner(url: str, who: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    import psycopg

    conn = psycopg.connect(url, autocommit=False)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(4242)")  # one creator of the schema
        conn.execute(FLOOR_SCHEMA)

    def step(ticket_id: str, actor: str, event: str, to: str, **changes: Any) -> None:
        now = datetime.now(UTC)
        with conn.transaction():
            status, version = conn.execute(
                "SELECT status, version FROM tickets WHERE id = %s FOR UPDATE", (ticket_id,)
            ).fetchone()  # type: ignore[misc]
            sets = "".join(f", {k} = %s" for k in changes)
            updated = conn.execute(
                f"UPDATE tickets SET status = %s, version = version + 1, updated_at = %s{sets} "
                "WHERE id = %s AND version = %s",
                (to, now, *changes.values(), ticket_id, version),
            ).rowcount
            assert updated == 1
            conn.execute(
                "INSERT INTO history (ticket_id, at, actor, event, from_status, to_status) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (ticket_id, now, actor, event, status, to),
            )
            conn.execute(
                "INSERT INTO outbox (ticket_id, type, data, at) VALUES (%s, %s, %s, %s)",
                (ticket_id, f"ticket.{event}", f'{{"to": "{to}"}}', now),
            )

    def lifecycle(i: int) -> None:
        now = datetime.now(UTC)
        ticket_id, customer_id = uuid.uuid4().hex, uuid.uuid4().hex
        with conn.transaction():  # receive
            conn.execute(
                "INSERT INTO customers (id, address, created_at) VALUES (%s, %s, %s)",
                (customer_id, f"{who}-{i}@example.com", now),
            )
            conn.execute(
                "INSERT INTO tickets (id, subject, customer_id, channel, status, version, "
                "received_at, updated_at) VALUES (%s, %s, %s, 'email', 'registered', 1, %s, %s)",
                (ticket_id, "My order has not arrived", customer_id, now, now),
            )
            conn.execute(
                "INSERT INTO messages (id, ticket_id, direction, author, text, created_at) "
                "VALUES (%s, %s, 'inbound', %s, %s, %s)",
                (uuid.uuid4().hex, ticket_id, customer_id, "My order has not arrived", now),
            )
            conn.execute(
                "INSERT INTO history (ticket_id, at, actor, event, from_status, to_status) "
                "VALUES (%s, %s, 'system', 'register', 'received', 'registered')",
                (ticket_id, now),
            )
            conn.execute(
                "INSERT INTO outbox (ticket_id, type, data, at) VALUES (%s, %s, '{}', %s)",
                (ticket_id, "ticket.received", now),
            )
        with conn.transaction():  # the reply's message, then its status change below
            conn.execute(
                "INSERT INTO messages (id, ticket_id, direction, author, text, created_at) "
                "VALUES (%s, %s, 'outbound', 'agent-1', 'We are on it.', %s)",
                (uuid.uuid4().hex, ticket_id, now),
            )
        step(ticket_id, "agent-1", "start_diagnosis", "diagnosing", first_response_at=now)
        step(ticket_id, "agent-1", "resolve", "resolved", resolved_at=now, resolution="sent")
        step(ticket_id, "agent-1", "close", "closed", closed_at=now)

    return lifecycle, conn.close


RUNNERS: dict[str, Callable[[str, str], tuple[Callable[[int], None], Callable[[], None]]]] = {
    "supportkit": supportkit_runner,
    "raw-psycopg": floor_runner,
}


def worker(side: str, url: str, who: str, n: int, ready: Any, go: Any) -> dict[str, Any]:
    lifecycle, close = RUNNERS[side](url, who)
    for i in range(20):  # warm-up: connections, statement caches, the schema in memory
        lifecycle(-1 - i)
    ready.wait(600)
    go.wait(600)
    started = time.perf_counter()
    latencies = []
    for i in range(n):
        t0 = time.perf_counter()
        lifecycle(i)
        latencies.append(time.perf_counter() - t0)
    ended = time.perf_counter()
    close()
    return {"latencies": latencies, "started": started, "ended": ended}


def run(side: str, processes: int, per_process: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with fresh_schema() as url, ctx.Manager() as manager:
        ready = manager.Barrier(processes + 1)
        go = manager.Event()
        with ctx.Pool(processes) as pool:
            pending = [
                pool.apply_async(worker, (side, url, f"p{p}", per_process, ready, go))
                for p in range(processes)
            ]
            ready.wait(600)  # everyone warmed up (a process that failed breaks the barrier)
            began = time.perf_counter()
            go.set()
            results = [r.get(timeout=1800) for r in pending]
            wall = time.perf_counter() - began
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "side": side,
        "processes": processes,
        "lifecycles": len(latencies),
        "per_s": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--per-process", type=int, default=300, help="lifecycles per process")
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    args = parser.parse_args()

    import psycopg

    with psycopg.connect(PG_URL) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, PostgreSQL {version} on the same machine; "
        f"{args.per_process} lifecycles per process (receive, reply, resolve, close)"
    )
    print(f"{'side':<12} {'procs':>5} {'tickets/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    rows = []
    for processes in args.processes:
        for side in args.sides:
            row = run(side, processes, args.per_process)
            rows.append(row)
            print(
                f"{row['side']:<12} {row['processes']:>5} {row['per_s']:>10.1f} "
                f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}",
                flush=True,
            )
    print()
    for processes in args.processes:
        sk = [r for r in rows if r["side"] == "supportkit" and r["processes"] == processes]
        floor = [r for r in rows if r["side"] == "raw-psycopg" and r["processes"] == processes]
        if sk and floor:
            print(
                f"{processes} process(es): supportkit at {sk[0]['per_s'] / floor[0]['per_s']:.0%} "
                "of the raw-psycopg floor's throughput"
            )


if __name__ == "__main__":
    main()
