"""The SQLite settings every SQLite side of a benchmark runs with: supportkit's own.

``SQLiteStorage(path, synchronous=mode, background_checkpoint=None)`` sets
exactly these on its connections; the raw floor and django-helpdesk get the
same through :func:`apply`, and :func:`read` lets a run print them side by
side so a difference cannot hide.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MODES", "apply", "read"]

#: the two durability settings every SQLite figure is shown with
MODES = ("FULL", "NORMAL")
_CHECKED = (
    "page_size",
    "journal_mode",
    "synchronous",
    "temp_store",
    "cache_size",
    "wal_autocheckpoint",
)


def apply(cursor: Any, synchronous: str) -> None:
    """Set supportkit's PRAGMAs on a new connection (page_size only takes on a new file)."""
    for statement in (
        "PRAGMA busy_timeout = 10000",
        "PRAGMA page_size = 2048",
        "PRAGMA journal_mode = WAL",
        f"PRAGMA synchronous = {synchronous}",
        "PRAGMA temp_store = MEMORY",
        "PRAGMA cache_size = -65536",
        "PRAGMA wal_autocheckpoint = 1000",
    ):
        cursor.execute(statement)


def read(cursor: Any) -> dict[str, Any]:
    """The PRAGMA values a connection runs with."""
    out = {}
    for name in _CHECKED:
        cursor.execute(f"PRAGMA {name}")
        out[name] = cursor.fetchone()[0]
    return out
