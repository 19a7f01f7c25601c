"""Core schema v2 moves SLA clocks, deliveries and used feedback tokens out of the kv table."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from supportkit.ports import Cursor, FeedbackAnswer, Storage
from supportkit.storage._migrate import migrate
from supportkit.storage._sql_schema import CORE_MIGRATIONS
from supportkit.storage.sql import SchemaComponent, qmark_to_format
from supportkit.storage.sqlite import SQLiteStorage
from tests.pg import pg_schema

USED = datetime(2026, 3, 1, 12, 30, 15, tzinfo=UTC)
KV = [
    ("sla", "t1:resolution", {"ticket_id": "t1", "kind": "resolution", "state": "running"}),
    ("sla", "t2:resolution", {"ticket_id": "t2", "kind": "resolution", "excluded": True}),
    ("sla.history", "t1:next_response:2026", {"ticket_id": "t1", "kind": "next_response"}),
    ("supportkit.delivery", "d1", {"outbound": {"ticket_id": "t1"}, "status": "failed"}),
    ("supportkit.delivery.external", "<a@x>", {"ticket_id": "t1", "delivery_id": "d1"}),
    ("feedback-tokens", "n1", {"ticket_id": "t1", "used_at": USED.isoformat()}),
    ("routing", "state", {"cursor": 3}),
]


def _seed(conn: Any, dialect: str, begin: Callable[[Any], None], upto: int, kv: list[Any]) -> None:
    """The database as core schema version *upto* left it, with *kv* in its kv table."""
    migrate(conn, dialect, [SchemaComponent("core", CORE_MIGRATIONS.migrations[:upto])], begin)
    begin(conn)
    sql = "INSERT INTO sk_kv (namespace, key, value) VALUES (?, ?, ?)"
    conn.cursor().executemany(
        sql if dialect == "sqlite" else qmark_to_format(sql),
        [(ns, key, json.dumps(value)) for ns, key, value in kv],
    )
    conn.commit()


@contextmanager
def _opened_after(dialect: str, tmp_path: Path, upto: int, kv: list[Any]) -> Iterator[Storage]:
    """A storage opened (so migrated to the newest version) on a database seeded at *upto*."""
    if dialect == "sqlite":
        import sqlite3

        path = tmp_path / f"v{upto}.sqlite3"
        conn = sqlite3.connect(path, isolation_level=None)
        _seed(conn, "sqlite", lambda c: c.execute("BEGIN IMMEDIATE"), upto, kv)
        conn.close()
        storage: Storage = SQLiteStorage(path)
        yield storage
        storage.close()
        return
    import psycopg

    from supportkit.storage.postgres import PostgresStorage

    with pg_schema() as url:
        with psycopg.connect(url) as pg:
            _seed(pg, "postgresql", lambda c: None, upto, kv)
        storage = PostgresStorage(url)
        yield storage
        storage.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def upgraded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    with _opened_after(request.param, tmp_path, 1, KV) as storage:
        yield storage


def test_opening_a_v1_database_moves_typed_records_out_of_kv(upgraded: Storage) -> None:
    with upgraded.unit_of_work() as uow:
        live = uow.get_sla_clock("t1:resolution")
        assert live is not None
        assert (live.ticket_id, live.kind, live.archived, live.excluded) == (
            "t1",
            "resolution",
            False,
            False,
        )
        assert live.data["state"] == "running"
        spam = uow.get_sla_clock("t2:resolution")
        assert spam is not None
        assert spam.excluded
        assert [r.key for r in uow.sla_clocks_after(None)] == [
            "t1:next_response:2026",
            "t1:resolution",
            "t2:resolution",
        ]
        archived = uow.get_sla_clock("t1:next_response:2026")
        assert archived is not None
        assert archived.archived
        delivery = uow.get_delivery("d1")
        assert delivery is not None
        assert (delivery.ticket_id, delivery.status) == ("t1", "failed")
        assert uow.ticket_for_external_id("<a@x>") == "t1"
        token = uow.get_feedback_token("n1")
        assert token is not None
        assert (token.ticket_id, token.used_at) == ("t1", USED)
        assert uow.kv_items("sla") == []
        assert uow.kv_items("feedback-tokens") == []
        assert uow.kv_get("routing", "state") == {"cursor": 3}  # other namespaces stay


ANSWERED = datetime(2026, 3, 2, 9, 15, 0, 123456, tzinfo=UTC)
KV_V4 = [
    (
        "feedback",
        "t1",
        {"ticket_id": "t1", "csat": 4, "nps": 9, "comment": "ok", "at": ANSWERED.isoformat()},
    ),
    ("feedback", "t2", {"ticket_id": "t2", "csat": 2, "nps": None, "at": USED.isoformat()}),
    ("feedback", "host-note", "not an answer"),  # a host's own key in the namespace stays
    (
        "supportkit.notify.ack",
        "ann@example.com",
        [USED.isoformat(), ANSWERED.astimezone(timezone(timedelta(hours=2))).isoformat()],
    ),
    ("routing", "state", {"cursor": 3}),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def upgraded_v3(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    with _opened_after(request.param, tmp_path, 3, KV_V4) as storage:
        yield storage


def test_opening_a_v3_database_moves_answers_and_acknowledgements_out_of_kv(
    upgraded_v3: Storage,
) -> None:
    with upgraded_v3.unit_of_work() as uow:
        assert uow.get_feedback_answer("t1") == FeedbackAnswer("t1", 4, 9, "ok", ANSWERED)
        assert uow.get_feedback_answer("t2") == FeedbackAnswer("t2", 2, None, "", USED)
        assert [a.ticket_id for a in uow.feedback_answers_after(None)] == ["t1", "t2"]
        # instants exact to the microsecond, offsets applied
        assert uow.acknowledgements_since("ann@example.com", USED - timedelta(days=1)) == [
            USED,
            ANSWERED,
        ]
        assert uow.kv_items("feedback") == [("host-note", "not an answer")]
        assert uow.kv_items("supportkit.notify.ack") == []
        assert uow.kv_get("routing", "state") == {"cursor": 3}  # other namespaces stay


KV_V5 = [
    ("channels.email", "cursor", {"uidvalidity": 1700000000, "last_uid": 41}),
    ("channels.email", "cursor:ann@imap.example:993/INBOX", {"uidvalidity": None, "last_uid": 3}),
    (
        "supportkit.webhook.forward",
        "crm",
        {"cursor": 12, "failures": 2, "retry_at": "2026-03-01T12:30:15+00:00", "last_error": "503"},
    ),
    ("routing", "state", {"cursor": 3}),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def upgraded_v4(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    with _opened_after(request.param, tmp_path, 4, KV_V5) as storage:
        yield storage


def test_opening_a_v4_database_moves_cursors_out_of_kv(upgraded_v4: Storage) -> None:
    with upgraded_v4.unit_of_work() as uow:
        assert uow.get_cursor("channels.email:cursor") == Cursor(
            "channels.email:cursor", 41, "1700000000"
        )
        mailbox = "channels.email:cursor:ann@imap.example:993/INBOX"
        assert uow.get_cursor(mailbox) == Cursor(mailbox, 3, None)
        assert uow.get_cursor("supportkit.webhook.forward:crm") == Cursor(
            "supportkit.webhook.forward:crm",
            12,
            None,
            {"failures": 2, "retry_at": "2026-03-01T12:30:15+00:00", "last_error": "503"},
        )
        assert uow.kv_items("channels.email") == []
        assert uow.kv_items("supportkit.webhook.forward") == []
        assert uow.kv_get("routing", "state") == {"cursor": 3}
