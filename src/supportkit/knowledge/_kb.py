"""The knowledge base: articles, their versions, search and "did this help?" votes.

Only published articles are in the search index; publishing, editing a
published article and unpublishing update the index incrementally. Each
operation runs in one *session* of the backend: a plain dict for
``KnowledgeBase()``, one storage transaction for ``KnowledgeBase.on(storage)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from supportkit.domain._errors import ConfigurationError, NotFound, ValidationError
from supportkit.domain._model import ensure_utc

from ._article import (
    Article,
    ArticleMatch,
    ArticleStatus,
    ArticleVersion,
    HelpfulnessVotes,
    indexed_document,
)
from ._rerank import SemanticReranker
from ._search import BM25Parameters, MemorySearchIndex, QueryPlanner, SearchIndex
from ._stem import Analyzer
from ._store import ArticleStore, DictArticleStore, reindex
from ._synonyms import Synonyms

if TYPE_CHECKING:
    from supportkit.ports._storage import Storage

__all__ = ["ArticleMatch", "ArticleNotFound", "KnowledgeBase"]

_UNSET: object = object()
MAX_SUGGEST_QUERY = 2_000


class ArticleNotFound(NotFound):
    def __init__(self, key: object) -> None:
        super().__init__(
            "knowledge base article",
            key,
            "check the article id, or list them with KnowledgeBase.articles()",
        )


def _tags(tags: Iterable[str]) -> tuple[str, ...]:
    if isinstance(tags, str):
        raise ValidationError(
            f"article tags must be a collection of strings, got the string {tags!r}; "
            "wrap it in a tuple"
        )
    return tuple(tags)


def _found(store: ArticleStore, article_id: str) -> Article:
    article = store.get(article_id)
    if article is None:
        raise ArticleNotFound(article_id)
    return article


class _Backend(Protocol):
    default_synonyms: Synonyms

    def session(self) -> AbstractContextManager[tuple[ArticleStore, SearchIndex]]: ...

    def use_synonyms(self, synonyms: Synonyms, store: ArticleStore, index: SearchIndex) -> None:
        """Search with *synonyms* from now on; re-index what this process indexes."""


def _planner(index: SearchIndex) -> QueryPlanner:
    planner = getattr(index, "planner", None)
    if not isinstance(planner, QueryPlanner):
        raise ConfigurationError(
            f"{type(index).__name__} has no QueryPlanner, so it cannot use a synonym list; "
            "use MemorySearchIndex or FTS5SearchIndex, or give the index a 'planner' attribute"
        )
    return planner


class _InProcess:
    """The plain knowledge base: articles in a dict, the index updated directly."""

    def __init__(self, index: SearchIndex, synonyms: Synonyms | None) -> None:
        self.store = DictArticleStore()
        self.index = index
        planner = getattr(index, "planner", None)
        if synonyms is not None:
            _planner(index).synonyms = synonyms
        self.default_synonyms = (
            planner.synonyms if isinstance(planner, QueryPlanner) else Synonyms()
        )

    def use_synonyms(self, synonyms: Synonyms, store: ArticleStore, index: SearchIndex) -> None:
        _planner(index).synonyms = synonyms
        reindex(store, index)

    @contextmanager
    def session(self) -> Iterator[tuple[ArticleStore, SearchIndex]]:
        yield self.store, self.index


class KnowledgeBase:
    """Articles, their versions and votes, plus a pluggable :class:`SearchIndex`.

    ``KnowledgeBase()`` keeps everything in process memory. ``KnowledgeBase.on(storage)``
    keeps it in the desk's storage (every operation is one transaction there)
    and searches with the backend's index (FTS5 on SQLite).

    *id_source* makes article ids (default: ``kb-1``, ``kb-2``, ... from the
    knowledge base's revision counter, so ids stay unique across restarts of
    a stored knowledge base). *synonyms*: the desk's synonym list until
    :meth:`set_synonyms` stores another (default: :meth:`Synonyms.starter`).
    *reranker*: re-order the best BM25 candidates by meaning
    (:class:`SemanticReranker`, ``supportkit[semantic]``; default: none).
    """

    def __init__(
        self,
        index: SearchIndex | None = None,
        *,
        id_source: Callable[[], str] | None = None,
        synonyms: Synonyms | None = None,
        reranker: SemanticReranker | None = None,
    ) -> None:
        self.index: SearchIndex = index if index is not None else MemorySearchIndex()
        self._ids = id_source
        self.reranker = reranker
        self._backend: _Backend = _InProcess(self.index, synonyms)

    @classmethod
    def on(
        cls,
        storage: Storage,
        *,
        id_source: Callable[[], str] | None = None,
        analyzer: Analyzer | None = None,
        params: BM25Parameters | None = None,
        synonyms: Synonyms | None = None,
        reranker: SemanticReranker | None = None,
    ) -> KnowledgeBase:
        """A knowledge base kept in *storage* (memory, SQLite or PostgreSQL).

        SQL storages must be opened with the ``knowledge`` schema component:
        ``SQLiteStorage(path, components=[KNOWLEDGE_SCHEMA])``.
        """
        from ._kb_storage import StorageBackend

        backend = StorageBackend(storage, analyzer=analyzer, params=params, synonyms=synonyms)
        kb = cls(backend.memory_index, id_source=id_source, reranker=reranker)
        kb._backend = backend
        return kb

    @property
    def planner(self) -> QueryPlanner:
        """How the search index analyses questions and articles (analyzer, synonyms)."""
        return _planner(self.index)

    # -- articles -----------------------------------------------------------

    def create(
        self,
        *,
        title: str,
        body: str,
        locale: str,
        at: datetime,
        category: str | None = None,
        tags: Iterable[str] = (),
        editor: str = "",
        publish: bool = False,
    ) -> Article:
        """Write a new article (a draft unless *publish*) and return it."""
        first = ArticleVersion(1, title, body, category, _tags(tags), at, editor)
        if not locale.strip():
            raise ValidationError("an article needs a locale such as 'en' or 'ru'")
        with self._backend.session() as (store, index):
            revision = store.next_revision()
            article_id = self._ids() if self._ids is not None else f"kb-{revision}"
            article = Article(article_id, locale.strip().lower(), [first])
            if publish:
                article.status = ArticleStatus.PUBLISHED
                article.published_at = ensure_utc(at)
            self._insert(store, index, article, revision)
        return article

    def add(self, article: Article) -> None:
        """Take an existing article (e.g. imported); published ones are indexed."""
        with self._backend.session() as (store, index):
            self._insert(store, index, article, store.next_revision())

    def _insert(
        self, store: ArticleStore, index: SearchIndex, article: Article, revision: int
    ) -> None:
        if store.get(article.id) is not None:
            raise ValidationError(
                f"article {article.id!r} is already in the knowledge base; use edit() to change it"
            )
        store.save(article, revision)
        if article.is_published:
            index.add(indexed_document(article))

    def _change(
        self, article_id: str, change: Callable[[Article], None], *, reindex: bool
    ) -> Article:
        with self._backend.session() as (store, index):
            revision = store.next_revision()
            article = _found(store, article_id)
            change(article)
            store.save(article, revision)
            if reindex:
                if article.is_published:
                    index.add(indexed_document(article))
                else:
                    index.remove(article.id)
        return article

    def edit(
        self,
        article_id: str,
        *,
        at: datetime,
        editor: str = "",
        title: str | None = None,
        body: str | None = None,
        category: str | object | None = _UNSET,
        tags: Iterable[str] | None = None,
    ) -> Article:
        """Record a new version with the given fields changed; the old one stays in history."""
        at = ensure_utc(at)
        new_tags = None if tags is None else _tags(tags)

        def change(article: Article) -> None:
            cur = article.current
            if at < cur.edited_at:
                raise ValidationError(
                    f"edit of article {article_id!r} at {at.isoformat()} is earlier than its "
                    f"version {cur.number} ({cur.edited_at.isoformat()}); pass the current time"
                )
            article.versions.append(
                ArticleVersion(
                    cur.number + 1,
                    cur.title if title is None else title,
                    cur.body if body is None else body,
                    cur.category if category is _UNSET else category,  # type: ignore[arg-type]
                    cur.tags if new_tags is None else new_tags,
                    at,
                    editor,
                )
            )

        return self._change(article_id, change, reindex=True)

    def publish(self, article_id: str, *, at: datetime) -> Article:
        def change(article: Article) -> None:
            if not article.is_published:
                article.status = ArticleStatus.PUBLISHED
                article.published_at = ensure_utc(at)

        return self._change(article_id, change, reindex=True)

    def unpublish(self, article_id: str) -> Article:
        """Back to draft: the article disappears from search, its history stays."""

        def change(article: Article) -> None:
            article.status = ArticleStatus.DRAFT

        return self._change(article_id, change, reindex=True)

    def get(self, article_id: str) -> Article:
        with self._backend.session() as (store, _):
            return _found(store, article_id)

    def articles(
        self, *, locale: str | None = None, status: ArticleStatus | None = None
    ) -> list[Article]:
        with self._backend.session() as (store, _):
            return store.list_articles(locale, status)

    # -- search -------------------------------------------------------------

    def search(
        self, query: str, *, locale: str | None = None, limit: int = 5
    ) -> list[ArticleMatch]:
        """Published articles best matching *query*, best first."""
        reranker = self.reranker
        depth = limit if reranker is None else max(limit, reranker.depth)
        pending = reranker.begin(query) if reranker is not None else None
        with self._backend.session() as (store, index):
            hits = index.search(query, locale, depth)
            found = store.get_many(h.article_id for h in hits)
        matches = [
            ArticleMatch(found[h.article_id], h.score) for h in hits if h.article_id in found
        ]
        if reranker is not None:
            matches = reranker.rerank(query, matches, pending)
        return matches[:limit]

    def suggest(
        self, subject: str, text: str = "", *, locale: str | None = None, limit: int = 3
    ) -> list[ArticleMatch]:
        """Articles that may answer a ticket, from its subject and (the start of) its text.

        Shown to the customer before the ticket is filed and to the agent
        while answering it.
        """
        query = f"{subject}\n{text[:MAX_SUGGEST_QUERY]}"
        return self.search(query, locale=locale, limit=limit)

    # -- synonyms -----------------------------------------------------------

    def synonyms(self) -> Synonyms:
        """The desk's synonym list: the stored one, else the one the KB was built with."""
        with self._backend.session() as (store, _):
            groups = store.synonyms()
        return self._backend.default_synonyms if groups is None else Synonyms(groups)

    def set_synonyms(self, synonyms: Synonyms) -> None:
        """Store the desk's synonym list and re-index the published articles with it.

        >>> kb = KnowledgeBase()
        >>> kb.set_synonyms(Synonyms.starter().with_group("invoice", "bill", "счёт"))
        """
        with self._backend.session() as (store, index):
            store.next_revision()
            store.save_synonyms([list(g) for g in synonyms.groups])
            self._backend.use_synonyms(synonyms, store, index)

    # -- did this help? -----------------------------------------------------

    def record_vote(self, article_id: str, *, helped: bool) -> HelpfulnessVotes:
        """Count one "did this help?" answer for the article and return the new totals."""
        with self._backend.session() as (store, _):
            _found(store, article_id)
            return store.add_vote(article_id, helped)

    def votes(self, article_id: str) -> HelpfulnessVotes:
        with self._backend.session() as (store, _):
            _found(store, article_id)
            return store.votes(article_id)
