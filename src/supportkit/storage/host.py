"""A storage on a connection the host owns: supportkit's writes join the host's transaction.

>>> import sqlite3
>>> from supportkit import SupportDesk
>>> from supportkit.storage.host import HostStorage
>>> conn = sqlite3.connect(":memory:")
>>> desk = SupportDesk(HostStorage(conn))
>>> ticket = desk.receive("email", "ann@example.com", "The printer is on fire")
>>> conn.rollback()  # the host changes its mind: the ticket is gone with its own rows

Built on a ``sqlite3`` or psycopg 3 connection, a SQLAlchemy ``Connection``
or ``Session``, ``engine.raw_connection()`` or Django's connection, the
storage never commits, rolls back or closes that connection. Each unit of
work is a SAVEPOINT inside the host's transaction (opening one when none is
open), so a use case that fails undoes only its own writes; the host's
commit makes the ticket durable together with the host's rows, and its
rollback undoes both.

The desk's signals fire only once the host has committed: from Django's
``transaction.on_commit`` or the ``Session``'s ``after_commit`` where the
host uses those, otherwise when the host calls :meth:`HostStorage.flush`
(or ``desk.flush()``) after its commit; events of a transaction the host
rolled back are dropped, never published.

Units of work on one connection take turns (a lock), so threads sharing the
storage never interleave savepoints; Django's connection is per thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .._convert import event_from_data
from ..domain._errors import ConfigurationError, StorageError
from ..ports._desks import DEFAULT_DESK, check_desk_key, desk_view
from ..ports._storage import Storage, StoredEvent
from ._coordination_schema import COORDINATION_MIGRATIONS
from ._host_conn import HostConnection, adapt
from ._migrate import migrate
from ._sql import SqlUnitOfWork
from ._sql_schema import CORE_MIGRATIONS, SchemaComponent
from .sqlite import _is_busy

__all__ = ["HostStorage", "HostUnitOfWork", "install_schema"]

Deliver = Callable[[Sequence[StoredEvent]], None]


class HostStorage(Storage):
    """supportkit's tables on the host's own connection, inside the host's transactions.

    *install_schema*: create or upgrade supportkit's tables now, in the
    host's transaction (commit it afterwards); ``False`` when a migration of
    the host's (a Django migration calling :func:`install_schema`) has done it.
    """

    capabilities = frozenset({"transactions", "durable", "sql", "host_transactions", "desks"})

    def __init__(
        self,
        connection: Any,
        *,
        components: Sequence[SchemaComponent] = (),
        install_schema: bool = True,
        desk: str = DEFAULT_DESK,
    ) -> None:
        self.desk = check_desk_key(desk)
        self.host: HostConnection = adapt(connection)
        self.dialect = self.host.dialect
        self.components: tuple[SchemaComponent, ...] = (
            CORE_MIGRATIONS,
            COORDINATION_MIGRATIONS,
            *components,
        )
        self._pending: list[tuple[Sequence[StoredEvent], Deliver]] = []
        self._lock = threading.Lock()
        #: one connection shared by the threads that use this storage: its units of
        #: work take turns (Django's connection is per thread and needs none)
        self.turns: threading.RLock | None = threading.RLock() if self.host.shared else None
        if install_schema:
            self.schema_versions = self.install_schema()
        else:
            self.schema_versions = self._installed_versions()

    def install_schema(self) -> dict[str, int]:
        """Create or upgrade supportkit's tables in the host's transaction; the versions now."""
        host = self.host
        return migrate(
            host.driver(),
            self.dialect,
            self.components,
            lambda c: host.enter(),
            commit=lambda c: host.release(True),
            rollback=lambda c: host.undo(),
        )

    def _installed_versions(self) -> dict[str, int]:
        with self.unit_of_work() as uow:
            try:
                rows = uow.all("SELECT component, version FROM sk_schema")
            except StorageError as exc:
                raise ConfigurationError(
                    "supportkit's tables are not installed on the host's database; build "
                    "HostStorage(conn) with install_schema=True or call install_schema(conn) "
                    f"in a migration ({exc})"
                ) from exc
            uow.commit()
        versions = {str(r[0]): int(r[1]) for r in rows}
        for comp in self.components:
            newest = max((m.version for m in comp.migrations), default=0)
            if versions.get(comp.name, 0) != newest:
                raise ConfigurationError(
                    f"supportkit's {comp.name!r} tables are at version {versions.get(comp.name, 0)}, "
                    f"this supportkit needs {newest}; run install_schema(conn) (a migration)"
                )
        return versions

    def unit_of_work(self) -> HostUnitOfWork:
        return HostUnitOfWork(self)

    def for_desk(self, key: str) -> HostStorage:
        """The same host connection, scoped to desk *key* (see :meth:`Storage.for_desk`)."""
        return desk_view(self, key)

    def connection(self) -> Any:
        """The DB-API connection statements run on (the host's)."""
        return self.host.driver()

    def when_committed(self, stored: Sequence[StoredEvent], deliver: Deliver) -> None:
        """Deliver *stored* when the host commits (kept for :meth:`flush` if it cannot tell)."""
        if not stored:
            return
        if self.host.when_committed(lambda: deliver(stored)):
            return
        with self._lock:
            self._pending.append((stored, deliver))

    def flush_committed(self) -> int:
        """Publish the events of units of work the host has committed since the last flush.

        Call it after the host's commit. Events whose transaction the host
        rolled back are not in the outbox any more: they are dropped, never
        published. Returns how many events were delivered.
        """
        if self.host.in_transaction():
            raise StorageError(
                "the host's transaction is still open; commit (or roll back) first, then flush, "
                "so that only committed events are published"
            )
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return 0
        seqs = [se.seq for stored, _ in pending for se in stored]
        found: dict[int, Any] = {}
        with self.unit_of_work() as uow:
            for i in range(0, len(seqs), 500):
                chunk = seqs[i : i + 500]
                rows = uow.all(
                    f"SELECT seq, payload FROM sk_events WHERE seq IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
                found.update((int(r[0]), r[1]) for r in rows)
            uow.commit()
        delivered = 0
        for stored, deliver in pending:
            # a rolled-back sequence number may have been taken again by a later event
            durable = [
                se
                for se in stored
                if se.seq in found and event_from_data(json.loads(found[se.seq])) == se.event
            ]
            if durable:
                deliver(durable)
                delivered += len(durable)
        return delivered

    flush = flush_committed

    def close(self) -> None:
        """Stop listening to the host's connection; the connection itself stays open."""
        self.host.detach()
        with self._lock:
            self._pending = []


class HostUnitOfWork(SqlUnitOfWork):
    """One SAVEPOINT in the host's transaction."""

    def __init__(self, storage: HostStorage) -> None:
        super().__init__()
        self.desk = storage.desk
        self._host = storage.host
        self.dialect = storage.dialect
        self.paramstyle = "qmark" if storage.dialect == "sqlite" else "format"
        self.driver_errors = (self._host.errors[0],)
        self.integrity_errors = (self._host.errors[1],)
        self._wrote = False
        self._open = False
        self._turns = storage.turns

    def do_begin(self) -> None:
        if self._turns is not None:
            self._turns.acquire()
        try:
            self._host.enter()
        except BaseException:
            if self._turns is not None:
                self._turns.release()
            raise
        self._open = True
        self._cur = self._host.driver().cursor()

    def is_transient(self, exc: BaseException) -> bool:
        """SQLite busy or locked in a transaction this unit of work opened: undoing it ends
        that transaction, so the desk may run the use case again (a deferred BEGIN of the
        host's framework, e.g. Django's, cannot take the write lock once another process
        committed after its first read). In a transaction the host opened, the host must
        roll back and retry: running the use case again there would fail the same way."""
        return (
            self.dialect == "sqlite"
            and isinstance(exc, sqlite3.OperationalError)
            and _is_busy(exc)
            and self._host.opened_transaction()
        )

    def x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if not self._wrote and not sql.startswith("SELECT"):
            self._wrote = True
        return super().x(sql, params)

    def do_commit(self) -> None:
        self.settle_ticket_numbers()
        self._host.release(self._wrote)
        self._open = False

    def do_rollback(self) -> None:
        if self._open:
            self._open = False
            self._host.undo()

    def do_end(self) -> None:
        try:
            if self._cur is not None:
                self._cur.close()
                self._cur = None
        finally:
            if self._turns is not None:
                self._turns.release()

    def raw_connection(self) -> Any:
        """The host's DB-API connection (same transaction), for extensions."""
        return self._host.driver()


def install_schema(connection: Any, components: Sequence[SchemaComponent] = ()) -> dict[str, int]:
    """Create or upgrade supportkit's tables on the host's connection, in its transaction.

    For a migration of the host's, e.g. Django's
    ``migrations.RunPython(lambda apps, editor: install_schema(editor.connection))``.
    """
    storage = HostStorage(connection, components=components)
    storage.close()
    return storage.schema_versions
