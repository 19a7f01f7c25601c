"""Connections a host owns, seen through one small interface.

A host hands supportkit its own connection: a ``sqlite3.Connection``, a
``psycopg.Connection``, a SQLAlchemy ``Connection`` or ``Session``, what
``engine.raw_connection()`` returns, or Django's connection. Whatever the
kind, supportkit runs its statements on the underlying DB-API connection and
brackets each unit of work with a SAVEPOINT, so a failing use case undoes
only its own writes; it never commits, rolls back or closes the host's
transaction. Where the host's framework announces its commits (Django's
``transaction.on_commit``, a SQLAlchemy ``Session``'s ``after_commit``),
the desk's events are published from there; otherwise they wait for
:meth:`~supportkit.storage.host.HostStorage.flush`.
"""

from __future__ import annotations

import importlib
import itertools
import sqlite3
from collections.abc import Callable
from typing import Any

from ..domain._errors import ConfigurationError, StorageError, TransientStorageError
from .sqlite import _is_busy

__all__ = ["HostConnection", "adapt", "driver_errors"]

_names = itertools.count(1)


def driver_errors(conn: Any) -> tuple[type[BaseException], type[BaseException]]:
    """(any driver error, unique violation) of a DB-API connection."""
    if isinstance(conn, sqlite3.Connection):
        return sqlite3.Error, sqlite3.IntegrityError
    psycopg = importlib.import_module("psycopg")
    return psycopg.Error, psycopg.errors.UniqueViolation


def _dialect(conn: Any) -> str:
    if isinstance(conn, sqlite3.Connection):
        return "sqlite"
    module = type(conn).__module__
    if module.startswith("psycopg2"):
        raise ConfigurationError(
            "supportkit joins PostgreSQL connections of psycopg 3, not psycopg2; "
            "pip install 'psycopg[binary]' (Django 4.2+ and SQLAlchemy 2 use it when installed)"
        )
    if module.startswith("psycopg"):
        return "postgresql"
    raise ConfigurationError(
        f"cannot join a connection of type {type(conn).__module__}.{type(conn).__qualname__}; "
        "pass a sqlite3 or psycopg 3 connection, a SQLAlchemy Connection or Session, "
        "engine.raw_connection(), or Django's connection"
    )


class HostConnection:
    """A DB-API connection the host owns; savepoints issued on the driver itself.

    *end_empty*: a unit of work that found no transaction open and wrote
    nothing ends the read-only transaction it opened (it holds none of the
    host's work), so a query does not leave the host's connection in a
    transaction.
    """

    #: one connection for every thread (Django's is looked up per thread)
    shared = True

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.dialect = _dialect(conn)
        self.errors = driver_errors(conn)
        self._stack: list[tuple[str, bool]] = []

    def driver(self) -> Any:
        """The DB-API connection statements run on."""
        return self._conn

    def in_transaction(self) -> bool:
        """Is a transaction open on the host's connection?"""
        return not self._driver_idle()

    def _driver_idle(self) -> bool:
        conn = self.driver()
        if self.dialect == "sqlite":
            return not conn.in_transaction
        return bool(conn.info.transaction_status == conn.info.transaction_status.IDLE)

    def _run(self, sql: str) -> None:
        try:
            self.driver().execute(sql)
        except self.errors[0] as exc:
            raise StorageError(f"{self.dialect} failed on the host's connection: {exc}") from exc

    def _begin_host(self) -> None:
        """Open the host's transaction where its framework keeps its own state."""

    def _end_empty(self) -> None:
        """End a transaction this unit of work opened and wrote nothing in."""
        try:
            self.driver().rollback()
        except self.errors[0] as exc:
            raise StorageError(f"{self.dialect} failed on the host's connection: {exc}") from exc

    def enter(self) -> None:
        """Open a savepoint (and a transaction first, when the host has none open)."""
        opened = not self.in_transaction()
        if opened:
            self._begin_host()
        if self._driver_idle() and (self.dialect == "sqlite" or self.driver().autocommit):
            # sqlite3 would let a SAVEPOINT outside a transaction become one that its
            # RELEASE commits; an explicit BEGIN leaves the commit to the host. On SQLite it
            # takes the write lock now (IMMEDIATE): a deferred transaction that read first
            # cannot write once another process has committed ("database is locked" at
            # once, no busy wait), so writers in several processes would fail, not queue
            try:
                self.driver().execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
            except self.errors[0] as exc:
                if opened:
                    self._end_empty()
                if isinstance(exc, sqlite3.Error) and _is_busy(exc):
                    raise TransientStorageError(
                        f"SQLite stayed locked by another writer ({exc}); retry the use case"
                    ) from exc
                raise StorageError(
                    f"{self.dialect} failed on the host's connection: {exc}"
                ) from exc
        name = f"sk_uow_{next(_names)}"
        self._run(f"SAVEPOINT {name}")
        self._stack.append((name, opened))

    def opened_transaction(self) -> bool:
        """Did the innermost unit of work open the host's transaction (so undoing it ends
        that transaction, and running the unit of work again starts afresh)?"""
        return bool(self._stack) and self._stack[-1][1]

    def release(self, wrote: bool) -> None:
        """Keep the savepoint's writes in the host's transaction."""
        name, opened = self._stack.pop()
        self._run(f"RELEASE SAVEPOINT {name}")
        if opened and not wrote:
            self._end_empty()

    def undo(self) -> None:
        """Undo the savepoint's writes only; the host's own work stays."""
        name, opened = self._stack.pop()
        try:
            self._run(f"ROLLBACK TO SAVEPOINT {name}")
            self._run(f"RELEASE SAVEPOINT {name}")
        finally:
            if opened:
                self._end_empty()

    def when_committed(self, callback: Callable[[], None]) -> bool:
        """Arrange *callback* for the host's commit; False when this connection cannot tell."""
        return False

    def detach(self) -> None:
        """Stop listening to the host's connection (never closes it)."""


