"""Where knowledge base articles, their versions and votes are kept.

:class:`ArticleStore` is what :class:`~supportkit.knowledge.KnowledgeBase`
works with inside one transaction. Every write first takes the next
*revision* (a counter that also serialises knowledge base writers), then
saves the article with it; an index kept in process memory catches up by
reading the articles changed since the revision it has seen.

- :class:`DictArticleStore`: the plain in-process knowledge base (no storage).
- :class:`KvArticleStore`: any storage backend, through its key-value port
  (used for :class:`~supportkit.storage.memory.MemoryStorage`).
- ``SqlArticleStore`` (``supportkit.knowledge._kb_sql``): tables of the
  ``knowledge`` schema component on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from supportkit.domain._errors import StorageError

from ._article import (
    Article,
    ArticleStatus,
    ArticleVersion,
    HelpfulnessVotes,
    indexed_document,
)
from ._search import SearchIndex

__all__ = [
    "ArticleStore",
    "DictArticleStore",
    "KvArticleStore",
    "article_from_dict",
    "article_to_dict",
]

NS_ARTICLES = "kb-articles"
NS_VOTES = "kb-votes"
NS_META = "kb"
KEY_SYNONYMS = "synonyms"


class ArticleStore(Protocol):
    """Articles, versions and votes as seen inside one transaction."""

    def next_revision(self) -> int:
        """Take the next revision number (writers queue here until commit)."""
        ...

    def revision(self) -> int:
        """The last revision taken by a committed (or this) transaction."""
        ...

    def get(self, article_id: str) -> Article | None: ...

    def get_many(self, article_ids: Iterable[str]) -> dict[str, Article]: ...

    def list_articles(self, locale: str | None, status: ArticleStatus | None) -> list[Article]: ...

    def save(self, article: Article, revision: int) -> None:
        """Insert or update the article; versions not stored yet are appended."""

    def changed_since(self, revision: int, upto: int) -> list[Article]:
        """Articles saved with a revision in ``(revision, upto]``."""
        ...

    def add_vote(self, article_id: str, helped: bool) -> HelpfulnessVotes: ...

    def votes(self, article_id: str) -> HelpfulnessVotes: ...

    def synonyms(self) -> list[list[str]] | None:
        """The desk's stored synonym groups (None: never set)."""
        ...

    def save_synonyms(self, groups: list[list[str]]) -> None:
        """Store the desk's synonym groups (after taking a revision)."""


def reindex(store: ArticleStore, index: SearchIndex) -> None:
    """Index every published article again (after the analysis changed)."""
    for article in store.list_articles(None, ArticleStatus.PUBLISHED):
        index.add(indexed_document(article))


def article_to_dict(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "locale": article.locale,
        "status": article.status.value,
        "published_at": None if article.published_at is None else article.published_at.isoformat(),
        "versions": [
            {
                "number": v.number,
                "title": v.title,
                "body": v.body,
                "category": v.category,
                "tags": list(v.tags),
                "edited_at": v.edited_at.isoformat(),
                "editor": v.editor,
            }
            for v in article.versions
        ],
    }


def article_from_dict(data: dict[str, Any]) -> Article:
    try:
        versions = [
            ArticleVersion(
                int(v["number"]),
                v["title"],
                v["body"],
                v["category"],
                tuple(v["tags"]),
                datetime.fromisoformat(v["edited_at"]),
                v.get("editor", ""),
            )
            for v in data["versions"]
        ]
        published = data.get("published_at")
        return Article(
            data["id"],
            data["locale"],
            versions,
            ArticleStatus(data["status"]),
            None if published is None else datetime.fromisoformat(published),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"stored knowledge base article is unreadable: {exc!r}") from exc


