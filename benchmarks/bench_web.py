"""The HTTP layer's cost: the agent API against the same use cases called in-process.

A SQLite desk (a file, WAL) holds 10,000 tickets of 20 customers, spread over
four teams; the agent works in one team (about 2,500 tickets). Two use cases:

- "list my queue": the first page (50) of the agent's open tickets, newest
  first: ``GET /agent/tickets?view=open`` against ``desk.find_tickets(...)``
  with the same filters (team, open statuses, limit 51).
- "reply": an agent's reply on a ticket of the queue (each request a
  different ticket): ``POST /agent/tickets/{n}/reply`` against
  ``desk.reply(...)`` (plus the read of the ticket the endpoint does to check
  the agent may see it).

The API runs in uvicorn (one worker, httptools/h11 as installed) in this
process's background thread; the client is httpx with keep-alive, from 1
and from 4 threads. Figures: requests (or calls) per second, median and p99
latency. Run: ``.venv/bin/python benchmarks/bench_web.py [--tickets 10000] [--requests 1000]``.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from supportkit import Customer, Direction, Identity, Message, SupportDesk, Team, Ticket
from supportkit.storage.sqlite import SQLiteStorage
from supportkit.web import AgentPrincipal, create_app

TEAMS = ("billing", "tech", "sales", "returns")
AGENT = AgentPrincipal("olga", teams={"billing"})


def prefill(desk: SupportDesk, n: int) -> None:
    t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with desk.storage.unit_of_work() as uow:
        for team in TEAMS:
            uow.save_team(Team(team, team.title()))
        customers = []
        for c in range(20):
            cust = Customer(
                id=f"c{c}",
                name=f"Customer {c}",
                identities=[Identity.of("email", f"c{c}@example.com")],
                created_at=t0,
            )
            uow.add_customer(cust)
            customers.append(cust)
        for i in range(n):
            number = uow.next_ticket_number()
            at = t0 + timedelta(seconds=i)
            ticket = Ticket(
                id=f"t{number}", number=number, subject=f"Question {number}", customer_id=f"c{i % 20}",
                channel="email", status="registered", received_at=at, team_id=TEAMS[i % 4],
                updated_at=at, registered_at=at,
            )  # fmt: skip
            uow.add_ticket(ticket)
            uow.add_message(
                Message(id=f"m{number}", ticket_id=ticket.id, direction=Direction.INBOUND,
                        channel="email", author=f"c{i % 20}@example.com", text="Please help", created_at=at)
            )  # fmt: skip
        uow.commit()


def timed(calls: list[Callable[[], object]], threads: int) -> tuple[float, float, float]:
    """(per second, median ms, p99 ms) running *calls* on *threads* threads."""
    latencies: list[float] = []
    lock = threading.Lock()

    def one(call: Callable[[], object]) -> None:
        s = time.perf_counter()
        call()
        d = time.perf_counter() - s
        with lock:
            latencies.append(d)

    start = time.perf_counter()
    if threads == 1:
        for c in calls:
            one(c)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, calls))
    wall = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(calls) / wall, statistics.median(latencies) * 1000, p99 * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=1_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    desk = SupportDesk(SQLiteStorage(tmp / "bench.sqlite3"))
    prefill(desk, args.tickets)
    app = create_app(desk, authenticate=lambda request: AGENT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "c"):
            local.c = httpx.Client(base_url=base)
        c: httpx.Client = local.c
        return c

    open_statuses = sorted(desk.open_statuses())
    queue = [t.number for t in desk.find_tickets(team_ids=["billing"], limit=args.tickets)]
    replies = iter(queue)
    n = args.requests

    def http_list() -> None:
        r = client().get("/agent/tickets", params={"view": "open"})
        assert r.status_code == 200
        assert len(r.json()["items"]) == 50

    def local_list() -> None:
        found = desk.find_tickets(status=open_statuses, team_ids=["billing"], limit=51)
        assert len(found) == 51

    def http_reply() -> None:
        r = client().post(f"/agent/tickets/{next(replies)}/reply", json={"text": "On it"})
        assert r.status_code == 200, r.text

    def local_reply() -> None:
        t = desk.get_ticket_by_number(next(replies))
        desk.reply(t.id, "olga", "On it")

    for f in (http_list, local_list):  # warm-up
        for _ in range(20):
            f()
    rows = []
    for name, fn, threads in (
        ("list my queue, in-process", local_list, 1),
        ("list my queue, HTTP", http_list, 1),
        ("list my queue, HTTP, 4 clients", http_list, 4),
        ("reply, in-process", local_reply, 1),
        ("reply, HTTP", http_reply, 1),
        ("reply, HTTP, 4 clients", http_reply, 4),
    ):
        rate, med, p99 = timed([fn] * n, threads)
        rows.append((name, rate, med, p99))
    print(
        f"{args.tickets:,} tickets (SQLite file, WAL), {n} requests per row; agent's team ~{len(queue):,} tickets"
    )
    print("| use case | per second | median ms | p99 ms |\n|---|---:|---:|---:|")
    for name, rate, med, p99 in rows:
        print(f"| {name} | {rate:,.0f} | {med:.2f} | {p99:.2f} |")
    server.should_exit = True


if __name__ == "__main__":
    main()
