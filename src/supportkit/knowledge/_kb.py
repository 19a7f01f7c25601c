"""The knowledge base: articles, their versions, search and "did this help?" votes.

Only published articles are in the search index; publishing, editing a
published article and unpublishing update the index incrementally.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import datetime

import attrs

from supportkit.domain._errors import NotFound, ValidationError
from supportkit.domain._model import ensure_utc

from ._article import Article, ArticleStatus, ArticleVersion, HelpfulnessVotes
from ._search import IndexedDocument, MemorySearchIndex, SearchIndex

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


@attrs.frozen
class ArticleMatch:
    """A published article found by search, with its BM25 score (higher is better)."""

    article: Article
    score: float


def _tags(tags: Iterable[str]) -> tuple[str, ...]:
    if isinstance(tags, str):
        raise ValidationError(
            f"article tags must be a collection of strings, got the string {tags!r}; "
            "wrap it in a tuple"
        )
    return tuple(tags)


def _sequential_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"kb-{next(counter)}"


class KnowledgeBase:
    """Articles in memory plus a pluggable :class:`SearchIndex`.

    *id_source* makes article ids (default: ``kb-1``, ``kb-2``, ... per
    instance); pass the desk's id generator to get globally unique ids.
    """

    def __init__(
        self,
        index: SearchIndex | None = None,
        *,
        id_source: Callable[[], str] | None = None,
    ) -> None:
        self.index: SearchIndex = index if index is not None else MemorySearchIndex()
        self._ids = id_source or _sequential_ids()
        self._articles: dict[str, Article] = {}
        self._votes: dict[str, HelpfulnessVotes] = {}

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
        article = Article(self._ids(), locale.strip().lower(), [first])
        self.add(article)
        if publish:
            self.publish(article.id, at=at)
        return article

    def add(self, article: Article) -> None:
        """Take an existing article (e.g. loaded from storage); published ones are indexed."""
        if article.id in self._articles:
            raise ValidationError(
                f"article {article.id!r} is already in the knowledge base; use edit() to change it"
            )
        self._articles[article.id] = article
        if article.is_published:
            self.index.add(self._document(article))

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
        article = self.get(article_id)
        cur = article.current
        at = ensure_utc(at)
        if at < cur.edited_at:
            raise ValidationError(
                f"edit of article {article_id!r} at {at.isoformat()} is earlier than its "
                f"version {cur.number} ({cur.edited_at.isoformat()}); pass the current time"
            )
        new = ArticleVersion(
            cur.number + 1,
            cur.title if title is None else title,
            cur.body if body is None else body,
            cur.category if category is _UNSET else category,  # type: ignore[arg-type]
            cur.tags if tags is None else _tags(tags),
            at,
            editor,
        )
        article.versions.append(new)
        if article.is_published:
            self.index.add(self._document(article))
        return article

    def publish(self, article_id: str, *, at: datetime) -> Article:
        article = self.get(article_id)
        if not article.is_published:
            article.status = ArticleStatus.PUBLISHED
            article.published_at = ensure_utc(at)
        self.index.add(self._document(article))
        return article

    def unpublish(self, article_id: str) -> Article:
        """Back to draft: the article disappears from search, its history stays."""
        article = self.get(article_id)
        article.status = ArticleStatus.DRAFT
        self.index.remove(article_id)
        return article

    def get(self, article_id: str) -> Article:
        try:
            return self._articles[article_id]
        except KeyError:
            raise ArticleNotFound(article_id) from None

    def articles(
        self, *, locale: str | None = None, status: ArticleStatus | None = None
    ) -> list[Article]:
        return [
            a
            for a in self._articles.values()
            if (locale is None or a.locale == locale) and (status is None or a.status is status)
        ]

    # -- search -------------------------------------------------------------

    def search(
        self, query: str, *, locale: str | None = None, limit: int = 5
    ) -> list[ArticleMatch]:
        """Published articles best matching *query*, best first."""
        hits = self.index.search(query, locale, limit)
        return [ArticleMatch(self._articles[h.article_id], h.score) for h in hits]

    def suggest(
        self, subject: str, text: str = "", *, locale: str | None = None, limit: int = 3
    ) -> list[ArticleMatch]:
        """Articles that may answer a ticket, from its subject and (the start of) its text.

        Shown to the customer before the ticket is filed and to the agent
        while answering it.
        """
        query = f"{subject}\n{text[:MAX_SUGGEST_QUERY]}"
        return self.search(query, locale=locale, limit=limit)

    # -- did this help? -----------------------------------------------------

    def record_vote(self, article_id: str, *, helped: bool) -> HelpfulnessVotes:
        """Count one "did this help?" answer for the article and return the new totals."""
        self.get(article_id)
        old = self._votes.get(article_id, HelpfulnessVotes())
        new = (
            HelpfulnessVotes(old.helped + 1, old.not_helped)
            if helped
            else HelpfulnessVotes(old.helped, old.not_helped + 1)
        )
        self._votes[article_id] = new
        return new

    def votes(self, article_id: str) -> HelpfulnessVotes:
        self.get(article_id)
        return self._votes.get(article_id, HelpfulnessVotes())

    @staticmethod
    def _document(article: Article) -> IndexedDocument:
        return IndexedDocument(
            article.id, article.locale, article.title, article.body, article.tags
        )
