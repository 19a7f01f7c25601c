"""Knowledge base tables on SQLite and PostgreSQL: the ``knowledge`` schema component.

Open the storage with it to keep articles, versions and votes in the
desk's database::

    SQLiteStorage(path, components=[KNOWLEDGE_SCHEMA])
    PostgresStorage(url, components=[KNOWLEDGE_SCHEMA])

On SQLite the component also creates the FTS5 table ``sk_kb_search`` (text
stored already stemmed by :class:`~supportkit.knowledge.Analyzer`); the
knowledge base writes it in the same transaction as the edit. On
PostgreSQL search runs on an in-memory BM25 index that each process builds
from these tables and keeps current by reading the articles changed since
the revision it has seen (``sk_kb_meta.revision``, taken under a row lock,
so revisions commit in order).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..storage.sql import Migration, SchemaComponent, from_us, to_us

if TYPE_CHECKING:
    from ._article import Article, ArticleStatus, HelpfulnessVotes

__all__ = ["FTS_TABLE", "KNOWLEDGE_SCHEMA", "SqlArticleStore"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FTS_TABLE = "sk_kb_search"
KEY_SYNONYMS = "synonyms"


def _v1(dialect: str) -> list[str]:
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    stmts = [
        f"""CREATE TABLE sk_kb_articles (
            id TEXT PRIMARY KEY,
            locale TEXT NOT NULL,
            status TEXT NOT NULL,
            published_at {big},
            version INTEGER NOT NULL,
            revision {big} NOT NULL
        )""",
        "CREATE INDEX sk_kb_articles_revision ON sk_kb_articles (revision)",
        "CREATE INDEX sk_kb_articles_locale ON sk_kb_articles (locale, status)",
        f"""CREATE TABLE sk_kb_versions (
            article_id TEXT NOT NULL,
            number INTEGER NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            category TEXT,
            tags TEXT NOT NULL,
            edited_at {big} NOT NULL,
            editor TEXT NOT NULL,
            PRIMARY KEY (article_id, number)
        )""",
        """CREATE TABLE sk_kb_votes (
            article_id TEXT PRIMARY KEY,
            helped INTEGER NOT NULL,
            not_helped INTEGER NOT NULL
        )""",
        f"CREATE TABLE sk_kb_meta (name TEXT PRIMARY KEY, value {big} NOT NULL)",
        "INSERT INTO sk_kb_meta (name, value) VALUES ('revision', 0)",
    ]
    if dialect == "sqlite":  # the same tables FTS5SearchIndex(create=True) makes
        stmts.append(
            f"CREATE TABLE {FTS_TABLE}_docs "
            "(rid INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE)"
        )
        stmts.append(
            f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, tags, body, locale, "
            "tokenize = 'unicode61 remove_diacritics 0')"
        )
    return stmts


def _v2(dialect: str) -> list[str]:
    # the index gains a roots column and a vocabulary (typo tolerance); the
    # 'analyzer' mark 0 makes the knowledge base index every article again;
    # settings hold the desk's synonym list (JSON)
    stmts = [
        "INSERT INTO sk_kb_meta (name, value) VALUES ('analyzer', 0)",
        "CREATE TABLE sk_kb_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]
    if dialect == "sqlite":  # the same tables FTS5SearchIndex(create=True) makes
        stmts = [
            f"DROP TABLE {FTS_TABLE}",
            f"DROP TABLE {FTS_TABLE}_docs",
            f"CREATE TABLE {FTS_TABLE}_docs "
            "(rid INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE)",
            f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, tags, body, roots, locale, "
            "tokenize = \"unicode61 remove_diacritics 0 tokenchars '~'\")",
            f"CREATE VIRTUAL TABLE {FTS_TABLE}_vocab USING fts5vocab({FTS_TABLE}, 'row')",
            *stmts,
        ]
    return stmts


KNOWLEDGE_SCHEMA = SchemaComponent(
    name="knowledge",
    migrations=(
        Migration(
            1,
            "knowledge base articles, versions, votes (and the FTS5 index on SQLite)",
            _v1("sqlite"),
            _v1("postgresql"),
        ),
        Migration(
            2,
            "search roots, vocabulary, analyzer mark (the FTS5 index is rebuilt), settings",
            _v2("sqlite"),
            _v2("postgresql"),
        ),
    ),
)

_ARTICLE_COLS = "id, locale, status, published_at"
_VERSION_COLS = "article_id, number, title, body, category, tags, edited_at, editor"


class SqlArticleStore:
    """An :class:`~supportkit.knowledge.ArticleStore` over a SQL unit of work."""

    def __init__(self, uow: Any) -> None:
        self.uow = uow

    def next_revision(self) -> int:
        row = self.uow.one(
            "UPDATE sk_kb_meta SET value = value + 1 WHERE name = 'revision' RETURNING value"
        )
        return int(row[0])

    def revision(self) -> int:
        row = self.uow.one("SELECT value FROM sk_kb_meta WHERE name = 'revision'")
        return int(row[0])

    def _build(self, rows: list[Any]) -> list[Article]:
        from ._article import Article, ArticleStatus, ArticleVersion

        if not rows:
            return []
        ids = [r[0] for r in rows]
        versions: dict[str, list[ArticleVersion]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for v in self.uow.all(
                f"SELECT {_VERSION_COLS} FROM sk_kb_versions WHERE article_id IN ({marks}) "
                "ORDER BY article_id, number",
                chunk,
            ):
                versions[v[0]].append(
                    ArticleVersion(
                        int(v[1]),
                        v[2],
                        v[3],
                        v[4],
                        tuple(json.loads(v[5])),
                        from_us(v[6]) or _EPOCH,
                        v[7],
                    )
                )
        return [
            Article(r[0], r[1], versions[r[0]], ArticleStatus(r[2]), from_us(r[3])) for r in rows
        ]

    def get(self, article_id: str) -> Article | None:
        found = self.get_many([article_id])
        return found.get(article_id)

    def get_many(self, article_ids: Iterable[str]) -> dict[str, Article]:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = self.uow.all(
            f"SELECT {_ARTICLE_COLS} FROM sk_kb_articles WHERE id IN ({marks})", ids
        )
        return {a.id: a for a in self._build(rows)}

    def list_articles(self, locale: str | None, status: ArticleStatus | None) -> list[Article]:
        where, params = [], []
        if locale is not None:
            where.append("locale = ?")
            params.append(locale)
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        sql = f"SELECT {_ARTICLE_COLS} FROM sk_kb_articles"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self._build(self.uow.all(sql + " ORDER BY id", params))

    def save(self, article: Article, revision: int) -> None:
        row = self.uow.one("SELECT version FROM sk_kb_articles WHERE id = ?", (article.id,))
        stored = 0 if row is None else int(row[0])
        self.uow.x(
            "INSERT INTO sk_kb_articles (id, locale, status, published_at, version, revision) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET locale = excluded.locale, "
            "status = excluded.status, published_at = excluded.published_at, "
            "version = excluded.version, revision = excluded.revision",
            (
                article.id,
                article.locale,
                article.status.value,
                to_us(article.published_at),
                article.version,
                revision,
            ),
        )
        for v in article.versions:
            if v.number > stored:
                self.uow.x(
                    f"INSERT INTO sk_kb_versions ({_VERSION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        article.id,
                        v.number,
                        v.title,
                        v.body,
                        v.category,
                        json.dumps(list(v.tags), ensure_ascii=False),
                        to_us(v.edited_at),
                        v.editor,
                    ),
                )

    def analyzer_mark(self) -> int:
        row = self.uow.one("SELECT value FROM sk_kb_meta WHERE name = 'analyzer'")
        return 0 if row is None else int(row[0])

    def set_analyzer_mark(self, mark: int) -> None:
        self.uow.x("UPDATE sk_kb_meta SET value = ? WHERE name = 'analyzer'", (mark,))

    def synonyms(self) -> list[list[str]] | None:
        row = self.uow.one("SELECT value FROM sk_kb_settings WHERE name = ?", (KEY_SYNONYMS,))
        return None if row is None else list(json.loads(row[0]))

    def save_synonyms(self, groups: list[list[str]]) -> None:
        self.uow.x(
            "INSERT INTO sk_kb_settings (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (KEY_SYNONYMS, json.dumps(groups, ensure_ascii=False)),
        )

    def changed_since(self, revision: int, upto: int) -> list[Article]:
        rows = self.uow.all(
            f"SELECT {_ARTICLE_COLS} FROM sk_kb_articles WHERE revision > ? AND revision <= ?",
            (revision, upto),
        )
        return self._build(rows)

    def add_vote(self, article_id: str, helped: bool) -> HelpfulnessVotes:
        from ._article import HelpfulnessVotes

        yes, no = (1, 0) if helped else (0, 1)
        row = self.uow.one(
            "INSERT INTO sk_kb_votes (article_id, helped, not_helped) VALUES (?, ?, ?) "
            "ON CONFLICT (article_id) DO UPDATE SET helped = sk_kb_votes.helped + "
            "excluded.helped, not_helped = sk_kb_votes.not_helped + excluded.not_helped "
            "RETURNING helped, not_helped",
            (article_id, yes, no),
        )
        return HelpfulnessVotes(int(row[0]), int(row[1]))

    def votes(self, article_id: str) -> HelpfulnessVotes:
        from ._article import HelpfulnessVotes

        row = self.uow.one(
            "SELECT helped, not_helped FROM sk_kb_votes WHERE article_id = ?", (article_id,)
        )
        return HelpfulnessVotes() if row is None else HelpfulnessVotes(int(row[0]), int(row[1]))
