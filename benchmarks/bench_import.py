"""Import rate of ``supportkit import django-helpdesk`` beside a raw SQL floor.

    python benchmarks/bench_import.py                 # 100,000 tickets
    python benchmarks/bench_import.py --tickets 5000  # quick

Runs where django-helpdesk is installed (``.venv-bench``, or the project's
``.venv``, whose ``dev`` extra has it). The source is a django-helpdesk SQLite
database made by its own migrations and filled through its models
(``bulk_create``): per ticket the opening follow-up, an agent's public reply,
the customer's answer, the resolution (status Resolved) and the closing
(status Closed); one ticket in ten stays open after the reply, one in ten is
reopened and resolved again.

- **import**: ``import_django_helpdesk`` into a new ``SQLiteStorage``
  (supportkit's PRAGMAs, synchronous FULL, batches of ``--batch-size``
  tickets): every ticket replayed through the desk's use cases.
- **floor**: the same source rows read with the same SQL, and the very rows
  the import wrote (tickets, messages, history, customers, identities,
  events, teams, agents) copied by hand-written ``executemany`` into the same
  schema in one transaction, with the same PRAGMAs. No mapping, no domain
  objects, no per-ticket statements: what the bytes cost.

Both figures are tickets per second over the whole run, source reading included.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def build_source(path: Path, n: int) -> None:
    """A django-helpdesk database of *n* tickets with their follow-ups, through its models."""
    import _django_helpdesk as dh

    dh.configure(path, synchronous="OFF")
    dh.migrate()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from helpdesk.models import FollowUp, Queue, Ticket

    users = get_user_model()
    agents = [
        users.objects.create_user(f"agent-{k}", f"agent-{k}@example.com", "x", is_staff=True)
        for k in range(20)
    ]
    queues = [Queue.objects.create(title=f"Queue {k}", slug=f"queue-{k}") for k in range(5)]
    step = 5000
    with transaction.atomic():
        for start in range(0, n, step):
            stop = min(n, start + step)
            tickets = Ticket.objects.bulk_create(
                Ticket(
                    title=f"Request {i}",
                    queue=queues[i % 5],
                    submitter_email=f"customer{i % (n // 3 + 1)}@example.com",
                    status=(Ticket.OPEN_STATUS if i % 10 == 0 else Ticket.CLOSED_STATUS),
                    description=f"Request {i}: the printer on floor {i % 7} is offline again.",
                    assigned_to=agents[i % 20],
                    priority=1 + i % 5,
                )
                for i in range(start, stop)
            )
            rows = []
            for i, t in zip(range(start, stop), tickets, strict=True):
                at = T0 + timedelta(seconds=30 * i)
                agent = agents[i % 20]

                def fu(
                    hours: float, comment: str, t: Ticket = t, at: datetime = at, **kw: object
                ) -> FollowUp:
                    return FollowUp(
                        ticket=t, date=at + timedelta(hours=hours), comment=comment, **kw
                    )

                rows += [
                    fu(0, t.description, public=True, title="Ticket Opened"),
                    fu(1, "Could you switch it off and on again?", public=True, user=agent),
                ]
                if i % 10 == 0:
                    continue
                rows.append(fu(2, "Still offline after a restart.", public=True))
                rows.append(
                    fu(5, "Power-cycled the print server.", public=True, user=agent, new_status=3)
                )
                if i % 10 == 1:
                    rows.append(fu(8, "It is offline again.", public=True, new_status=2))
                    rows.append(fu(9, "Replaced the network cable.", public=True, user=agent))
                    rows.append(fu(10, "", public=False, user=agent, new_status=3))
                rows.append(fu(24, "", public=False, user=agent, new_status=4))
            FollowUp.objects.bulk_create(rows)
        with connection.cursor() as cur:  # auto_now(_add) stamped "now": back-date the tickets
            cur.execute(
                "UPDATE helpdesk_ticket SET created = strftime('%Y-%m-%d %H:%M:%S', ?, "
                "'+' || ((id - 1) * 30) || ' seconds'), modified = strftime("
                "'%Y-%m-%d %H:%M:%S', ?, '+' || ((id - 1) * 30 + 86400) || ' seconds')",
                [T0.strftime("%Y-%m-%d %H:%M:%S")] * 2,
            )
    connection.close()


def run_import(source: Path, target: Path, batch_size: int) -> tuple[float, object]:
    from supportkit.importers import import_django_helpdesk
    from supportkit.storage.sqlite import SQLiteStorage

    storage = SQLiteStorage(str(target), background_checkpoint=None)
    t0 = time.perf_counter()
    summary = import_django_helpdesk(str(source), storage, batch_size=batch_size)
    took = time.perf_counter() - t0
    storage.close()
    return took, summary


_TABLES = (
    "sk_teams",
    "sk_agents",
    "sk_customers",
    "sk_identities",
    "sk_tickets",
    "sk_messages",
    "sk_history",
    "sk_events",
    "sk_counters",
)


def run_floor(source: Path, imported: Path, target: Path, batch_size: int) -> float:
    """Read the source the same way, write the import's rows by hand in one transaction."""
    import _pragmas

    from supportkit.importers._source import open_source
    from supportkit.storage.sqlite import SQLiteStorage

    SQLiteStorage(str(target), background_checkpoint=None).close()  # the same schema, empty
    have = sqlite3.connect(imported)
    rows = {}
    for table in _TABLES:
        cols = [r[1] for r in have.execute(f"PRAGMA table_info({table})")]
        rows[table] = (cols, have.execute(f"SELECT * FROM {table}").fetchall())
    have.close()
    conn = sqlite3.connect(target, isolation_level=None)
    cur = conn.cursor()
    _pragmas.apply(cur, "FULL")
    for table in _TABLES:
        cur.execute(f"DELETE FROM {table}")
    t0 = time.perf_counter()
    src = open_source(str(source))
    src.queues()
    src.users()
    for _page in src.tickets(batch_size):
        pass
    src.close()
    cur.execute("BEGIN")
    for table, (cols, data) in rows.items():
        marks = ", ".join("?" * len(cols))
        cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", data)
    cur.execute("COMMIT")
    took = time.perf_counter() - t0
    conn.close()
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--dir", help="work directory (default: a temporary one)")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    source, imported, floor = (
        work / n for n in ("helpdesk.sqlite3", "sk.sqlite3", "floor.sqlite3")
    )
    for p in (source, imported, floor):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
    print(
        f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}"
    )
    t0 = time.perf_counter()
    build_source(source, args.tickets)
    print(
        f"source: {args.tickets} django-helpdesk tickets built in {time.perf_counter() - t0:.0f} s"
    )

    took, summary = run_import(source, imported, args.batch_size)
    print("\n".join(f"  {line}" for line in summary.lines()))  # type: ignore[attr-defined]
    floor_took = run_floor(source, imported, floor, args.batch_size)
    conn = sqlite3.connect(imported)
    counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in _TABLES}
    conn.close()
    n = args.tickets
    print(f"rows written: {counts}")
    print()
    print(f"| side ({n:,} tickets, batches of {args.batch_size}) | seconds | tickets/s |")
    print("|---|---:|---:|")
    print(f"| supportkit import (use cases, SQLite FULL) | {took:,.1f} | {n / took:,.0f} |")
    print(
        f"| floor: same SQL read + executemany, one transaction | {floor_took:,.1f} | "
        f"{n / floor_took:,.0f} |"
    )
    print(f"import / floor: {took / floor_took:.1f}x")


if __name__ == "__main__":
    main()
