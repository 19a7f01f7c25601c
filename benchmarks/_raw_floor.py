"""The raw ``sqlite3`` floor of the lifecycle benchmark.

No library, no objects: hand-written SQL through the standard library, with a
schema shaped like the one a ticket store needs (tickets with a version for
optimistic concurrency, messages, an event outbox) and the indexes the
queries of a desk need. It writes the same rows supportkit does: the
sender's identity is looked up and a customer with that identity created, a
history row records every status change (receive registers the ticket), and
every step appends its events (before 2026-11-24 the floor skipped the
customer, identity and history rows, 13 statements per lifecycle instead of
25). Its connection runs exactly supportkit's PRAGMAs
(``_pragmas.apply``: 2 KiB pages, WAL, 64 MB cache, synchronous FULL or
NORMAL as asked).

Two ways to run one lifecycle:

- ``per_step`` (the floor the targets are measured against): one
  transaction per use case (receive, reply, diagnose, resolve, close), as a
  desk that commits each use case does; the reply also stamps first-response
  time on the ticket, so it is five ticket updates.
- ``one_tx``: the same rows in one transaction per lifecycle (reference: what
  batching a whole lifecycle would cost).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

STEPS = ("receive", "reply", "diagnose", "resolve", "close")

SCHEMA = """
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 2,
    tier TEXT NOT NULL DEFAULT 'L1',
    assignee_id TEXT,
    version INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    first_response_at TEXT,
    resolved_at TEXT,
    closed_at TEXT,
    updated_at TEXT,
    resolution TEXT
);
CREATE INDEX tickets_status ON tickets(status);
CREATE INDEX tickets_customer ON tickets(customer_id);
CREATE INDEX tickets_assignee ON tickets(assignee_id);
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    direction TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX messages_ticket ON messages(ticket_id);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    published INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_ticket ON events(ticket_id);
CREATE TABLE history (
    seq INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX history_ticket ON history(ticket_id, seq);
CREATE TABLE customers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE identities (
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (channel, address)
);
CREATE INDEX identities_customer ON identities(customer_id);
"""

INSERT_TICKET = (
    "INSERT INTO tickets (id, number, subject, customer_id, channel, status, version,"
    " received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_MESSAGE = (
    "INSERT INTO messages (id, ticket_id, direction, author, text, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
FIND_IDENTITY = "SELECT customer_id FROM identities WHERE channel = ? AND address = ?"
INSERT_CUSTOMER = "INSERT INTO customers (id, data) VALUES (?, ?)"
INSERT_IDENTITY = "INSERT INTO identities (channel, address, customer_id) VALUES (?, ?, ?)"
INSERT_HISTORY = (
    "INSERT INTO history (ticket_id, at, actor, event, from_status, to_status, reason)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_EVENT = "INSERT INTO events (ticket_id, type, payload, occurred_at) VALUES (?, ?, ?, ?)"
UPDATE_STATUS = (
    "UPDATE tickets SET status = ?, version = version + 1, updated_at = ?"
    " WHERE id = ? AND version = ?"
)
UPDATE_REPLIED = (
    "UPDATE tickets SET first_response_at = ?, version = version + 1, updated_at = ?"
    " WHERE id = ? AND version = ?"
)
UPDATE_RESOLVED = (
    "UPDATE tickets SET status = ?, resolution = ?, resolved_at = ?, version = version + 1,"
    " updated_at = ? WHERE id = ? AND version = ?"
)
UPDATE_CLOSED = (
    "UPDATE tickets SET status = ?, closed_at = ?, version = version + 1, updated_at = ?"
    " WHERE id = ? AND version = ?"
)

CUSTOMER_TEXT = "Hello, my printer says it is offline since this morning."
REPLY_TEXT = "Could you try switching it off and on again?"
RESOLUTION = "Power-cycled the print server; the queue drains again."


#: time-ordered ids, as supportkit's own (a random uuid4 key scatters every index insert
#: over the whole B-tree: at 100k live tickets that alone multiplies the floor's cost)
_SEQUENCE = itertools.count(time.time_ns() // 1000 << 20)


def _new_id() -> str:
    return format(next(_SEQUENCE), "032x")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _event(ticket_id: str, kind: str, **data: object) -> tuple[str, str, str, str]:
    return (ticket_id, kind, json.dumps(data), _now())


def _history(ticket_id: str, actor: str, event: str, before: str, after: str) -> tuple[str, ...]:
    return (ticket_id, _now(), actor, event, before, after, "")


def _customer(customer_id: str, address: str) -> tuple[str, str]:
    """The customer row: its profile as JSON, as a desk stores it."""
    data = {"id": customer_id, "name": address, "identities": [["email", address]]}
    return (customer_id, json.dumps(data))


def _find_or_create_customer(ex: Callable[..., sqlite3.Cursor], num: int) -> str:
    """Look the sender up by identity; create the customer and identity when new."""
    address = f"c{num}@example.com"
    row = ex(FIND_IDENTITY, ("email", address)).fetchone()
    if row is not None:
        return str(row[0])
    cid = _new_id()
    ex(INSERT_CUSTOMER, _customer(cid, address))
    ex(INSERT_IDENTITY, ("email", address, cid))
    return cid


class RawFloor:
    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        from _pragmas import apply

        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        apply(self.db.cursor(), synchronous)
        self.db.executescript(SCHEMA)
        self.number = 0

    def close(self) -> None:
        self.db.close()

    def prefill(self, n: int) -> None:
        """*n* live tickets (registered), each with its customer and identity, its
        message, its history row and two events."""
        db = self.db
        now = _now()
        batch = 10_000
        db.execute("BEGIN")
        for start in range(0, n, batch):
            rows = []
            for _ in range(start, min(n, start + batch)):
                self.number += 1
                rows.append((_new_id(), self.number))
            customers = {num: _new_id() for _tid, num in rows}
            db.executemany(
                INSERT_CUSTOMER,
                (_customer(customers[num], f"live{num}@example.com") for _tid, num in rows),
            )
            db.executemany(
                INSERT_IDENTITY,
                (("email", f"live{num}@example.com", customers[num]) for _tid, num in rows),
            )
            db.executemany(
                INSERT_HISTORY,
                (
                    (tid, now, "system", "register", "received", "registered", "")
                    for tid, _num in rows
                ),
            )
            db.executemany(
                INSERT_TICKET,
                (
                    (
                        tid,
                        num,
                        f"Live request {num}",
                        customers[num],
                        "email",
                        "registered",
                        2,
                        now,
                        now,
                    )
                    for tid, num in rows
                ),
            )
            db.executemany(
                INSERT_MESSAGE,
                (
                    (
                        _new_id(),
                        tid,
                        "inbound",
                        f"live{num}@example.com",
                        CUSTOMER_TEXT,
                        now,
                    )
                    for tid, num in rows
                ),
            )
            db.executemany(
                INSERT_EVENT,
                (
                    (tid, kind, "{}", now)
                    for tid, _num in rows
                    for kind in ("TicketReceived", "TicketRegistered")
                ),
            )
        db.execute("COMMIT")

    def one_tx(self, count: int) -> float:
        """*count* lifecycles, one transaction each; returns the seconds spent."""
        db = self.db
        ex = db.execute
        t0 = time.perf_counter()
        for _ in range(count):
            self.number += 1
            num = self.number
            tid = _new_id()
            now = _now()
            ex("BEGIN")
            cid = _find_or_create_customer(ex, num)
            ex(
                INSERT_TICKET,
                (
                    tid,
                    num,
                    "Printer offline",
                    cid,
                    "email",
                    "received",
                    1,
                    now,
                    now,
                ),
            )
            ex(
                INSERT_MESSAGE,
                (_new_id(), tid, "inbound", f"c{num}@example.com", CUSTOMER_TEXT, now),
            )
            ex(INSERT_EVENT, _event(tid, "TicketReceived", channel="email"))
            ex(UPDATE_STATUS, ("registered", _now(), tid, 1))
            ex(INSERT_HISTORY, _history(tid, "system", "register", "received", "registered"))
            ex(INSERT_EVENT, _event(tid, "TicketRegistered", number=num))
            ex(
                INSERT_MESSAGE,
                (_new_id(), tid, "outbound", "agent-1", REPLY_TEXT, _now()),
            )
            ex(UPDATE_STATUS, ("diagnosing", _now(), tid, 2))
            ex(
                INSERT_HISTORY,
                _history(tid, "agent-1", "start_diagnosis", "registered", "diagnosing"),
            )
            ex(INSERT_EVENT, _event(tid, "DiagnosisStarted", actor="agent-1"))
            ex(UPDATE_RESOLVED, ("resolved", RESOLUTION, now, _now(), tid, 3))
            ex(INSERT_HISTORY, _history(tid, "agent-1", "resolve", "diagnosing", "resolved"))
            ex(INSERT_EVENT, _event(tid, "TicketResolved", actor="agent-1"))
            ex(UPDATE_CLOSED, ("closed", now, _now(), tid, 4))
            ex(INSERT_HISTORY, _history(tid, "system", "close", "resolved", "closed"))
            ex(INSERT_EVENT, _event(tid, "TicketClosed", actor="system"))
            ex("COMMIT")
        return time.perf_counter() - t0

    def per_step(self, count: int) -> dict[str, float]:
        """*count* lifecycles, one transaction per use case; seconds per step."""
        db = self.db
        ex = db.execute
        clock = time.perf_counter
        totals = dict.fromkeys(STEPS, 0.0)
        for _ in range(count):
            t0 = clock()
            self.number += 1
            num = self.number
            tid = _new_id()
            now = _now()
            ex("BEGIN")
            cid = _find_or_create_customer(ex, num)
            ex(
                INSERT_TICKET,
                (
                    tid,
                    num,
                    "Printer offline",
                    cid,
                    "email",
                    "registered",
                    1,
                    now,
                    now,
                ),
            )
            ex(
                INSERT_MESSAGE,
                (_new_id(), tid, "inbound", f"c{num}@example.com", CUSTOMER_TEXT, now),
            )
            ex(INSERT_HISTORY, _history(tid, "system", "register", "received", "registered"))
            ex(INSERT_EVENT, _event(tid, "TicketReceived", channel="email"))
            ex(INSERT_EVENT, _event(tid, "TicketRegistered", number=num))
            ex("COMMIT")
            t1 = clock()
            ex("BEGIN")
            ex(
                INSERT_MESSAGE,
                (_new_id(), tid, "outbound", "agent-1", REPLY_TEXT, _now()),
            )
            ex(UPDATE_REPLIED, (_now(), _now(), tid, 1))
            ex(INSERT_EVENT, _event(tid, "MessageAdded", direction="outbound"))
            ex("COMMIT")
            t2 = clock()
            ex("BEGIN")
            ex(UPDATE_STATUS, ("diagnosing", _now(), tid, 2))
            ex(
                INSERT_HISTORY,
                _history(tid, "agent-1", "start_diagnosis", "registered", "diagnosing"),
            )
            ex(INSERT_EVENT, _event(tid, "DiagnosisStarted", actor="agent-1"))
            ex("COMMIT")
            t3 = clock()
            ex("BEGIN")
            ex(UPDATE_RESOLVED, ("resolved", RESOLUTION, now, _now(), tid, 3))
            ex(INSERT_HISTORY, _history(tid, "agent-1", "resolve", "diagnosing", "resolved"))
            ex(INSERT_EVENT, _event(tid, "TicketResolved", actor="agent-1"))
            ex("COMMIT")
            t4 = clock()
            ex("BEGIN")
            ex(UPDATE_CLOSED, ("closed", now, _now(), tid, 4))
            ex(INSERT_HISTORY, _history(tid, "system", "close", "resolved", "closed"))
            ex(INSERT_EVENT, _event(tid, "TicketClosed", actor="system"))
            ex("COMMIT")
            t5 = clock()
            totals["receive"] += t1 - t0
            totals["reply"] += t2 - t1
            totals["diagnose"] += t3 - t2
            totals["resolve"] += t4 - t3
            totals["close"] += t5 - t4
        return totals

    def check(self, closed: int) -> None:
        (got,) = self.db.execute("SELECT count(*) FROM tickets WHERE status = 'closed'").fetchone()
        if got != closed:
            raise AssertionError(f"raw floor: {got} closed tickets, expected {closed}")
