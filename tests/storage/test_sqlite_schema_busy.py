"""Opening a SQLite storage while another process writes: it waits, and never leaks a raw
``sqlite3.OperationalError``.

The writer runs in another process (spawned), as a real deployment's web
worker or import would.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from supportkit import DatabaseBusy, SupportKitError, TransientStorageError
from supportkit.storage import Migration, SchemaComponent
from supportkit.storage.sqlite import SQLiteStorage

_CTX = multiprocessing.get_context("spawn")

EXTRA = SchemaComponent(
    "test.extra",
    (Migration(1, "a table", ["CREATE TABLE test_extra (id INTEGER PRIMARY KEY)"], []),),
)


def write_heavily(path: str, started: Any, stop: Any) -> None:
    """Receive tickets in batches of 50 (one transaction each) until told to stop."""
    from supportkit import SupportDesk

    storage = SQLiteStorage(path, background_checkpoint=None)
    desk = SupportDesk(storage)
    i = 0
    while not stop.is_set():
        with desk.batch():
            for _ in range(50):
                desk.receive("email", f"c{i}@example.com", "a message")
                i += 1
        started.set()
    storage.close()


def hold_write_lock(path: str, holding: Any, seconds: float) -> None:
    """Hold SQLite's write lock (an open BEGIN IMMEDIATE) for *seconds*."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO sk_schema (component, version) VALUES ('test.holder', 1)")
    holding.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "desk.sqlite3")
    SQLiteStorage(path).close()  # the schema is in place, as in a running deployment
    return path


def _start(target: Any, *args: Any) -> Any:
    process = _CTX.Process(target=target, args=args)
    process.start()
    return process


def test_opening_while_another_process_writes_heavily_does_not_fail(db: str) -> None:
    started, stop = _CTX.Event(), _CTX.Event()
    writer = _start(write_heavily, db, started, stop)
    try:
        assert started.wait(30), "the writer never committed"
        for _ in range(20):  # a busy timeout far shorter than one of the writer's batches
            SQLiteStorage(db, busy_timeout_ms=20, background_checkpoint=None).close()
    finally:
        stop.set()
        writer.join(30)
    assert writer.exitcode == 0


def test_a_schema_change_waits_for_the_writer_to_let_go(db: str) -> None:
    holding = _CTX.Event()
    holder = _start(hold_write_lock, db, holding, 1.0)
    try:
        assert holding.wait(30)
        began = time.monotonic()
        storage = SQLiteStorage(
            db, components=[EXTRA], busy_timeout_ms=50, schema_timeout=30
        )  # each statement gives up after 50 ms; the schema setup tries again
        waited = time.monotonic() - began
    finally:
        holder.join(30)
    try:
        assert storage.schema_versions["test.extra"] == 1
        assert waited > 0.3  # it did wait for the holder's lock
        storage.connection().execute("SELECT COUNT(*) FROM test_extra").fetchone()
    finally:
        storage.close()


def test_a_writer_holding_the_lock_throughout_gives_database_busy(db: str) -> None:
    holding = _CTX.Event()
    holder = _start(hold_write_lock, db, holding, 5.0)
    try:
        assert holding.wait(30)
        with pytest.raises(DatabaseBusy, match="schema_timeout") as caught:
            SQLiteStorage(db, components=[EXTRA], busy_timeout_ms=50, schema_timeout=0.5)
    finally:
        holder.kill()
        holder.join(30)
    assert isinstance(caught.value, TransientStorageError)
    assert isinstance(caught.value, SupportKitError)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    with SQLiteStorage(db, components=[EXTRA]) as storage:  # nothing half-done: it migrates now
        assert storage.schema_versions["test.extra"] == 1
