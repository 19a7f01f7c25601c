"""The scale-out backend: PostgreSQL through psycopg 3.

Several application processes share one database: every unit of work is a
READ COMMITTED transaction, ticket writes are compare-and-set on the
version column (a stale write raises ConcurrencyConflict and writes
nothing), ticket numbers come from a sequence, and the schema is migrated
under an advisory lock so concurrent starts are safe. Connections are kept
in a small pool; a host may pass its own ``connect`` callable instead of a
conninfo string to put supportkit's tables in its own database.

Install with ``pip install supportkit[postgres]``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..domain._errors import ConfigurationError, StorageError, TransientStorageError
from ..domain._redact import redact_url, scrub, secrets_of
from ..ports._desks import DEFAULT_DESK, check_desk_key, desk_view
from ..ports._storage import Storage
from ._coordination_schema import COORDINATION_MIGRATIONS
from ._migrate import migrate
from ._sql import SqlUnitOfWork
from ._sql_schema import CORE_MIGRATIONS, SchemaComponent

__all__ = ["PostgresStorage", "PostgresUnitOfWork", "install_row_level_security"]

#: the setting each transaction sets to its desk key when row-level security is on
DESK_SETTING = "supportkit.desk"
_POLICY = "sk_desk_scope"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "PostgresStorage needs psycopg: pip install 'supportkit[postgres]'"
        ) from exc
    return psycopg


class PostgresStorage(Storage):
    """PostgreSQL storage; ``conninfo`` like ``"postgresql://user@127.0.0.1:5432/db"``."""

    capabilities = frozenset(
        {"transactions", "durable", "concurrent_writers", "concurrent_processes", "sql", "desks"}
    )
    dialect = "postgresql"

    def __init__(
        self,
        conninfo: str = "",
        *,
        connect: Callable[[], Any] | None = None,
        components: Sequence[SchemaComponent] = (),
        pool_size: int = 8,
        desk: str = DEFAULT_DESK,
        row_level_security: bool = False,
    ) -> None:
        self.desk = check_desk_key(desk)
        #: set ``supportkit.desk`` in every transaction, for the policies of
        #: :func:`install_row_level_security` (the database then enforces the scoping too)
        self.row_level_security = row_level_security
        psycopg = _psycopg()
        self._psycopg = psycopg
        if connect is None:
            if not conninfo:
                raise ConfigurationError(
                    "PostgresStorage needs a conninfo (postgresql://...) or a connect= callable"
                )

            def connect() -> Any:
                try:
                    return psycopg.connect(conninfo, autocommit=False)
                except psycopg.Error as exc:
                    hidden = secrets_of(conninfo)
                    raise StorageError(
                        f"cannot connect to PostgreSQL ({redact_url(conninfo)}): "
                        f"{scrub(str(exc), hidden)}"
                    ) from None  # the driver's error may echo the password

        self._connect = connect
        #: what connect() returned, by the psycopg connection inside it (SQLAlchemy's
        #: engine.raw_connection() wraps one; closing the wrapper returns it to its pool)
        self._owners: dict[int, Any] = {}
        self._pool: list[Any] = []
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self.components: tuple[SchemaComponent, ...] = (
            CORE_MIGRATIONS,
            COORDINATION_MIGRATIONS,
            *components,
        )
        conn = self._acquire()
        try:
            self.schema_versions = migrate(conn, "postgresql", self.components, lambda c: None)
        finally:
            self._release(conn)

    def _acquire(self) -> Any:
        with self._lock:
            while self._pool:
                conn = self._pool.pop()
                if not conn.closed:
                    return conn
        got = self._connect()
        conn = getattr(got, "driver_connection", None) or got
        if conn is not got:
            self._owners[id(conn)] = got
        return conn

    def _close(self, conn: Any) -> None:
        (self._owners.pop(id(conn), None) or conn).close()

    def _release(self, conn: Any) -> None:
        if conn.closed:
            self._owners.pop(id(conn), None)
            return
        if conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        with self._lock:
            if len(self._pool) < self._pool_size:
                self._pool.append(conn)
                return
        self._close(conn)

    def unit_of_work(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self)

    def for_desk(self, key: str) -> PostgresStorage:
        """The same database and pool, scoped to desk *key* (see :meth:`Storage.for_desk`)."""
        return desk_view(self, key)

    def close(self) -> None:
        with self._lock:
            for conn in self._pool:
                self._close(conn)
            self._pool.clear()


class PostgresUnitOfWork(SqlUnitOfWork):
    dialect = "postgresql"
    paramstyle = "format"

    def __init__(self, storage: PostgresStorage) -> None:
        super().__init__()
        self.desk = storage.desk
        self._storage = storage
        psycopg = storage._psycopg
        self.integrity_errors = (psycopg.errors.UniqueViolation,)
        self.driver_errors = (psycopg.Error,)
        self.transient_errors = (
            psycopg.errors.DeadlockDetected,
            psycopg.errors.SerializationFailure,
            psycopg.errors.LockNotAvailable,
        )
        self._conn: Any = None

    def do_begin(self) -> None:
        self._conn = self._storage._acquire()
        self._cur = self._conn.cursor()
        if self._storage.row_level_security:
            self.x("SELECT set_config(?, ?, true)", (DESK_SETTING, self.desk))

    def do_commit(self) -> None:
        try:
            self._conn.commit()
        except self.driver_errors as exc:
            if self.is_transient(exc):
                raise TransientStorageError(
                    f"PostgreSQL refused the commit ({exc}); retry the use case"
                ) from exc
            raise StorageError(f"PostgreSQL commit failed: {exc}") from exc

    def do_rollback(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.rollback()

    def do_end(self) -> None:
        if self._cur is not None:
            self._cur.close()
            self._cur = None
        if self._conn is not None:
            self._storage._release(self._conn)
            self._conn = None

    def raw_connection(self) -> Any:
        """The psycopg connection of this unit of work (same transaction), for extensions."""
        return self._conn


def install_row_level_security(conn: Any) -> list[str]:
    """Make PostgreSQL itself keep desks apart: a policy on every supportkit table with a
    ``desk`` column lets a transaction see and write only the rows of the desk named in
    its ``supportkit.desk`` setting (none when unset).

    Run it once as the tables' owner, on a psycopg connection whose search_path is
    supportkit's schema (it commits); then open the application's storages with
    ``PostgresStorage(..., row_level_security=True)`` as a role that is neither
    the owner nor a superuser (superusers bypass row-level security). Returns
    the tables now protected.
    """
    rows = conn.execute(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'desk' "
        "AND table_schema = current_schema() AND table_name LIKE 'sk\\_%' ORDER BY 1"
    ).fetchall()
    tables = [str(r[0]) for r in rows]
    check = f"desk = current_setting('{DESK_SETTING}', true)"
    for table in tables:
        conn.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        conn.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        conn.execute(f"DROP POLICY IF EXISTS {_POLICY} ON {table}")
        conn.execute(f"CREATE POLICY {_POLICY} ON {table} USING ({check}) WITH CHECK ({check})")
    conn.commit()
    return tables
