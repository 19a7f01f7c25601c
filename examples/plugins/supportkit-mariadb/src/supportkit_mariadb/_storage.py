"""MariaDB / MySQL storage for supportkit, written against its public storage ports.

The unit of work is supportkit's shared SQL implementation
(:class:`supportkit.storage.sql.SqlUnitOfWork`, one mixin per port) with the
few statements MariaDB spells differently written here: upserts
(``ON DUPLICATE KEY UPDATE``), insert-if-absent (``INSERT IGNORE``), ticket
numbers from a ``SEQUENCE``, and the one ``UPDATE ... RETURNING`` MariaDB
lacks. Sessions run in ``READ COMMITTED`` with ``ANSI_QUOTES`` and
``NO_BACKSLASH_ESCAPES``, so the shared SQL reads as it does on PostgreSQL.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pymysql  # type: ignore[import-untyped]
from pymysql.constants import CLIENT, ER  # type: ignore[import-untyped]

from supportkit.domain import (
    ConfigurationError,
    DuplicateError,
    NotFound,
    StorageError,
    ValidationError,
)
from supportkit.ports import DEFAULT_DESK, Storage, check_desk_key
from supportkit.storage.sql import SqlUnitOfWork

from ._schema import migrate

__all__ = ["MariaDBStorage", "MariaDBUnitOfWork"]

_SESSION = (
    "SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES,"
    "NO_ENGINE_SUBSTITUTION', SESSION tx_isolation = 'READ-COMMITTED', "
    "time_zone = '+00:00'"
)


def connect_args(url: str) -> dict[str, Any]:
    """PyMySQL's connect() arguments from ``mariadb://user:password@host:port/database``."""
    parts = urlsplit(url)
    if parts.scheme not in ("mariadb", "mysql"):
        raise ConfigurationError(f"{url!r} is not a mariadb:// or mysql:// URL")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigurationError(f"{url!r} names no database: mariadb://user@host:3306/dbname")
    args: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": database,
    }
    for name, value in parse_qsl(parts.query):
        if name == "unix_socket":
            args["unix_socket"] = value
        elif name == "connect_timeout":
            args["connect_timeout"] = int(value)
        else:
            raise ConfigurationError(f"unknown option {name!r} in {url!r}")
    return args


class MariaDBStorage(Storage):
    """Storage in a MariaDB (10.6+) or MySQL-compatible database.

    ``MariaDBStorage("mariadb://root@127.0.0.1:3306/support")``; the database
    must exist, the tables are created on first use. Several processes may
    share it: ticket writes are compare-and-set on their version, and
    whatever a use case decides is decided in its transaction.
    """

    capabilities = frozenset(
        {"transactions", "durable", "concurrent_writers", "concurrent_processes", "desks"}
    )

    def __init__(self, url: str, *, pool_size: int = 8, desk: str = DEFAULT_DESK) -> None:
        self.url = url
        self.desk = check_desk_key(desk)
        self._args = connect_args(url)
        self._pool: list[Any] = []
        self._pool_size = pool_size
        self._lock = threading.Lock()
        conn = self._acquire()
        try:
            self.schema_version = migrate(conn)
        finally:
            self._release(conn)

    def _acquire(self) -> Any:
        with self._lock:
            if self._pool:
                return self._pool.pop()
        try:
            return pymysql.connect(
                **self._args,
                autocommit=False,
                charset="utf8mb4",
                client_flag=CLIENT.FOUND_ROWS,  # rowcount = rows matched, as elsewhere
                init_command=_SESSION,
            )
        except pymysql.MySQLError as exc:
            raise StorageError(f"cannot connect to MariaDB ({self._safe_url()}): {exc}") from exc

    def _release(self, conn: Any) -> None:
        if not conn.open:
            return
        try:
            conn.rollback()
        except pymysql.MySQLError:
            conn.close()
            return
        with self._lock:
            if len(self._pool) < self._pool_size:
                self._pool.append(conn)
                return
        conn.close()

    def _safe_url(self) -> str:
        a = self._args
        return f"{a['user']}@{a['host']}:{a['port']}/{a['database']}"

    def unit_of_work(self) -> MariaDBUnitOfWork:
        return MariaDBUnitOfWork(self)

    def for_desk(self, key: str) -> MariaDBStorage:
        """The same database and pool, scoped to desk *key*."""
        view = copy.copy(self)
        view.desk = check_desk_key(key)
        return view

    def close(self) -> None:
        with self._lock:
            for conn in self._pool:
                conn.close()
            self._pool.clear()


