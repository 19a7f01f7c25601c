"""Several processes writing through their own sqlite3 connections handed to HostStorage.

A host's plain ``sqlite3`` connection (its default, deferred transactions) in
WAL mode: when supportkit opens the transaction, it takes the write lock at
once, so writers in other processes queue on the busy timeout. A deferred
transaction that read first could not write any more once another process
had committed ("database is locked" at once, no wait), and most use cases of
concurrent processes failed with a StorageError.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from supportkit import SupportDesk, TransientStorageError
from supportkit.storage.host import HostStorage


def _wal_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    HostStorage(conn).close()
    conn.commit()
    conn.close()


def test_a_use_case_keeps_its_write_lock_from_its_first_read(tmp_path: Path) -> None:
    path = tmp_path / "host.sqlite3"
    _wal_database(path)
    conn = sqlite3.connect(path)
    other = sqlite3.connect(path, timeout=0)  # another process, not waiting
    other.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    other.commit()
    refused: list[str] = []

    def between_statements(sql: str) -> None:
        # the other process writes and commits after the use case's reads, before its
        # first write
        if sql.startswith("INSERT") and not refused:
            try:
                other.execute("INSERT INTO orders DEFAULT VALUES")
                other.commit()
                refused.append("")
            except sqlite3.OperationalError as exc:
                other.rollback()
                refused.append(str(exc))

    conn.set_trace_callback(between_statements)
    desk = SupportDesk(HostStorage(conn, install_schema=False))
    ticket = desk.receive("email", "ann@example.com", "Hello")  # was: StorageError, locked
    conn.set_trace_callback(None)
    conn.commit()
    assert refused == ["database is locked"]  # the other writer waited for this one
    assert ticket.number == 1
    other.execute("INSERT INTO orders DEFAULT VALUES")  # and writes once it committed
    other.commit()
    other.close()
    conn.close()


def _receive_many(path: str, worker: int, count: int, out: Any) -> None:
    conn = sqlite3.connect(path, timeout=30)
    desk = SupportDesk(HostStorage(conn, install_schema=False))
    numbers: list[int | str] = []
    for i in range(count):
        try:
            numbers.append(desk.receive("email", f"w{worker}-{i}@example.com", "help").number)
            conn.commit()
        except Exception as exc:  # reported to the parent, which fails the test
            conn.rollback()
            numbers.append(f"{type(exc).__name__}: {exc}")
    conn.close()
    out.put((worker, numbers))


def test_processes_on_host_connections_all_write_and_never_share_a_number(
    tmp_path: Path,
) -> None:
    path = tmp_path / "host.sqlite3"
    _wal_database(path)
    workers, count = 3, 20
    out: Any = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_receive_many, args=(str(path), w, count, out))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    failures = [n for numbers in results.values() for n in numbers if isinstance(n, str)]
    assert failures == []
    for numbers in results.values():
        assert numbers == sorted(numbers)  # each process sees its numbers grow
    every = sorted(n for numbers in results.values() for n in numbers)
    assert every == list(range(1, workers * count + 1))
    stored = sqlite3.connect(path).execute("SELECT COUNT(*) FROM sk_tickets").fetchone()[0]
    assert stored == workers * count


def test_a_write_lock_held_past_the_busy_timeout_is_a_retryable_error(tmp_path: Path) -> None:
    path = tmp_path / "host.sqlite3"
    _wal_database(path)
    conn = sqlite3.connect(path, timeout=0.05)
    desk = SupportDesk(HostStorage(conn, install_schema=False), retries=0)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process keeps the write lock
    with pytest.raises(TransientStorageError):  # was: StorageError, not to be retried
        desk.receive("email", "ann@example.com", "Hello")
    assert not conn.in_transaction  # nothing left open on the host's connection
    holder.execute("ROLLBACK")
    assert desk.receive("email", "ann@example.com", "Hello").number == 1
    conn.commit()
    holder.close()
    conn.close()
