"""The embedded default: SQLite through the standard library's ``sqlite3``.

One file, WAL journal, ``synchronous=FULL`` (every commit is on disk before
it returns; ``synchronous="NORMAL"`` is the documented opt-in that trades the
last commits before a power loss for speed); each thread gets its own
connection, every unit of work is a ``BEGIN IMMEDIATE`` transaction (writers
queue on SQLite's lock with a busy timeout instead of failing half-way), and
the schema is versioned and migrated when the storage is opened.

>>> from supportkit.storage.sqlite import SQLiteStorage
>>> storage = SQLiteStorage("supportkit.sqlite3")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

from ..domain._errors import (
    ConfigurationError,
    DatabaseBusy,
    StorageError,
    TransientStorageError,
)
from ..ports._desks import DEFAULT_DESK, check_desk_key, desk_view
from ..ports._storage import Storage
from ._coordination_schema import COORDINATION_MIGRATIONS
from ._migrate import migrate
from ._sql import SqlUnitOfWork
from ._sql_schema import CORE_MIGRATIONS, SchemaComponent

__all__ = ["SQLiteStorage", "SQLiteUnitOfWork"]

log = logging.getLogger("supportkit.storage.sqlite")


class SQLiteStorage(Storage):
    """SQLite storage in a file (created when missing).

    *background_checkpoint*: seconds between WAL checkpoints on a background
    thread (``None``: SQLite's inline automatic checkpoints). *page_size*: for
    a new file only (an existing file keeps its own). The default, 2 KiB, is
    half SQLite's 4 KiB: a use case dirties a handful of pages in several
    indexes, and every dirty page is written whole to the WAL at commit, so
    smaller pages make each commit cheaper (see benchmarks/README.md); ``None``
    leaves SQLite's default. *synchronous*: ``"FULL"`` (default) syncs the WAL at
    every commit, so a committed use case survives a power loss, and the storage
    declares the ``durable`` capability; ``"NORMAL"`` skips that sync (faster;
    the database stays consistent but the last commits before a power loss or
    OS crash may be lost, so ``durable`` is not declared); ``"EXTRA"`` and
    ``"OFF"`` are accepted too. From a URL: ``sqlite:///desk.db?synchronous=normal``.
    """

    #: write transactions are serialised (BEGIN IMMEDIATE), so two units of work never
    #: interleave; a stale write from an earlier read still raises ConcurrencyConflict.
    #: ``durable`` is added only with ``synchronous`` FULL or EXTRA (see __init__).
    capabilities = frozenset(
        {"transactions", "serialized_writers", "concurrent_processes", "sql", "desks"}
    )
    dialect = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str] = "supportkit.sqlite3",
        *,
        components: Sequence[SchemaComponent] = (),
        busy_timeout_ms: int = 10_000,
        synchronous: str = "FULL",
        background_checkpoint: float | None = 0.25,
        page_size: int | None = 2048,
        desk: str = DEFAULT_DESK,
        schema_timeout: float = 60.0,
    ) -> None:
        self.desk = check_desk_key(desk)
        self.path = os.fspath(path)
        if page_size is not None and (
            page_size < 512 or page_size > 65536 or page_size & (page_size - 1)
        ):
            raise StorageError(f"page_size {page_size} is not a power of two between 512 and 65536")
        # only a new database takes a page size; an existing file keeps its own
        self._page_size = page_size if not os.path.exists(self.path) else None
        if self.path == ":memory:":
            raise StorageError(
                "SQLiteStorage needs a file (each thread opens its own connection); "
                "use MemoryStorage for a throwaway desk, or a temporary file"
            )
        self._busy = busy_timeout_ms
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ConfigurationError(
                f"unknown synchronous mode {synchronous!r}; use FULL (the default), NORMAL, "
                "EXTRA or OFF"
            )
        self._sync = synchronous.upper()
        if self._sync in ("FULL", "EXTRA"):
            # WAL with NORMAL may lose the last commits on power loss (the database stays
            # consistent); only FULL and EXTRA sync the WAL at every commit
            self.capabilities = type(self).capabilities | {"durable"}
        self._autocheckpoint = 20_000 if background_checkpoint is not None else 1000
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self.components: tuple[SchemaComponent, ...] = (
            CORE_MIGRATIONS,
            COORDINATION_MIGRATIONS,
            *components,
        )
        self.schema_versions = self._migrate(schema_timeout)
        self._checkpointer: _Checkpointer | None = None
        if background_checkpoint is not None:
            if background_checkpoint <= 0:
                raise StorageError("background_checkpoint is an interval in seconds (> 0) or None")
            self._checkpointer = _Checkpointer(self, background_checkpoint)

    def _migrate(self, timeout: float) -> dict[str, int]:
        """Check (and bring up to date) the schema, waiting up to *timeout* seconds in all
        while other processes hold the write lock; DatabaseBusy if they hold it throughout."""
        deadline = time.monotonic() + timeout
        pause = 0.01
        while True:
            try:
                return migrate(
                    self.connection(),
                    "sqlite",
                    self.components,
                    lambda c: c.execute("BEGIN IMMEDIATE"),
                )
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise StorageError(
                        f"cannot set up the schema of SQLite database {self.path!r}: {exc}"
                    ) from exc
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DatabaseBusy(
                        f"SQLite database {self.path!r} stayed locked by other writers for "
                        f"{timeout:g}s while its schema was being checked ({exc}); retry when "
                        "the bulk write is over, or open it with a longer schema_timeout"
                    ) from exc
                log.info(
                    "SQLite %s is locked by another writer; waiting to set up the schema", self.path
                )
                time.sleep(min(pause, left) * random.uniform(0.5, 1.0))
                pause = min(pause * 2, 0.5)
            except sqlite3.Error as exc:
                raise StorageError(
                    f"cannot set up the schema of SQLite database {self.path!r}: {exc}"
                ) from exc

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path,
                    isolation_level=None,
                    check_same_thread=False,
                    timeout=self._busy / 1000,
                    cached_statements=256,
                )
                conn.execute(f"PRAGMA busy_timeout = {self._busy}")
                if self._page_size is not None:
                    conn.execute(f"PRAGMA page_size = {self._page_size}")
                    self._page_size = None
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(f"PRAGMA synchronous = {self._sync}")
                conn.execute("PRAGMA temp_store = MEMORY")
                conn.execute("PRAGMA cache_size = -65536")
                # the background checkpointer keeps the WAL short; this is only the
                # safety net if it falls behind (or is switched off: SQLite's 1000)
                conn.execute(f"PRAGMA wal_autocheckpoint = {self._autocheckpoint}")
            except sqlite3.Error as exc:
                raise StorageError(f"cannot open SQLite database {self.path!r}: {exc}") from exc
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def unit_of_work(self) -> SQLiteUnitOfWork:
        uow = SQLiteUnitOfWork(self.connection())
        uow.desk = self.desk
        return uow

    def for_desk(self, key: str) -> SQLiteStorage:
        """The same file and connections, scoped to desk *key* (see :meth:`Storage.for_desk`)."""
        return desk_view(self, key)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class _Checkpointer:
    """Copies the WAL back into the database file off the request path.

    SQLite's automatic checkpoint runs inside whichever commit crosses the
    threshold, so one use case in a few hundred pays for the copying (and its
    fsync). This thread runs a PASSIVE checkpoint every *interval* seconds on
    its own connection instead (sqlite3 releases the GIL while it works), so
    commits only append to the WAL. It holds the storage weakly and stops
    when the storage is closed or garbage-collected.
    """

    def __init__(self, storage: SQLiteStorage, interval: float) -> None:
        self._ref = weakref.ref(storage)
        self._path = storage.path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"supportkit-checkpoint:{storage.path}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:  # pragma: no cover - the storage opened the same file already
            return
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            while not self._stop.wait(self._interval):
                if self._ref() is None:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy or locked: try again next round
                    log.debug("background checkpoint of %s skipped: %s", self._path, exc)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def _is_busy(exc: sqlite3.Error) -> bool:
    """The busy timeout ran out: another writer held the database the whole time."""
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


class SQLiteUnitOfWork(SqlUnitOfWork):
    dialect = "sqlite"
    integrity_errors = (sqlite3.IntegrityError,)
    driver_errors = (sqlite3.Error,)

    def is_transient(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and _is_busy(exc)

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self._conn = conn
        self._open = False

    def do_begin(self) -> None:
        if self._conn.in_transaction:
            raise StorageError(
                "a unit of work is already open on this thread's SQLite connection; "
                "units of work do not nest"
            )
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if self.is_transient(exc):
                raise TransientStorageError(
                    f"SQLite stayed locked by another writer ({exc}); retry the use case"
                ) from exc
            raise StorageError(f"cannot begin a SQLite transaction: {exc}") from exc
        self._open = True
        self._cur = self._conn.cursor()

    def do_commit(self) -> None:
        self.settle_ticket_numbers()
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite commit failed: {exc}") from exc
        self._open = False

    def do_rollback(self) -> None:
        if self._open and self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        self._open = False

    def do_end(self) -> None:
        if self._cur is not None:
            self._cur.close()
            self._cur = None

    def raw_connection(self) -> Any:
        """The sqlite3 connection, for extensions that need SQL of their own (same transaction)."""
        return self._conn
