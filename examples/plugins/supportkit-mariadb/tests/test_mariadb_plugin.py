"""The plugin as supportkit sees it: found by entry point, opened from a URL, a desk on it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from _mariadb_server import fresh_database
from supportkit_mariadb import MariaDBStorage, connect_args

from supportkit import ConfigurationError, FakeClock, SupportDesk
from supportkit.storage import available_backends, load_backend, open_storage
from supportkit.storage.sqlite import SQLiteStorage


def test_registered_under_both_names_and_opened_from_a_url() -> None:
    assert {"mariadb", "mysql"} <= set(available_backends())
    assert load_backend("mariadb") is MariaDBStorage
    with fresh_database() as url:
        storage = open_storage(url)
        try:
            assert isinstance(storage, MariaDBStorage)
            desk = SupportDesk(storage, clock=FakeClock())
            t = desk.receive("email", "ann@example.com", "My invoice is wrong", subject="Inv")
            desk.reply(t.id, "agent-1", "Fixed")
            desk.resolve(t.id, actor="agent-1", resolution="done")
            assert desk.get_ticket(t.id).status == "resolved"
            assert [m.text for m in desk.messages(t.id)] == ["My invoice is wrong", "Fixed"]
        finally:
            storage.close()


def test_reopening_keeps_the_schema_version_and_the_data() -> None:
    with fresh_database() as url:
        with MariaDBStorage(url) as first:
            t = SupportDesk(first, clock=FakeClock()).receive("chat", "v1", "Hello")
            version = first.schema_version
        with MariaDBStorage(url) as again:
            assert again.schema_version == version
            assert SupportDesk(again).get_ticket(t.id).subject == t.subject


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://x/y", "not a mariadb"),
        ("mariadb://root@127.0.0.1:3306/", "names no database"),
        ("mariadb://root@127.0.0.1/db?charset=latin1", "unknown option"),
    ],
)
def test_a_bad_url_says_what_to_write(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        connect_args(url)


def test_the_schema_has_every_table_and_column_of_supportkits_core(tmp_path: Path) -> None:
    """When supportkit's core schema grows, this names what the MariaDB schema lacks."""
    with SQLiteStorage(tmp_path / "core.db"):
        pass
    core = sqlite3.connect(tmp_path / "core.db")
    tables = [
        r[0]
        for r in core.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sk_%' "
            "AND name NOT IN ('sk_counters', 'sk_schema')"
        )
    ]
    expected = {t: {r[1] for r in core.execute(f"PRAGMA table_info({t})")} for t in tables}
    with fresh_database() as url, MariaDBStorage(url) as storage, storage.unit_of_work() as uow:
        cur = uow.raw_connection().cursor()
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE()"
        )
        found: dict[str, set[str]] = {}
        for table, column in cur.fetchall():
            found.setdefault(table, set()).add(column)
    missing = {
        t: sorted(cols - found.get(t, set()))
        for t, cols in expected.items()
        if cols - found.get(t, set())
    }
    assert not missing, f"add to supportkit_mariadb/_schema.py: {missing}"