class DictArticleStore:
    """Articles in a dict, for a knowledge base without storage (no transactions)."""

    def __init__(self) -> None:
        self.articles: dict[str, Article] = {}
        self._votes: dict[str, HelpfulnessVotes] = {}
        self._revision = 0
        self._synonyms: list[list[str]] | None = None

    def next_revision(self) -> int:
        self._revision += 1
        return self._revision

    def revision(self) -> int:
        return self._revision

    def get(self, article_id: str) -> Article | None:
        return self.articles.get(article_id)

    def get_many(self, article_ids: Iterable[str]) -> dict[str, Article]:
        return {i: self.articles[i] for i in article_ids if i in self.articles}

    def list_articles(self, locale: str | None, status: ArticleStatus | None) -> list[Article]:
        return [
            a
            for a in self.articles.values()
            if (locale is None or a.locale == locale) and (status is None or a.status is status)
        ]

    def save(self, article: Article, revision: int) -> None:
        self.articles[article.id] = article

    def changed_since(self, revision: int, upto: int) -> list[Article]:
        return []  # the in-process index is updated directly

    def synonyms(self) -> list[list[str]] | None:
        return self._synonyms

    def save_synonyms(self, groups: list[list[str]]) -> None:
        self._synonyms = groups

    def add_vote(self, article_id: str, helped: bool) -> HelpfulnessVotes:
        new = _counted(self._votes.get(article_id, HelpfulnessVotes()), helped)
        self._votes[article_id] = new
        return new

    def votes(self, article_id: str) -> HelpfulnessVotes:
        return self._votes.get(article_id, HelpfulnessVotes())


def _counted(old: HelpfulnessVotes, helped: bool) -> HelpfulnessVotes:
    if helped:
        return HelpfulnessVotes(old.helped + 1, old.not_helped)
    return HelpfulnessVotes(old.helped, old.not_helped + 1)


class KvArticleStore:
    """Articles as JSON documents in the storage's key-value port (namespaces ``kb*``).

    Listing and catching up read the whole ``kb-articles`` namespace; fine for
    the memory backend and small knowledge bases. The SQL backends use tables.
    """

    def __init__(self, uow: Any) -> None:
        self.uow = uow

    def next_revision(self) -> int:
        value = self.revision() + 1
        self.uow.kv_put(NS_META, "revision", value)
        return value

    def revision(self) -> int:
        value = self.uow.kv_get(NS_META, "revision")
        return int(value) if value is not None else 0

    def get(self, article_id: str) -> Article | None:
        data = self.uow.kv_get(NS_ARTICLES, article_id)
        return None if data is None else article_from_dict(data)

    def get_many(self, article_ids: Iterable[str]) -> dict[str, Article]:
        out: dict[str, Article] = {}
        for i in article_ids:
            found = self.get(i)
            if found is not None:
                out[i] = found
        return out

    def list_articles(self, locale: str | None, status: ArticleStatus | None) -> list[Article]:
        articles = [article_from_dict(v) for _, v in self.uow.kv_items(NS_ARTICLES)]
        return [
            a
            for a in articles
            if (locale is None or a.locale == locale) and (status is None or a.status is status)
        ]

    def save(self, article: Article, revision: int) -> None:
        self.uow.kv_put(NS_ARTICLES, article.id, {**article_to_dict(article), "revision": revision})

    def changed_since(self, revision: int, upto: int) -> list[Article]:
        return [
            article_from_dict(v)
            for _, v in self.uow.kv_items(NS_ARTICLES)
            if revision < int(v.get("revision", 0)) <= upto
        ]

    def synonyms(self) -> list[list[str]] | None:
        value = self.uow.kv_get(NS_META, KEY_SYNONYMS)
        return None if value is None else list(value)

    def save_synonyms(self, groups: list[list[str]]) -> None:
        self.uow.kv_put(NS_META, KEY_SYNONYMS, groups)

    def add_vote(self, article_id: str, helped: bool) -> HelpfulnessVotes:
        new = _counted(self.votes(article_id), helped)
        self.uow.kv_put(NS_VOTES, article_id, {"helped": new.helped, "not_helped": new.not_helped})
        return new

    def votes(self, article_id: str) -> HelpfulnessVotes:
        value = self.uow.kv_get(NS_VOTES, article_id)
        if not value:
            return HelpfulnessVotes()
        return HelpfulnessVotes(int(value["helped"]), int(value["not_helped"]))
