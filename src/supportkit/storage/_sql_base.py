"""The helpers every SQL port mixin shares: one cursor, placeholders, error mapping.

Statements are written once with ``?`` placeholders (the DB-API ``qmark``
style) and translated for drivers using ``format`` (psycopg, PyMySQL) by
:func:`qmark_to_format`. Driver exceptions are wrapped in
:class:`~supportkit.StorageError` (:class:`~supportkit.DuplicateError` for a
unique violation) ``from`` the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain._errors import DuplicateError, StorageError, TransientStorageError
from ..ports._desks import DEFAULT_DESK

__all__ = ["EPOCH", "KEY", "SqlBase", "from_us", "like_escape", "qmark_to_format", "to_us"]

#: the ``key`` column, quoted: KEY is reserved in MySQL/MariaDB (which read it with ANSI_QUOTES)
KEY = '"key"'

#: the instant integer-microsecond columns count from
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(dt: datetime | None) -> int | None:
    """An aware datetime as integer microseconds since the epoch."""
    if dt is None:
        return None
    delta = dt - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int | None) -> datetime | None:
    """The aware UTC datetime *us* microseconds after the epoch (None stays None)."""
    if us is None:
        return None
    return EPOCH + timedelta(microseconds=us)  # exact: integer microseconds, half the cost


def like_escape(text: str) -> str:
    """*text* as a literal inside a ``LIKE ... ESCAPE '\\'`` pattern (``%``, ``_`` and
    ``\\`` escaped). Refuses a NUL: SQLite ends the pattern there, so ``'\\x00'``
    would match everything; callers decide what such a search means."""
    if "\x00" in text:
        raise ValueError("a LIKE pattern cannot hold a NUL character")
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def qmark_to_format(sql: str) -> str:
    """*sql* written with ``?`` placeholders, for a ``format``-style driver (``%s``).

    A literal ``%`` becomes ``%%`` so the driver does not read it as a placeholder.
    Statements must not contain ``?`` inside string literals.
    """
    return sql.replace("%", "%%").replace("?", "%s")


class SqlBase:
    """State and helpers shared by the SQL port mixins (one cursor per unit of work).

    A backend sets ``dialect``, ``paramstyle`` (``"qmark"`` or ``"format"``),
    the driver's exception classes, and ``_cur`` (a DB-API cursor) in its
    ``do_begin``.
    """

    dialect: str = "sqlite"
    #: the driver's placeholder style: "qmark" (``?``, sqlite3) or "format" (``%s``)
    paramstyle: str = "qmark"
    #: exception classes of the driver meaning "unique constraint violated"
    integrity_errors: tuple[type[BaseException], ...] = ()
    driver_errors: tuple[type[BaseException], ...] = ()
    #: the desk every statement is scoped to (``desk = ?`` in each WHERE, a column of
    #: each INSERT); a backend sets it from its storage's desk key
    desk: str = DEFAULT_DESK
    #: driver exceptions meaning "deadlock, serialization failure, lock timeout: retry"
    transient_errors: tuple[type[BaseException], ...] = ()

    def __init__(self) -> None:
        self._cur: Any = None
        self._sql_cache: dict[str, str] = {}
        self._allocated: set[int] = set()
        #: rows as read in this unit of work, to write back only what changed
        self._loaded: dict[str, tuple[Any, ...]] = {}

    def q(self, sql: str) -> str:
        """Translate ``?`` placeholders for the driver."""
        if self.paramstyle == "qmark":
            return sql
        out = self._sql_cache.get(sql)
        if out is None:
            out = self._sql_cache[sql] = qmark_to_format(sql)
        return out

    def x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Execute *sql*; returns the cursor. Maps driver errors to supportkit's."""
        try:
            self._cur.execute(self.q(sql), params)  # DB-API leaves execute's result undefined
            return self._cur
        except self.integrity_errors as exc:
            raise DuplicateError(f"a unique value is stored already: {exc}") from exc
        except self.driver_errors as exc:
            if self.is_transient(exc):
                raise TransientStorageError(
                    f"{self.dialect} gave up on the transaction ({exc}); nothing was written, "
                    "the use case may be retried"
                ) from exc
            raise StorageError(f"{self.dialect} failed: {exc}") from exc

    def is_transient(self, exc: BaseException) -> bool:
        """True if *exc* means the transaction may succeed when run again."""
        return isinstance(exc, self.transient_errors)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of *sql*'s result, or None."""
        self.x(sql, params)
        return self._cur.fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of *sql*'s result."""
        self.x(sql, params)
        return list(self._cur.fetchall())

    def upsert_sql(self, table: str, keys: Sequence[str], columns: Sequence[str]) -> str:
        """``INSERT`` of *keys* + *columns* that replaces *columns* of an existing row.

        The default is the ``ON CONFLICT ... DO UPDATE`` of SQLite and
        PostgreSQL; a backend for another database overrides this one method.
        """
        cols = (*keys, *columns)
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns)
        return (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
        )

    def insert_ignore_sql(self, table: str, keys: Sequence[str], columns: Sequence[str]) -> str:
        """``INSERT`` of *keys* + *columns* that does nothing when the key exists.

        The cursor's ``rowcount`` is then 1 for a new row and 0 otherwise. The
        default is SQLite's and PostgreSQL's ``ON CONFLICT ... DO NOTHING``.
        """
        cols = (*keys, *columns)
        return (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
        )