def test_the_plugin_uses_only_public_supportkit_names() -> None:
    import ast

    import supportkit_mariadb

    private = []
    for path in Path(supportkit_mariadb.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("supportkit."):
                module = node.module or ""
                names = [a.name for a in node.names]
                if any(p.startswith("_") for p in module.split(".")) or any(
                    n.startswith("_") for n in names
                ):
                    private.append((path.name, module, names))
    assert not private, f"private supportkit names used: {private}"


def test_routing_on_two_desks_decides_capacity_and_the_queue_in_the_database() -> None:
    from supportkit.domain import Agent, Team
    from supportkit.extensions import DeskRouting

    crew = [Agent(n, n.title(), teams=("support",), capacity=1) for n in ("ann", "bob")]
    with fresh_database() as url, MariaDBStorage(url) as one, MariaDBStorage(url) as two:
        first = SupportDesk(
            one, extensions=[DeskRouting(teams=[Team("support", "Support", "L1")], agents=crew)]
        )
        routing = DeskRouting()  # a second process: it saw none of the first's assignments
        second = SupportDesk(two, extensions=[routing])
        held = [first.receive("email", f"c{n}@example.com", "hi", subject=str(n)) for n in (1, 2)]
        waiting = second.receive("email", "c3@example.com", "hi", subject="3")
        assert second.get_ticket(waiting.id).assignee_id is None
        assert waiting.id in routing.queue
        agent = first.get_ticket(held[0].id).assignee_id
        assert agent is not None
        second.resolve(held[0].id, actor=agent, resolution="done")
        assert first.get_ticket(waiting.id).assignee_id == agent


def test_opening_a_version_2_database_moves_answers_acknowledgements_cursors_out_of_kv() -> None:
    import json
    from datetime import UTC, datetime, timedelta, timezone

    import pymysql
    from supportkit_mariadb import _schema

    from supportkit.ports import Cursor, FeedbackAnswer

    at = datetime(2026, 3, 2, 9, 15, 0, 123456, tzinfo=UTC)
    kv = [
        ("feedback", "t1", {"ticket_id": "t1", "csat": 4, "nps": 9, "comment": "ok", "at": at}),
        ("feedback", "t2", {"ticket_id": "t2", "csat": 2, "nps": None, "at": at}),
        ("feedback", "host-note", "not an answer"),
        ("supportkit.notify.ack", "ann@x", [at, at.astimezone(timezone(timedelta(hours=2)))]),
        ("channels.email", "cursor", {"uidvalidity": 1700000000, "last_uid": 41}),
        ("channels.email", "cursor:b", {"uidvalidity": None, "last_uid": 3}),
        ("supportkit.webhook.forward", "crm", {"cursor": 12, "failures": 2, "retry_at": None}),
    ]
    with fresh_database() as url:
        conn = pymysql.connect(**connect_args(url))
        try:
            cur = conn.cursor()
            cur.execute(_schema_mode())
            for version in (1, 2):  # the database as version 2 of the plugin left it
                for statement in _schema.MIGRATIONS[version]:
                    cur.execute(statement)
            cur.execute(
                "CREATE TABLE sk_schema (component VARCHAR(64) NOT NULL PRIMARY KEY, "
                "version INTEGER NOT NULL)"
            )
            cur.execute("INSERT INTO sk_schema VALUES ('core-mariadb', 2)")
            cur.executemany(
                'INSERT INTO sk_kv (namespace, "key", value) VALUES (%s, %s, %s)',
                [(ns, key, json.dumps(value, default=datetime.isoformat)) for ns, key, value in kv],
            )
            conn.commit()
        finally:
            conn.close()
        with MariaDBStorage(url) as storage, storage.unit_of_work() as uow:
            assert storage.schema_version == _schema.SCHEMA_VERSION
            assert uow.get_feedback_answer("t1") == FeedbackAnswer("t1", 4, 9, "ok", at)
            assert uow.get_feedback_answer("t2") == FeedbackAnswer("t2", 2, None, "", at)
            assert uow.acknowledgements_since("ann@x", at - timedelta(days=1)) == [at, at]
            assert uow.kv_items("feedback") == [("host-note", "not an answer")]
            assert uow.kv_items("supportkit.notify.ack") == []
            assert uow.get_cursor("channels.email:cursor") == Cursor(
                "channels.email:cursor", 41, "1700000000"
            )
            assert uow.get_cursor("channels.email:cursor:b") == Cursor(
                "channels.email:cursor:b", 3, None
            )
            assert uow.get_cursor("supportkit.webhook.forward:crm") == Cursor(
                "supportkit.webhook.forward:crm", 12, None, {"failures": 2, "retry_at": None}
            )
            assert uow.kv_items("channels.email") == []


def _schema_mode() -> str:
    return "SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES'"
