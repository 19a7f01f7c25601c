"""A :class:`~supportkit.knowledge.SearchIndex` on SQLite FTS5 (stdlib ``sqlite3``).

FTS5's own stemmer (``porter``) is English-only, so the table stores text
already analysed by :class:`~supportkit.knowledge.Analyzer` (lemmas and
Snowball stems for English and Russian, plus the roots column) and the
question is planned by the same :class:`~supportkit.knowledge.QueryPlanner`
as in memory (synonyms, typo correction against the table's vocabulary,
read through an ``fts5vocab`` table). Ranking is FTS5's ``bm25()`` with the
same field weights as the in-memory index.
The locale is an indexed column holding one token (weight 0), so the locale
filter is part of the MATCH and never reads stored rows; that token counts
in the document length, which the in-memory index mirrors.

The index never commits: it writes inside whatever transaction the caller
(the SQLite storage's unit of work) has open.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable

from supportkit.domain._errors import ConfigurationError, StorageError

from ._search import (
    BM25Parameters,
    IndexedDocument,
    QueryPlanner,
    SearchHit,
    check_limit,
    document_fields,
)
from ._stem import ROOT_MARK, Analyzer
from ._synonyms import Synonyms

__all__ = ["FTS5SearchIndex", "fts5_query", "fts5_schema", "locale_token"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def locale_token(locale: str) -> str:
    """The locale as one FTS5 token (``en`` -> ``l656e``), so "pt-BR" cannot split in two."""
    return "l" + locale.strip().lower().encode("utf-8").hex()


COLUMNS = ("title", "tags", "body", "roots", "locale")


def fts5_schema(table: str) -> list[str]:
    """The statements creating the index tables (a storage schema component runs them)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {table}_docs "
        "(rid INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE)",
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
        f"{', '.join(COLUMNS)}, "
        f"tokenize = \"unicode61 remove_diacritics 0 tokenchars '{ROOT_MARK}'\")",
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table}_vocab USING fts5vocab({table}, 'row')",
    ]


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression that matches any of *terms* (each quoted as a string)."""
    unique = dict.fromkeys(terms)
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in unique)


class FTS5SearchIndex:
    """Knowledge base search over an FTS5 table named *table*.

    The tables are created when missing unless *create* is false (the SQLite
    storage's ``knowledge`` schema component has made them already).
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        table: str = "kb_search",
        analyzer: Analyzer | None = None,
        params: BM25Parameters | None = None,
        synonyms: Synonyms | None = None,
        planner: QueryPlanner | None = None,
        create: bool = True,
    ) -> None:
        if not _IDENTIFIER.fullmatch(table):
            raise ConfigurationError(
                f"FTS5 table name {table!r} is not a plain SQL identifier; "
                "use letters, digits and underscores"
            )
        self.connection = connection
        self.table = table
        self.analyzer = analyzer or Analyzer()
        self.params = params or BM25Parameters()
        self.planner = planner or QueryPlanner(self.analyzer, synonyms)
        p = self.params
        if (p.k1, p.b) != (1.2, 0.75):
            raise ConfigurationError(
                f"FTS5's bm25() has fixed k1=1.2 and b=0.75, got k1={p.k1}, b={p.b}; "
                "only the field weights can be changed for the FTS5 index"
            )
        # Rank in a subquery that reads only the full-text index (rowid and
        # bm25), then fetch the ids of the few hits: selecting a stored column
        # in the ranking query would read every matching row's content.
        self._search_sql = (
            f"SELECT d.article_id, r.rank FROM (SELECT rowid AS rid, "
            f"bm25({table}, ?, ?, ?, ?, 0.0) AS rank FROM {table} WHERE {table} MATCH ? "
            f"ORDER BY rank LIMIT ?) AS r JOIN {table}_docs AS d ON d.rid = r.rid "
            "ORDER BY r.rank"
        )
        self._weights = p.weights
        if create:
            self._create()

    def known(self, terms: Iterable[str]) -> set[str]:
        """Which of *terms* some indexed article contains (typo correction's vocabulary)."""
        wanted = list(dict.fromkeys(terms))
        if not wanted:
            return set()
        marks = ", ".join("?" * len(wanted))
        rows = self._read(f"SELECT term FROM {self.table}_vocab WHERE term IN ({marks})", wanted)
        return {str(r[0]) for r in rows}

    def starting_with(self, head: str) -> list[tuple[str, int]]:
        """Indexed terms starting with *head*, with their article counts."""
        rows = self._read(
            f"SELECT term, doc FROM {self.table}_vocab WHERE term >= ? AND term < ?",
            (head, head + "\U0010ffff"),
        )
        return [(str(r[0]), int(r[1])) for r in rows]  # type: ignore[call-overload]

    def _read(self, sql: str, params: Iterable[object]) -> list[tuple[object, ...]]:
        try:
            return list(self.connection.execute(sql, tuple(params)).fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"could not read the search vocabulary: {exc}") from exc

    def _create(self) -> None:
        t = self.table
        try:
            columns = [r[1] for r in self.connection.execute(f"PRAGMA table_info({t})")]
            if columns and tuple(columns) != COLUMNS:
                raise ConfigurationError(
                    f"FTS5 table {t!r} was made by an older supportkit (columns {columns}); "
                    f"drop {t} and {t}_docs and index the articles again"
                )
            for statement in fts5_schema(t):
                self.connection.execute(statement)
        except sqlite3.Error as exc:
            raise StorageError(
                f"could not create the FTS5 search table {t!r}: {exc}; "
                "check that this SQLite build has FTS5 enabled"
            ) from exc

    def add(self, document: IndexedDocument) -> None:
        fields = document_fields(self.planner, document)
        row = (*(" ".join(f) for f in fields), locale_token(document.locale))
        t = self.table
        try:
            self._remove(document.article_id)
            cur = self.connection.execute(
                f"INSERT INTO {t}_docs (article_id) VALUES (?)", (document.article_id,)
            )
            self.connection.execute(
                f"INSERT INTO {t} (rowid, {', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
                (cur.lastrowid, *row),
            )
        except sqlite3.Error as exc:
            raise StorageError(f"could not index article {document.article_id!r}: {exc}") from exc

    def _remove(self, article_id: str) -> None:
        t = self.table
        found = self.connection.execute(
            f"SELECT rid FROM {t}_docs WHERE article_id = ?", (article_id,)
        ).fetchone()
        if found is not None:
            self.connection.execute(f"DELETE FROM {t} WHERE rowid = ?", (found[0],))
            self.connection.execute(f"DELETE FROM {t}_docs WHERE rid = ?", (found[0],))

    def remove(self, article_id: str) -> None:
        try:
            self._remove(article_id)
        except sqlite3.Error as exc:
            raise StorageError(f"could not remove article {article_id!r}: {exc}") from exc

    def search(self, query: str, locale: str | None = None, limit: int = 10) -> list[SearchHit]:
        check_limit(limit)
        plan = self.planner.plan(query, self)
        hits = self._run(query, plan, locale, limit)
        if not hits:
            retry = self.planner.retry_plan(query, self, plan)
            if retry is not None:
                hits = self._run(query, retry, locale, limit)
        return hits

    def _run(self, query: str, plan: list[str], locale: str | None, limit: int) -> list[SearchHit]:
        if not plan:
            return []
        match = "{title tags body roots} : (" + fts5_query(plan) + ")"
        if locale is not None:
            match = f"locale : {locale_token(locale)} AND {match}"
        try:
            rows = self.connection.execute(
                self._search_sql, (*self._weights, match, limit)
            ).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"knowledge base search for {query!r} failed: {exc}") from exc
        return [SearchHit(article_id, -rank) for article_id, rank in rows]
