"""Apply versioned schema components to a connection, in one transaction each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..domain._errors import StorageError
from ._sql_schema import SchemaComponent

__all__ = ["migrate"]

#: the advisory lock that serialises schema changes across processes (PostgreSQL)
_LOCK = 727274


def migrate(
    conn: Any,
    dialect: str,
    components: Sequence[SchemaComponent],
    begin: Callable[[Any], None],
    *,
    commit: Callable[[Any], None] | None = None,
    rollback: Callable[[Any], None] | None = None,
) -> dict[str, int]:
    """Bring every component to its newest version; returns the versions now in place.

    A database at a *newer* version than this code knows is refused rather
    than used, so an old process never writes into a schema it does not understand.
    *commit* and *rollback* end each component's step (default: the
    connection's own); a storage joined to a host's transaction passes
    savepoint release and rollback, so the schema lands with the host's commit.
    """
    joined = commit is not None
    end = commit or (lambda c: c.commit())
    undo = rollback or (lambda c: c.rollback())
    cur = conn.cursor()
    ph = "?" if dialect == "sqlite" else "%s"
    if not joined:
        # the usual case, a database already up to date, reads and takes no write lock:
        # opening a storage never waits behind another process's writers
        in_place = _up_to_date(conn, cur, dialect, components)
        if in_place is not None:
            for comp in components:
                if comp.after_migrate is not None:
                    comp.after_migrate(conn)
            return in_place
    if joined:
        begin(conn)
    # an application role without CREATE on the schema opens an installed database too
    exists = (
        dialect == "postgresql" and cur.execute("SELECT to_regclass('sk_schema')").fetchone()[0]
    )
    if not exists:
        if dialect != "sqlite":
            # two processes creating it at once collide in the catalog (pg_type) even with
            # IF NOT EXISTS: the first to hold the lock creates it, the other finds it
            cur.execute(f"SELECT pg_advisory_xact_lock({_LOCK})")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS sk_schema "
            "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
    if joined:
        end(conn)
    elif dialect != "sqlite":
        conn.commit()
    versions: dict[str, int] = {}
    for comp in components:
        begin(conn)
        try:
            if dialect != "sqlite":
                # serialise concurrent migrators across processes
                cur.execute(f"SELECT pg_advisory_xact_lock({_LOCK})")
            cur.execute(f"SELECT version FROM sk_schema WHERE component = {ph}", (comp.name,))
            row = cur.fetchone()
            current = int(row[0]) if row else 0
            newest = max((m.version for m in comp.migrations), default=0)
            if current > newest:
                raise StorageError(
                    f"the database's {comp.name!r} schema is at version {current}, newer than "
                    f"this supportkit knows ({newest}); upgrade supportkit"
                )
            for m in sorted(comp.migrations, key=lambda m: m.version):
                if m.version <= current:
                    continue
                for stmt in m.statements(dialect):
                    cur.execute(stmt)
                current = m.version
            cur.execute(
                f"INSERT INTO sk_schema (component, version) VALUES ({ph}, {ph}) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (comp.name, current),
            )
            end(conn)
        except BaseException:
            undo(conn)
            raise
        if comp.after_migrate is not None:
            comp.after_migrate(conn)
        versions[comp.name] = current
    return versions


def _up_to_date(
    conn: Any, cur: Any, dialect: str, components: Sequence[SchemaComponent]
) -> dict[str, int] | None:
    """Every component's stored version if each is the newest this code knows, else None."""
    if dialect == "sqlite":
        exists = cur.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sk_schema'"
        ).fetchall()
    else:
        exists = cur.execute("SELECT to_regclass('sk_schema')").fetchone()[0]
    stored = (
        dict(cur.execute("SELECT component, version FROM sk_schema").fetchall()) if exists else {}
    )
    if dialect != "sqlite":
        conn.commit()  # end the read; nothing was written
    newest = {c.name: max((m.version for m in c.migrations), default=0) for c in components}
    if any(stored.get(name) != version for name, version in newest.items()):
        return None
    return newest
