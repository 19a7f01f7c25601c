"""``supportkit import django-helpdesk`` on databases built by django-helpdesk's own models.

SQLite, PostgreSQL and MariaDB sources (the servers' tests skip locally without
the server and fail under CI=true).

The source databases are made by ``build_helpdesk.py`` in a subprocess:
django-helpdesk's migrations, then queues, users, tickets and follow-ups
through its ORM (see that file for the eleven tickets and what each tests).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportkit import SupportDesk
from supportkit.cli import main
from supportkit.domain import Direction, Priority
from supportkit.importers import ImportSourceError, import_django_helpdesk
from supportkit.storage.memory import MemoryStorage
from supportkit.storage.sqlite import SQLiteStorage

from ..pg import IN_CI, pg_schema

BUILDER = Path(__file__).with_name("build_helpdesk.py")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MYSQL_HOST = os.environ.get("SUPPORTKIT_TEST_MYSQL_HOST", "127.0.0.1")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def build(kind: str, where: str, media: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(BUILDER), kind, where, str(media)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ids: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return ids


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Any]:
    """Opens SQLite targets (closed after the test)."""
    opened: list[SQLiteStorage] = []

    def open_target(name: str = "desk.sqlite3") -> SQLiteStorage:
        opened.append(SQLiteStorage(str(tmp_path / name)))
        return opened[-1]

    yield open_target
    for storage in opened:
        storage.close()


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("helpdesk")
    db = root / "helpdesk.sqlite3"
    return db, build("sqlite", str(db), root / "media")


class Imported:
    """The target desk, looked at by django-helpdesk ticket id."""

    def __init__(self, storage: SQLiteStorage) -> None:
        self.storage = storage
        self.desk = SupportDesk(self.storage)

    def ticket_id(self, source_id: int) -> str | None:
        with self.storage.unit_of_work() as uow:
            msg = uow.find_message_by_external_id(f"django-helpdesk:ticket:{source_id}")
        return None if msg is None else msg.ticket_id

    def ticket(self, source_id: int) -> Any:
        tid = self.ticket_id(source_id)
        assert tid is not None, f"django-helpdesk ticket {source_id} was not imported"
        return self.desk.get_ticket(tid)

    def history(self, source_id: int) -> list[tuple[str, datetime, str]]:
        return [(h.event, h.at, h.actor) for h in self.desk.history(self.ticket(source_id).id)]

    def counts(self) -> tuple[int, int]:
        conn = sqlite3.connect(self.storage.path)
        try:
            return conn.execute("SELECT COUNT(*) FROM sk_tickets").fetchone()[0], conn.execute(
                "SELECT COUNT(*) FROM sk_messages"
            ).fetchone()[0]
        finally:
            conn.close()


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["import", "django-helpdesk", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_tickets_arrive_with_messages_statuses_and_their_history(
    helpdesk: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    target: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, ids = helpdesk
    path = tmp_path / "desk.sqlite3"
    code, out, _ = run_cli(capsys, str(source), "--to", f"sqlite:///{path}", "--no-progress")
    assert code == 1, out  # three tickets reported
    assert "tickets in the source: 11" in out
    assert "imported: 8 " in out
    reported = dict(re.findall(r"^  ticket (\d+): (.*)$", out, re.MULTILINE))
    assert set(reported) == {str(ids["t6"]), str(ids["t10"]), str(ids["t11"])}
    assert "no submitter e-mail" in reported[str(ids["t6"])]
    assert "status 9" in reported[str(ids["t10"])]
    assert "1000001 characters" in reported[str(ids["t11"])]

    d = Imported(target())
    assert {t.id: t.name for t in d.desk.teams()} == {"support": "Support", "billing": "Billing"}
    assert {a.id: a.name for a in d.desk.agents()} == {"alice": "Alice Agent", "bob": "bob"}
    for left_out in ("t6", "t10", "t11"):
        assert d.ticket_id(ids[left_out]) is None  # nothing half-written

    # 1: reply, customer answer with a file, note, owner, resolved, closed; by e-mail
    t1 = d.ticket(ids["t1"])
    assert (t1.status, t1.priority, t1.team_id, t1.assignee_id) == (
        "closed",
        Priority.HIGH,
        "support",
        "alice",
    )
    assert (t1.channel, t1.subject, t1.custom_fields["django_helpdesk_id"]) == (
        "email",
        "Printer offline",
        ids["t1"],
    )
    assert (t1.received_at, t1.first_response_at, t1.resolved_at, t1.closed_at) == (
        at(0),
        at(1),
        at(5),
        at(24),
    )
    assert d.history(ids["t1"]) == [
        ("register", at(0), "system"),
        ("start_diagnosis", at(1), "alice"),
        ("resolve", at(5), "alice"),
        ("close", at(24), "alice"),
    ]
    assert t1.resolution == "Power-cycled the print server."
    msgs = d.desk.messages(t1.id)
    assert [(m.direction, m.author, m.created_at) for m in msgs] == [
        (Direction.INBOUND, "dan@example.com", at(0)),
        (Direction.OUTBOUND, "alice", at(1)),
        (Direction.INBOUND, "dan@example.com", at(2)),
        (Direction.NOTE, "alice", at(3)),
        (Direction.OUTBOUND, "alice", at(5)),
    ]
    assert msgs[0].text == "Printer offline: please help."
    assert msgs[2].text == "Still offline, log attached."
    (file,) = msgs[2].attachments
    assert (file.filename, file.content_type, file.size) == ("printer.log", "text/plain", 10)
    assert msgs[2].meta["attachment_paths"][0].startswith("helpdesk/attachments/")
    assert all(m.meta["deliver"] is False for m in msgs if m.direction is Direction.OUTBOUND)

    # 2: closed straight from open (resolved and closed at that instant), via the web form
    t2 = d.ticket(ids["t2"])
    assert (t2.status, t2.channel, t2.resolved_at, t2.closed_at) == (
        "closed",
        "web",
        at(12),
        at(12),
    )
    assert [e for e, _, _ in d.history(ids["t2"])] == [
        "register",
        "start_diagnosis",
        "resolve",
        "close",
    ]

    # 3: reopened by the customer's answer, resolved again
    t3 = d.ticket(ids["t3"])
    assert (t3.status, t3.reopen_count, t3.team_id, t3.resolved_at) == (
        "resolved",
        1,
        "billing",
        at(32),
    )
    assert d.history(ids["t3"])[2:] == [
        ("resolve", at(21), "bob"),
        ("reopen", at(30), "carol@example.com"),
        ("resolve", at(32), "bob"),
    ]
    assert [m.author for m in d.desk.messages(t3.id)][2] == "carol@example.com"

    # 4: closed, reopened, closed: one ticket; the first closing is a resolution
    assert [(e, w) for e, w, _ in d.history(ids["t4"])][2:] == [
        ("resolve", at(41)),
        ("reopen", at(50)),
        ("resolve", at(52)),
        ("close", at(52)),
    ]
    assert d.ticket(ids["t4"]).status == "closed"

    # 5: a duplicate of ticket 1
    t5 = d.ticket(ids["t5"])
    assert (t5.status, t5.closed_at, t5.custom_fields["duplicate_of"]) == (
        "closed",
        at(4),
        t1.number,
    )
    assert d.history(ids["t5"])[-1][:2] == ("close_as_duplicate", at(4))

    # 7: closed by a bulk edit: at the ticket's last change
    t7 = d.ticket(ids["t7"])
    assert (t7.status, t7.resolved_at, t7.closed_at) == ("closed", at(75), at(75))

    # 8: untouched, lowest priority, assigned without an owner change
    t8 = d.ticket(ids["t8"])
    assert (t8.status, t8.priority, t8.assignee_id, t8.team_id) == (
        "registered",
        Priority.LOW,
        "bob",
        "billing",
    )

    # 9: the customer's thanks after the closing is kept, as a note
    last = d.desk.messages(d.ticket(ids["t9"]).id)[-1]
    assert (last.direction, last.text, last.meta["public"]) == (
        Direction.NOTE,
        "Thanks, works now!",
        "inbound",
    )


def test_metrics_on_imported_tickets_use_the_source_times(
    helpdesk: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    target: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, _ = helpdesk
    import_django_helpdesk(str(source), target())
    assert (
        main(
            ["report", "--db", str(tmp_path / "desk.sqlite3"), "--format", "json", "--sla", "none"]
        )
        == 0
    )
    total = json.loads(capsys.readouterr().out)["total"]
    assert total["tickets"] == 8
    # first responses 1 h (t1), 2 h (t2), 1 h (t3), 1 h (t4), 1 h (t9): the source's times
    assert (total["first_response"]["count"], total["first_response"]["mean"]) == (5, 4320.0)
    assert total["first_response"]["median"] == 3600.0
    # resolutions 5, 2, 12, 12, 5 and 1 h; the duplicate is left out
    assert (total["resolution"]["count"], total["resolution"]["mean"]) == (6, 22200.0)
    assert total["reopen"]["numerator"] == 2  # t3 and t4


def test_running_again_imports_nothing_twice(
    helpdesk: tuple[Path, dict[str, Any]], target: Any
) -> None:
    source, _ = helpdesk
    storage = target()
    first = import_django_helpdesk(str(source), storage, batch_size=4)
    before = Imported(storage).counts()
    again = import_django_helpdesk(str(source), storage, batch_size=4)
    assert (first.imported, first.already_imported) == (8, 0)
    assert (again.imported, again.already_imported, again.teams_added, again.agents_added) == (
        0,
        8,
        0,
        0,
    )
    assert [p.ticket_id for p in again.problems] == [p.ticket_id for p in first.problems]
    assert Imported(storage).counts() == before


def test_an_interrupted_import_resumes_where_it_stopped(
    helpdesk: tuple[Path, dict[str, Any]], target: Any
) -> None:
    source, _ = helpdesk
    storage = target()

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt  # after the first batch has committed

    with pytest.raises(KeyboardInterrupt):
        import_django_helpdesk(str(source), storage, batch_size=3, progress=interrupt)
    assert Imported(storage).counts()[0] == 3
    seen: list[tuple[int, int]] = []
    rest = import_django_helpdesk(
        str(source), storage, batch_size=3, progress=lambda d, t: seen.append((d, t))
    )
    assert (rest.already_imported, rest.imported) == (3, 5)
    assert seen == [(3, 11), (6, 11), (9, 11), (11, 11)]
    assert Imported(storage).counts()[0] == 8


def test_an_anonymous_sender_brings_in_tickets_without_a_submitter(
    helpdesk: tuple[Path, dict[str, Any]], target: Any
) -> None:
    source, ids = helpdesk
    storage = target()
    summary = import_django_helpdesk(str(source), storage, anonymous_sender="phone@example.com")
    assert summary.imported == 9
    t6 = Imported(storage).ticket(ids["t6"])
    assert (t6.subject, t6.received_at) == ("Phone call", at(60))


def test_a_database_that_is_not_django_helpdesks_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "other.sqlite3"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    code, _, err = run_cli(capsys, str(empty), "--to", f"sqlite:///{tmp_path / 'd.sqlite3'}")
    assert code == 2
    assert "not a django-helpdesk database" in err
    with pytest.raises(ImportSourceError, match="no SQLite database"):
        import_django_helpdesk(str(tmp_path / "missing.sqlite3"), MemoryStorage())
    with pytest.raises(ImportSourceError, match="no database named"):
        import_django_helpdesk("mysql://root@127.0.0.1:3306", MemoryStorage())
    with pytest.raises(ImportSourceError, match="unknown database URL oracle://"):
        import_django_helpdesk("oracle://scott@db/helpdesk", MemoryStorage())


@contextmanager
def mariadb_database() -> Iterator[str]:
    """A fresh MariaDB database (skips locally without a server; fails under CI=true)."""
    import pymysql

    try:
        admin = pymysql.connect(host=MYSQL_HOST, user="root", autocommit=True, connect_timeout=3)
    except pymysql.MySQLError as exc:
        reason = f"no MariaDB server answers at {MYSQL_HOST}:3306: {exc}"
        if IN_CI:
            pytest.fail(f"CI must run the MariaDB tests, but {reason}")
        pytest.skip(reason)
    name = f"sk_helpdesk_{uuid.uuid4().hex[:12]}"
    try:
        admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        yield f"mysql://root@{MYSQL_HOST}:3306/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@contextmanager
def server_source(kind: str, media: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """A django-helpdesk database on a database server: (its URL, the ids built)."""
    if kind == "postgresql":
        with pg_schema() as url:
            yield url, build("postgresql", url, media)
    else:
        with mariadb_database() as url:
            yield url, build("mysql", url, media)


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_server_databases_import_like_sqlite(kind: str, tmp_path: Path) -> None:
    """A PostgreSQL or MariaDB django-helpdesk database, into a PostgreSQL desk."""
    from supportkit.storage.postgres import PostgresStorage

    with server_source(kind, tmp_path / "media") as (source_url, ids), pg_schema() as target_url:
        storage = PostgresStorage(target_url)
        try:
            summary = import_django_helpdesk(source_url, storage, batch_size=4)
            again = import_django_helpdesk(source_url, storage, batch_size=4)
            desk = SupportDesk(storage)
            with storage.unit_of_work() as uow:
                msg = uow.find_message_by_external_id(f"django-helpdesk:ticket:{ids['t1']}")
            assert msg is not None
            t1 = desk.get_ticket(msg.ticket_id)
            history = [(h.event, h.at) for h in desk.history(t1.id)]
            messages = [(m.direction, m.created_at) for m in desk.messages(t1.id)]
        finally:
            storage.close()
    assert (summary.imported, len(summary.problems), again.already_imported) == (8, 3, 8)
    assert (t1.status, t1.assignee_id, t1.first_response_at) == ("closed", "alice", at(1))
    assert history == [
        ("register", at(0)),
        ("start_diagnosis", at(1)),
        ("resolve", at(5)),
        ("close", at(24)),
    ]
    assert [w for _, w in messages] == [at(0), at(1), at(2), at(3), at(5)]


def test_imported_history_is_not_relayed_unless_asked(
    helpdesk: tuple[Path, dict[str, Any]], target: Any
) -> None:
    """A relay to a broker forwards no event of the replayed history (other processes would
    hear of old tickets as new), only what happens after; --relay-events keeps them."""
    from supportkit.relay import MemoryRelay, relay_once

    source, _ = helpdesk
    storage = target()
    summary = import_django_helpdesk(str(source), storage, batch_size=4)
    broker = MemoryRelay()
    desk = SupportDesk(storage)
    setup = relay_once(desk, broker)  # the teams and agents the import added
    assert {m.type for m in broker.published} == {"team.saved", "agent.saved"}
    assert setup >= summary.teams_added + summary.agents_added == 4
    live = desk.receive("email", "new@example.com", "A question after the import")
    assert relay_once(desk, broker) == 3
    assert {m.event.ticket_id for m in broker.published[setup:]} == {live.id}  # type: ignore[attr-defined]

    keeping = target("keep.sqlite3")
    again = import_django_helpdesk(str(source), keeping, batch_size=4, relay_events=True)
    kept = MemoryRelay()
    while relay_once(SupportDesk(keeping), kept):
        pass
    per_ticket = [m for m in kept.published if m.type.startswith("ticket.")]
    assert again.imported == 8
    assert len(per_ticket) > 8 * 4  # the replayed history, every ticket's own events
