"""A storage on the host's own connection joins the host's transaction.

Each kind of connection a host may hand over (sqlite3, psycopg, a SQLAlchemy
Connection or Session, ``engine.raw_connection()``) is run against a real
SQLite file and the real PostgreSQL server: the host's rollback undoes its
own rows and the ticket together, its commit keeps both and publishes the
events, and supportkit never commits, rolls back or closes the connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from supportkit import FakeClock, StorageError, SupportDesk
from supportkit.domain._events import DomainEvent
from supportkit.storage.host import HostStorage

from ..pg import pg_schema


@attrs.define
class Host:
    """What the host holds: the connection it hands over and its own statements."""

    conn: Any
    execute: Callable[[str], Any]
    commit: Callable[[], None]
    rollback: Callable[[], None]
    closed: Callable[[], bool]
    publishes_on_commit: bool = False  # the framework announces commits (Session)


def _sqlite3(path: Path) -> Iterator[Host]:
    conn = sqlite3.connect(path)
    yield Host(conn, conn.execute, conn.commit, conn.rollback, lambda: _sqlite_closed(conn))
    conn.close()


def _sqlite_closed(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


def _psycopg(url: str) -> Iterator[Host]:
    import psycopg

    conn = psycopg.connect(url)
    yield Host(conn, conn.execute, conn.commit, conn.rollback, lambda: conn.closed)
    conn.close()


def _sa_connection(url: str) -> Iterator[Host]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    conn = engine.connect()
    yield Host(
        conn,
        lambda sql: conn.exec_driver_sql(sql),
        conn.commit,
        conn.rollback,
        lambda: conn.closed,
    )
    conn.close()
    engine.dispose()


def _sa_session(url: str) -> Iterator[Host]:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    engine = sa.create_engine(url)
    session = Session(engine)
    yield Host(
        session,
        lambda sql: session.execute(sa.text(sql)),
        session.commit,
        session.rollback,
        lambda: False,
        publishes_on_commit=True,
    )
    session.close()
    engine.dispose()


def _sa_raw(url: str) -> Iterator[Host]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    driver = raw.driver_connection

    def execute(sql: str) -> Any:
        cur = raw.cursor()
        cur.execute(sql)
        return cur

    yield Host(raw, execute, raw.commit, raw.rollback, lambda: _closed(driver))
    raw.close()
    engine.dispose()


def _closed(driver: Any) -> bool:
    return _sqlite_closed(driver) if isinstance(driver, sqlite3.Connection) else driver.closed


KINDS = {
    "sqlite3": lambda tmp, pg: _sqlite3(tmp / "host.sqlite3"),
    "sqlalchemy-connection-sqlite": lambda tmp, pg: _sa_connection(f"sqlite:///{tmp}/sa.sqlite3"),
    "sqlalchemy-session-sqlite": lambda tmp, pg: _sa_session(f"sqlite:///{tmp}/sas.sqlite3"),
    "sqlalchemy-raw-sqlite": lambda tmp, pg: _sa_raw(f"sqlite:///{tmp}/raw.sqlite3"),
    "psycopg": lambda tmp, pg: _psycopg(pg()),
    "sqlalchemy-connection-postgresql": lambda tmp, pg: _sa_connection(_sa_url(pg())),
    "sqlalchemy-session-postgresql": lambda tmp, pg: _sa_session(_sa_url(pg())),
    "sqlalchemy-raw-postgresql": lambda tmp, pg: _sa_raw(_sa_url(pg())),
}


def _sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=sorted(KINDS))
def host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Host]:
    with _PgSchemas() as pg:
        gen = KINDS[request.param](tmp_path, pg)
        h = next(gen)
        h.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)")
        h.commit()
        yield h
        h.rollback()
        for _ in gen:
            pass


class _PgSchemas:
    """A fresh PostgreSQL schema on first use (so SQLite kinds never need the server)."""

    def __init__(self) -> None:
        self._cm: Any = None
        self.url = ""

    def __call__(self) -> str:
        if self._cm is None:
            self._cm = pg_schema()
            self.url = self._cm.__enter__()
        return self.url

    def __enter__(self) -> _PgSchemas:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._cm is not None:
            self._cm.__exit__(None, None, None)


def _desk(host: Host) -> tuple[SupportDesk, HostStorage, list[DomainEvent]]:
    storage = HostStorage(host.conn)
    host.commit()  # the schema lands with the host's commit
    desk = SupportDesk(storage, clock=FakeClock())
    seen: list[DomainEvent] = []
    desk.signals.event.connect(lambda sender, event: seen.append(event), weak=False)
    return desk, storage, seen


def _count(host: Host, table: str) -> int:
    return int(host.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_the_hosts_rollback_undoes_its_order_and_the_ticket_and_publishes_nothing(
    host: Host,
) -> None:
    desk, _storage, seen = _desk(host)
    host.execute("INSERT INTO orders (id, item) VALUES (1, 'lamp')")
    created = desk.receive("email", "ann@example.com", "Where is my lamp?")
    assert desk.get_ticket(created.id).subject  # visible inside the host's transaction
    host.rollback()
    assert desk.flush() == 0
    assert seen == []
    assert _count(host, "orders") == 0
    assert _count(host, "sk_tickets") == 0
    assert _count(host, "sk_events") == 0
    host.rollback()


def test_the_hosts_commit_keeps_both_and_publishes_the_events(host: Host) -> None:
    desk, _storage, seen = _desk(host)
    host.execute("INSERT INTO orders (id, item) VALUES (2, 'desk')")
    created = desk.receive("email", "bob@example.com", "My desk wobbles")
    assert seen == []  # nothing is published before the host commits
    host.commit()
    published = len(seen) if host.publishes_on_commit else desk.flush()
    assert published > 0
    assert {e.ticket_id for e in seen} == {created.id}
    assert "ticket.received" in {e.type_name for e in seen}
    assert desk.flush() == 0  # each event once
    assert _count(host, "orders") == 1
    assert _count(host, "sk_tickets") == 1
    host.rollback()


def test_a_failing_use_case_undoes_only_its_own_writes(host: Host) -> None:
    desk, _storage, seen = _desk(host)
    host.execute("INSERT INTO orders (id, item) VALUES (3, 'chair')")
    first = desk.receive("email", "cy@example.com", "Chair arrived broken")

    def half_done(ctx: Any) -> None:
        ctx.uow.kv_put("test", "k", {"half": True})
        raise ValueError("the use case fails after writing")

    with pytest.raises(ValueError, match="fails after writing"):
        desk.run(half_done)
    host.commit()
    if not host.publishes_on_commit:
        desk.flush()
    assert _count(host, "orders") == 1  # the host's row and the first ticket survive
    assert _count(host, "sk_tickets") == 1
    assert _count(host, "sk_kv") == 0  # the failed use case left nothing
    assert {e.ticket_id for e in seen} == {first.id}
    host.rollback()


def test_supportkit_never_closes_or_commits_the_hosts_connection(host: Host) -> None:
    desk, storage, _seen = _desk(host)
    host.execute("INSERT INTO orders (id, item) VALUES (4, 'pen')")
    desk.receive("email", "di@example.com", "Pen leaks")
    storage.close()
    assert not host.closed()
    host.rollback()  # still the host's transaction, still undoable after close()
    assert _count(host, "orders") == 0
    assert _count(host, "sk_tickets") == 0
    host.rollback()


def test_flush_before_the_hosts_commit_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "f.sqlite3")
    desk = SupportDesk(HostStorage(conn), clock=FakeClock())
    desk.receive("email", "ed@example.com", "Hello")
    with pytest.raises(StorageError, match="commit"):
        desk.flush()
    conn.commit()
    assert desk.flush() > 0
    conn.close()


def test_a_query_leaves_no_transaction_open_on_the_hosts_connection(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "q.sqlite3")
    desk = SupportDesk(HostStorage(conn), clock=FakeClock())
    conn.commit()
    created = desk.receive("email", "fi@example.com", "Hello")
    conn.commit()
    desk.flush()
    assert desk.get_ticket(created.id).id == created.id
    assert not conn.in_transaction
    conn.close()


def test_an_autocommit_connection_gets_a_transaction_the_host_commits(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.sqlite3", isolation_level=None)
    desk = SupportDesk(HostStorage(conn), clock=FakeClock())
    conn.execute("COMMIT")
    desk.receive("email", "gu@example.com", "Hello")
    assert conn.in_transaction  # left open for the host, never committed by supportkit
    other = sqlite3.connect(tmp_path / "a.sqlite3")
    assert other.execute("SELECT COUNT(*) FROM sk_tickets").fetchone()[0] == 0
    conn.execute("COMMIT")
    assert other.execute("SELECT COUNT(*) FROM sk_tickets").fetchone()[0] == 1
    other.close()
    conn.close()


def test_events_of_a_rolled_back_transaction_are_not_published_after_a_later_commit(
    tmp_path: Path,
) -> None:
    """SQLite reuses a rolled-back sequence number; flush compares the event, not the number."""
    conn = sqlite3.connect(tmp_path / "r.sqlite3")
    desk = SupportDesk(HostStorage(conn), clock=FakeClock())
    conn.commit()
    seen: list[DomainEvent] = []
    desk.signals.event.connect(lambda sender, event: seen.append(event), weak=False)
    gone = desk.receive("email", "ha@example.com", "Forget me")
    conn.rollback()
    kept = desk.receive("email", "ib@example.com", "Keep me")
    conn.commit()
    desk.flush()
    assert {e.ticket_id for e in seen} == {kept.id}
    assert gone.id != kept.id
    conn.close()


def test_a_sqlalchemy_engines_raw_connections_feed_the_postgres_pool() -> None:
    import sqlalchemy as sa

    from supportkit.storage.postgres import PostgresStorage

    with pg_schema() as url:
        engine = sa.create_engine(_sa_url(url))
        with PostgresStorage(connect=engine.raw_connection) as storage:
            desk = SupportDesk(storage, clock=FakeClock())
            created = desk.receive("email", "jo@example.com", "Through SQLAlchemy's pool")
            assert desk.get_ticket(created.id).subject
        engine.dispose()
