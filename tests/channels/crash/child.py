"""A child process for the crash tests: ingests mail (or webhook posts) and records acks.

Usage: ``python -m tests.channels.crash.child KIND DB N ACKS``. KIND is
``mail``, ``webhook`` or ``phone``; DB is a SQLite path or a PostgreSQL conninfo; ACKS
is a file where each acknowledged message's number is appended once its
call returned (what an MTA or a webhook sender would take as "delivered").
The child resumes after the last number in ACKS, re-sending the message it
may have been killed in (at-least-once delivery, as a real sender retries).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from supportkit import SupportDesk
from supportkit.ports import Storage

SECRET = "crash-test-secret"


def open_storage(db: str) -> Storage:
    if db.startswith("postgresql://"):
        from supportkit.storage.postgres import PostgresStorage

        return PostgresStorage(db)
    from supportkit.storage.sqlite import SQLiteStorage

    return SQLiteStorage(db, background_checkpoint=None)


def mail(n: int) -> bytes:
    return (
        f"From: Customer {n % 37} <c{n % 37}@customer.example>\r\n"
        f"To: desk@support.example\r\nSubject: Request {n}\r\n"
        f"Message-ID: <m{n}@customer.example>\r\n\r\nPlease help with case {n}.\r\n"
    ).encode()


def post(n: int) -> dict[str, Any]:
    return {"sender": f"tg-{n % 37}", "text": f"case {n}", "external_id": f"msg-{n}"}


def call(n: int) -> dict[str, Any]:
    """An inbound call opening a ticket; every third one (after the first) logged on #1."""
    record: dict[str, Any] = {
        "id": f"call-{n}",
        "from": f"+7 495 000-{n % 37:02d}",
        "direction": "inbound",
        "duration": 60 + n % 50,
        "start_time": "2026-01-05T09:00:00Z",
        "summary": f"called about case {n}",
    }
    if n > 0 and n % 3 == 0:
        record["ticket_number"] = 1
    return record


def main(kind: str, db: str, total: int, acks: str) -> None:
    with open(acks, "a+") as f:
        f.seek(0)
        done = [int(x) for x in f.read().split()]
    start = max(done) + 1 if done else 0
    desk = SupportDesk(storage=open_storage(db))
    out = open(acks, "a")  # noqa: SIM115 - held for the life of the process
    print("ready", flush=True)
    if kind == "mail":
        from supportkit.channels.email import EmailChannel

        channel = EmailChannel(desk, "desk@support.example")
        for n in range(start, total):
            channel.ingest(mail(n))
            out.write(f"{n}\n")
            out.flush()
        return
    if kind == "phone":
        from supportkit.channels.phone import CallInProgress, PhoneChannel

        phone = PhoneChannel(desk)
        for n in range(start, total):
            try:
                phone.log(call(n))
            except CallInProgress:
                continue  # held by the killed process's live lease: the worker logs it
            out.write(f"{n}\n")
            out.flush()
        return
    import warnings

    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

    from supportkit.channels.webhook import WebhookInbound, signature_headers

    inbound = WebhookInbound(desk, secrets=[SECRET])
    with TestClient(inbound.app) as client:
        for n in range(start, total):
            body = json.dumps(post(n)).encode()
            headers = signature_headers(SECRET, body, desk.clock.now())
            headers["Content-Type"] = "application/json"
            r = client.post("/inbound/telegram", content=body, headers=headers)
            if r.status_code == 200:
                out.write(f"{n}\n")
                out.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
