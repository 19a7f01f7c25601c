"""A knowledge base kept in the desk's storage (``KnowledgeBase.on(storage)``).

Each knowledge base operation is one unit of work. Where the articles live
and how search runs depends on the backend:

- SQLite (opened with ``KNOWLEDGE_SCHEMA``): tables plus the FTS5 table
  ``sk_kb_search``, written on the storage's own connection in the same
  transaction as the edit; a rolled-back edit leaves no trace in search.
- PostgreSQL (opened with ``KNOWLEDGE_SCHEMA``) and any other backend
  (memory, plugins, through the key-value port): an in-memory BM25 index
  per process, built from the stored articles on first search and brought
  up to date at every search by reading the articles changed since the
  revision it has seen. Only committed edits are ever indexed.

Called from inside a desk use case on the same thread (the bot searching
while it handles a message), a SQLite knowledge base joins the open
transaction instead of opening a nested one; other backends open their own.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from supportkit.domain._errors import ConfigurationError, StorageError
from supportkit.ports._desks import DEFAULT_DESK
from supportkit.ports._storage import Storage

from ._article import indexed_document
from ._fts5 import FTS5SearchIndex
from ._kb_sql import FTS_TABLE, SqlArticleStore
from ._search import (
    BM25Parameters,
    IndexedDocument,
    MemorySearchIndex,
    QueryPlanner,
    SearchHit,
    SearchIndex,
)
from ._stem import Analyzer
from ._store import ArticleStore, KvArticleStore, reindex
from ._synonyms import Synonyms

__all__ = ["StorageBackend"]


class _CatchingUp:
    """The process's in-memory index, seen through one transaction.

    Writes are not applied here (they are applied once committed, by the next
    search catching up); a search first reads what changed since the last one.
    """

    def __init__(self, backend: StorageBackend, store: ArticleStore) -> None:
        self.backend = backend
        self.store = store

    def add(self, document: IndexedDocument) -> None:
        pass

    def remove(self, article_id: str) -> None:
        pass

    def search(self, query: str, locale: str | None = None, limit: int = 10) -> list[SearchHit]:
        b = self.backend
        with b.lock:
            upto = self.store.revision()
            if upto != b.seen:
                for article in self.store.changed_since(b.seen, upto):
                    if article.is_published:
                        b.memory_index.add(indexed_document(article))
                    else:
                        b.memory_index.remove(article.id)
                b.seen = upto
            return b.memory_index.search(query, locale, limit)


class StorageBackend:
    def __init__(
        self,
        storage: Storage,
        *,
        analyzer: Analyzer | None = None,
        params: BM25Parameters | None = None,
        synonyms: Synonyms | None = None,
    ) -> None:
        self.storage = storage
        self.analyzer = analyzer or Analyzer()
        self.params = params or BM25Parameters()
        self.planner = QueryPlanner(self.analyzer, synonyms)
        self.default_synonyms = self.planner.synonyms
        self.memory_index = MemorySearchIndex(self.analyzer, self.params, planner=self.planner)
        self.seen = 0
        self.synonyms_seen = -1
        self.fts5_checked = False
        self.lock = threading.Lock()
        dialect = getattr(storage, "dialect", None)
        # the knowledge tables hold the default desk's articles; another desk of a shared
        # database keeps its own in the desk-scoped key-value port, searched in memory
        own_tables = storage.desk == DEFAULT_DESK
        self.sql = own_tables and dialect in ("sqlite", "postgresql")
        self.fts5 = self.sql and dialect == "sqlite"
        if self.sql:
            versions = getattr(storage, "schema_versions", {}) or {}
            if "knowledge" not in versions:
                cls = type(storage).__name__
                raise ConfigurationError(
                    f"{cls} was opened without the knowledge base tables; open it with "
                    f"{cls}(..., components=[KNOWLEDGE_SCHEMA]) "
                    "(from supportkit.knowledge import KNOWLEDGE_SCHEMA)"
                )

    @contextmanager
    def session(self) -> Iterator[tuple[ArticleStore, SearchIndex]]:
        if self.fts5:
            conn = self.storage.connection()  # type: ignore[attr-defined]
            if conn.in_transaction:
                # called from inside a desk use case on this thread (the bot
                # searching while it handles a message): join that transaction
                joined = _JoinedSQLite(conn)
                try:
                    yield self._pair(joined)
                finally:
                    joined.close()
                return
        with self.storage.unit_of_work() as uow:
            yield self._pair(uow)
            uow.commit()

    def use_synonyms(self, synonyms: Synonyms, store: ArticleStore, index: SearchIndex) -> None:
        with self.lock:
            self._adopt(synonyms)
        if self.fts5:
            assert isinstance(store, SqlArticleStore)
            reindex(store, index)
            store.set_analyzer_mark(self._mark())

    def _adopt(self, synonyms: Synonyms) -> None:
        # the in-memory index is rebuilt by catching up from revision 0
        if synonyms != self.planner.synonyms:
            self.planner.synonyms = synonyms
            if not self.fts5:
                self.memory_index.clear()
                self.seen = 0

    def _mark(self) -> int:
        return zlib.crc32(self.planner.fingerprint.encode())

    def _pair(self, uow: Any) -> tuple[ArticleStore, SearchIndex]:
        store, index = self._open(uow)
        self._sync(store, index)
        return store, index

    def _sync(self, store: ArticleStore, index: SearchIndex) -> None:
        """Pick up synonyms edited elsewhere; rebuild an FTS5 index made with other analysis."""
        revision = store.revision()
        if revision != self.synonyms_seen:
            groups = store.synonyms()
            with self.lock:
                self._adopt(self.default_synonyms if groups is None else Synonyms(groups))
                self.synonyms_seen = revision
        if self.fts5 and not self.fts5_checked:
            assert isinstance(store, SqlArticleStore)
            mark = self._mark()
            if store.analyzer_mark() != mark:
                reindex(store, index)
                store.set_analyzer_mark(mark)
            self.fts5_checked = True

    def _open(self, uow: Any) -> tuple[ArticleStore, SearchIndex]:
        if not self.sql:
            kv = KvArticleStore(uow)
            return kv, _CatchingUp(self, kv)
        store = SqlArticleStore(uow)
        if not self.fts5:
            return store, _CatchingUp(self, store)
        fts = FTS5SearchIndex(
            uow.raw_connection(),
            table=FTS_TABLE,
            analyzer=self.analyzer,
            params=self.params,
            planner=self.planner,
            create=False,
        )
        return store, fts


class _JoinedSQLite:
    """The few unit-of-work calls the SQL article store makes, on an open SQLite transaction."""

    dialect = "sqlite"

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._cur = conn.cursor()

    def x(self, sql: str, params: Any = ()) -> Any:
        try:
            return self._cur.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"sqlite failed: {exc}") from exc

    def one(self, sql: str, params: Any = ()) -> Any:
        return self.x(sql, params).fetchone()

    def all(self, sql: str, params: Any = ()) -> list[Any]:
        return list(self.x(sql, params).fetchall())

    def raw_connection(self) -> Any:
        return self._conn

    def close(self) -> None:
        self._cur.close()
