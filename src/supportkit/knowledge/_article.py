"""Knowledge base articles: drafts and published answers, with every edit kept.

An :class:`Article` is an entity; each edit appends an immutable
:class:`ArticleVersion`, so the history of who changed what and when is
never lost, and the current text is simply the last version.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from supportkit.domain._errors import ValidationError
from supportkit.domain._model import ensure_utc

from ._search import IndexedDocument

__all__ = [
    "Article",
    "ArticleMatch",
    "ArticleStatus",
    "ArticleVersion",
    "HelpfulnessVotes",
]

MAX_TITLE = 300
MAX_BODY = 100_000


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


def _normalise_tags(tags: object) -> tuple[str, ...]:
    if isinstance(tags, str):
        raise ValidationError(
            f"article tags must be a collection of strings, got the string {tags!r}; "
            "wrap it in a tuple"
        )
    if not isinstance(tags, tuple | list | set | frozenset):
        raise ValidationError(f"article tags must be a collection of strings, got {tags!r}")
    seen: dict[str, None] = {}
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise ValidationError(f"article tag {tag!r} is not a non-empty string")
        seen[tag.strip().lower()] = None
    return tuple(seen)


@attrs.frozen
class ArticleVersion:
    """The full content of an article as of one edit (versions count from 1)."""

    number: int
    title: str
    body: str
    category: str | None
    tags: tuple[str, ...] = attrs.field(converter=_normalise_tags)
    edited_at: datetime = attrs.field(converter=ensure_utc)
    editor: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.title.strip():
            raise ValidationError("an article needs a non-empty title")
        if len(self.title) > MAX_TITLE:
            raise ValidationError(
                f"article title is {len(self.title)} characters; the limit is {MAX_TITLE}"
            )
        if not self.body.strip():
            raise ValidationError(f"article {self.title!r} needs a non-empty body")
        if len(self.body) > MAX_BODY:
            raise ValidationError(
                f"article {self.title!r} body is {len(self.body)} characters; "
                f"the limit is {MAX_BODY}: split it into several articles"
            )


@attrs.frozen
class HelpfulnessVotes:
    """Answers to "did this help?" for one article."""

    helped: int = 0
    not_helped: int = 0

    @property
    def total(self) -> int:
        return self.helped + self.not_helped

    @property
    def ratio(self) -> float | None:
        """Share of "yes" answers, or None before the first vote."""
        return self.helped / self.total if self.total else None


@attrs.define
class Article:
    """A knowledge base article in one locale (``"en"``, ``"ru"``, ...)."""

    id: str
    locale: str
    versions: list[ArticleVersion]
    status: ArticleStatus = ArticleStatus.DRAFT
    published_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if not self.versions:
            raise ValidationError(f"article {self.id!r} needs at least one version")
        if not self.locale.strip():
            raise ValidationError(f"article {self.id!r} needs a locale such as 'en' or 'ru'")

    @property
    def current(self) -> ArticleVersion:
        return self.versions[-1]

    @property
    def version(self) -> int:
        return self.current.number

    @property
    def title(self) -> str:
        return self.current.title

    @property
    def body(self) -> str:
        return self.current.body

    @property
    def category(self) -> str | None:
        return self.current.category

    @property
    def tags(self) -> tuple[str, ...]:
        return self.current.tags

    @property
    def is_published(self) -> bool:
        return self.status is ArticleStatus.PUBLISHED


def indexed_document(article: Article) -> IndexedDocument:
    """What the search index keeps of a published article (its current version)."""
    return IndexedDocument(article.id, article.locale, article.title, article.body, article.tags)


@attrs.frozen
class ArticleMatch:
    """A published article found by search, with its score (higher is better).

    The score is BM25; with a :class:`SemanticReranker` it is BM25 lowered by
    how much less similar in meaning the article is than the most similar
    candidate (so it can be negative far down the list).
    """

    article: Article
    score: float