class MariaDBUnitOfWork(SqlUnitOfWork):
    """supportkit's SQL unit of work, with MariaDB's spelling of four statements."""

    dialect = "mariadb"
    paramstyle = "format"
    integrity_errors = (pymysql.err.IntegrityError,)
    driver_errors = (pymysql.MySQLError,)

    def is_transient(self, exc: BaseException) -> bool:
        # 1213: deadlock found; 1205: lock wait timeout; both roll the work back
        code = exc.args[0] if isinstance(exc, pymysql.MySQLError) and exc.args else None
        return code in (1205, 1213)

    def __init__(self, storage: MariaDBStorage) -> None:
        super().__init__()
        self._storage = storage
        self.desk = storage.desk
        self._conn: Any = None

    # -- transaction hooks -----------------------------------------------------------
    def do_begin(self) -> None:
        self._conn = self._storage._acquire()
        self._cur = self._conn.cursor()

    def do_commit(self) -> None:
        try:
            self._conn.commit()
        except pymysql.MySQLError as exc:
            raise StorageError(f"MariaDB commit failed: {exc}") from exc

    def do_rollback(self) -> None:
        if self._conn is not None and self._conn.open:
            self._conn.rollback()

    def do_end(self) -> None:
        if self._cur is not None:
            self._cur.close()
            self._cur = None
        if self._conn is not None:
            self._storage._release(self._conn)
            self._conn = None

    def raw_connection(self) -> Any:
        """The PyMySQL connection of this unit of work (same transaction)."""
        return self._conn

    # -- MariaDB's spelling ----------------------------------------------------------
    def x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return super().x(sql, params)
        except DuplicateError as exc:
            cause = exc.__cause__
            code = cause.args[0] if cause is not None and cause.args else None
            if code != ER.DUP_ENTRY:  # NOT NULL, foreign keys: not a duplicate
                raise StorageError(f"MariaDB refused a write: {cause}") from cause
            raise

    def upsert_sql(self, table: str, keys: Sequence[str], columns: Sequence[str]) -> str:
        cols = (*keys, *columns)
        sets = ", ".join(f"{c} = VALUES({c})" for c in columns)
        return (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON DUPLICATE KEY UPDATE {sets}"
        )

    def insert_ignore_sql(self, table: str, keys: Sequence[str], columns: Sequence[str]) -> str:
        cols = (*keys, *columns)
        return (
            f"INSERT IGNORE INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        )

    def next_ticket_number(self) -> int:
        number = int(self.one("SELECT NEXTVAL(sk_ticket_number)")[0])
        self._allocated.add(number)
        return number

    def bump_ticket_counter(self, number: int) -> None:
        # SETVAL never moves a MariaDB sequence backwards: a lower number is ignored
        self.x("SELECT SETVAL(sk_ticket_number, ?)", (number,))

    def set_message_external_id(self, message_id: str, external_id: str) -> None:
        found = self.one(
            "SELECT external_id FROM sk_messages WHERE desk = ? AND id = ? FOR UPDATE",
            (self.desk, message_id),
        )
        if found is None:
            raise NotFound("message", message_id)
        if found[0] == external_id:
            return
        if found[0] is not None:
            raise ValidationError(
                f"message {message_id!r} has external id {found[0]!r} already; "
                f"it cannot become {external_id!r}"
            )
        try:
            self.x(
                "UPDATE sk_messages SET external_id = ? WHERE desk = ? AND id = ?",
                (external_id, self.desk, message_id),
            )
        except DuplicateError as exc:
            raise DuplicateError(
                f"external id {external_id!r} belongs to another message already; "
                f"it cannot also be message {message_id!r}'s"
            ) from exc.__cause__