class _SAConnection(HostConnection):
    """A SQLAlchemy ``Connection``: supportkit's writes join its transaction."""

    def __init__(self, conn: Any) -> None:
        self._conn_sa = conn
        super().__init__(conn.connection.driver_connection)

    def sa(self) -> Any:
        """The SQLAlchemy connection of the host's current transaction."""
        return self._conn_sa

    def driver(self) -> Any:
        return self.sa().connection.driver_connection

    def in_transaction(self) -> bool:
        return bool(self.sa().in_transaction())

    def _begin_host(self) -> None:
        self.sa().begin()  # so that the host's conn.commit() reaches the driver

    def _end_empty(self) -> None:
        self.sa().rollback()


class _SASession(_SAConnection):
    """A SQLAlchemy ``Session``: events are published from its ``after_commit``."""

    def __init__(self, session: Any) -> None:
        from sqlalchemy import event

        self._session = session
        self._pending: list[Callable[[], None]] = []
        super().__init__(session.connection())
        event.listen(session, "after_commit", self._committed)
        event.listen(session, "after_transaction_end", self._ended)

    def sa(self) -> Any:
        return self._session.connection()  # begins the session's transaction if needed

    def in_transaction(self) -> bool:
        return bool(self._session.in_transaction())

    def _begin_host(self) -> None:
        self._session.connection()

    def _end_empty(self) -> None:
        """Left open: a Session's rollback would also discard objects the host added."""

    def when_committed(self, callback: Callable[[], None]) -> bool:
        self._pending.append(callback)
        return True

    def _committed(self, session: Any) -> None:
        if session.in_nested_transaction():  # a SAVEPOINT of the host's, not its commit
            return
        pending, self._pending = self._pending, []
        for callback in pending:
            callback()

    def _ended(self, session: Any, transaction: Any) -> None:
        if transaction.parent is None:  # the root transaction ended without after_commit
            self._pending = []

    def detach(self) -> None:
        from sqlalchemy import event

        event.remove(self._session, "after_commit", self._committed)
        event.remove(self._session, "after_transaction_end", self._ended)


class _Rollback(Exception):
    """Raised into Django's atomic block to make it roll back its savepoint."""


class _Django(HostConnection):
    """Django's connection: each unit of work is a ``transaction.atomic`` block.

    Inside the view's ``atomic()`` that block is a savepoint; outside any (Django's
    autocommit mode) it is the whole transaction, as for any Django write.
    Events are published through ``transaction.on_commit``.
    """

    shared = False

    def __init__(self, wrapper: Any) -> None:
        from django.db import connections

        self.alias: str = wrapper.alias
        self._connections = connections
        self._blocks: list[Any] = []
        self._opened: list[bool] = []
        wrapper = connections[self.alias]
        wrapper.ensure_connection()
        super().__init__(wrapper.connection)

    def driver(self) -> Any:
        wrapper = self._connections[self.alias]  # this thread's connection
        wrapper.ensure_connection()
        return wrapper.connection

    def in_transaction(self) -> bool:
        return not self._connections[self.alias].get_autocommit()

    def enter(self) -> None:
        from django.db import transaction

        opened = not self.in_transaction()
        block = transaction.atomic(using=self.alias)
        block.__enter__()
        self._blocks.append(block)
        self._opened.append(opened)

    def opened_transaction(self) -> bool:
        return bool(self._opened) and self._opened[-1]

    def release(self, wrote: bool) -> None:
        self._opened.pop()
        self._blocks.pop().__exit__(None, None, None)

    def undo(self) -> None:
        error = _Rollback()
        self._opened.pop()
        self._blocks.pop().__exit__(_Rollback, error, None)

    def when_committed(self, callback: Callable[[], None]) -> bool:
        from django.db import transaction

        transaction.on_commit(callback, using=self.alias)
        return True


def adapt(conn: Any) -> HostConnection:
    """The right :class:`HostConnection` for what the host handed over."""
    module = type(conn).__module__
    if module.startswith("django."):
        return _Django(conn)
    if module.startswith("sqlalchemy."):
        if hasattr(conn, "get_bind") and hasattr(conn, "connection"):
            return _SASession(conn)
        if hasattr(conn, "begin_nested") and hasattr(conn, "in_transaction"):
            return _SAConnection(conn)
        driver = getattr(conn, "driver_connection", None)  # engine.raw_connection()
        if driver is not None:
            return HostConnection(driver)
    return HostConnection(conn)
