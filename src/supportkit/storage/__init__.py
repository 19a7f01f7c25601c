"""Storage backends: memory, SQLite (the embedded default), PostgreSQL, and plugins.

Backends are found through the ``supportkit.storage`` entry-point group and
validated when loaded (a plugin that is not a :class:`~supportkit.ports.Storage`
raises :class:`~supportkit.PluginError` naming it). :func:`open_storage`
opens one from a URL, as the CLI does.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..domain._errors import ConfigurationError, PluginError
from ..ports._storage import Storage
from ._sql_schema import Migration, SchemaComponent

__all__ = ["Migration", "SchemaComponent", "available_backends", "load_backend", "open_storage"]

GROUP = "supportkit.storage"


def available_backends() -> list[str]:
    """Names of the storage backends installed (entry points of ``supportkit.storage``)."""
    return sorted(ep.name for ep in entry_points(group=GROUP))


def load_backend(name: str) -> type[Storage]:
    """The Storage class registered under *name*, validated."""
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not matches:
        raise PluginError(
            f"no storage backend named {name!r}; installed: {available_backends()} "
            f"(a plugin registers one under the {GROUP!r} entry-point group)"
        )
    ep = matches[0]
    try:
        obj: Any = ep.load()
    except Exception as exc:
        raise PluginError(f"storage plugin {name!r} ({ep.value}) failed to import: {exc}") from exc
    if not (isinstance(obj, type) and issubclass(obj, Storage)):
        raise PluginError(
            f"storage plugin {name!r} ({ep.value}) is not a subclass of supportkit.ports.Storage"
        )
    return obj


def open_storage(url: str) -> Storage:
    """Open a storage from a URL.

    - ``memory://``: a :class:`~supportkit.storage.memory.MemoryStorage`.
    - ``sqlite:///relative/path.db`` (three slashes: relative to the working
      directory) or ``sqlite:////absolute/path.db`` (four slashes), as in
      SQLAlchemy; ``?synchronous=normal`` opts out of syncing every commit.
      A bare file path works too.
    - ``postgresql://user@host:5432/db`` (or ``postgres://``).
    - any other scheme names an installed plugin (:func:`load_backend`), whose
      class is called with the URL as its first argument: ``Backend(url)``.
    """
    if "://" not in url:
        from .sqlite import SQLiteStorage

        return SQLiteStorage(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        from .memory import MemoryStorage

        return MemoryStorage()
    if scheme == "sqlite":
        return _open_sqlite(url)
    if scheme in ("postgresql", "postgres"):
        from .postgres import PostgresStorage

        return PostgresStorage(url.replace("postgres://", "postgresql://", 1))
    try:
        return load_backend(scheme)(url)  # type: ignore[call-arg]
    except TypeError as exc:
        raise PluginError(f"storage plugin {scheme!r} cannot be opened from a URL: {exc}") from exc


def _open_sqlite(url: str) -> Storage:
    from .sqlite import SQLiteStorage

    parts = urlsplit(url)
    if parts.netloc:
        raise ConfigurationError(
            f"{url!r} names a host ({parts.netloc!r}); SQLite URLs have none: write "
            "sqlite:///relative.db or sqlite:////absolute/path.db"
        )
    path = unquote(parts.path)
    path = path[1:] if path.startswith("/") else path  # sqlite:///rel, sqlite:////abs
    if not path:
        raise ConfigurationError(
            f"no file in {url!r}; write sqlite:///relative.db or sqlite:////abs/path.db"
        )
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(options) - {"synchronous"}
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {sorted(unknown)} in {url!r}; SQLite URLs take ?synchronous="
        )
    return SQLiteStorage(path, synchronous=options.get("synchronous", "FULL"))
