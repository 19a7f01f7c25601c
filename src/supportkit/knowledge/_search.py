"""Search indexes over knowledge base articles.

:class:`SearchIndex` is the port: add (or replace) a document, remove it,
search it. :class:`MemorySearchIndex` is the pure-Python implementation; the
SQLite one lives in ``_fts5.py``. Both rank with the same BM25 variant as
SQLite FTS5's ``bm25()`` (per-column weights added into the term frequency,
document length over all columns, FTS5's IDF floor), so the same question
gets the same top articles from either.
"""

from __future__ import annotations

import heapq
import math
from typing import Protocol, runtime_checkable

import attrs

from supportkit.domain._errors import ValidationError

from ._stem import Analyzer

__all__ = [
    "BM25Parameters",
    "IndexedDocument",
    "MemorySearchIndex",
    "SearchHit",
    "SearchIndex",
]


@attrs.frozen
class IndexedDocument:
    """What an index needs to know about one published article."""

    article_id: str
    locale: str
    title: str
    body: str
    tags: tuple[str, ...] = ()


@attrs.frozen
class SearchHit:
    """One ranked result; ``score`` is positive, higher is better."""

    article_id: str
    score: float


@attrs.frozen
class BM25Parameters:
    """BM25 constants and the weight of each field (title boost)."""

    k1: float = 1.2
    b: float = 0.75
    title_weight: float = 3.0
    tags_weight: float = 2.0
    body_weight: float = 1.0


@runtime_checkable
class SearchIndex(Protocol):
    """Full-text index of published articles; implementations must keep results ranked."""

    def add(self, document: IndexedDocument) -> None:
        """Index *document*, replacing any earlier document with the same article id."""

    def remove(self, article_id: str) -> None:
        """Drop the article from the index; unknown ids are ignored."""

    def search(self, query: str, locale: str | None = None, limit: int = 10) -> list[SearchHit]:
        """Best matches for *query* in *locale* (all locales when None), best first."""
        ...


def check_limit(limit: int) -> None:
    if limit < 1:
        raise ValidationError(f"search limit must be at least 1, got {limit!r}")


def idf(n_docs: int, n_hits: int) -> float:
    """FTS5's IDF: log((N - n + 0.5) / (n + 0.5)), floored at 1e-6 for very common terms."""
    value = math.log((n_docs - n_hits + 0.5) / (n_hits + 0.5))
    return value if value > 0 else 1e-6


@attrs.define
class _Doc:
    locale: str
    length: int
    weighted_tf: dict[str, float]


class MemorySearchIndex:
    """An inverted index in memory, updated incrementally, ranked with BM25.

    Collection statistics (document count, average length, document
    frequencies) are global across locales, exactly as in one FTS5 table.
    """

    def __init__(
        self, analyzer: Analyzer | None = None, params: BM25Parameters | None = None
    ) -> None:
        self.analyzer = analyzer or Analyzer()
        self.params = params or BM25Parameters()
        self._docs: dict[str, _Doc] = {}
        self._postings: dict[str, dict[str, float]] = {}
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._docs

    def add(self, document: IndexedDocument) -> None:
        self.remove(document.article_id)
        p = self.params
        title = self.analyzer.terms(document.title)
        tags = self.analyzer.terms(" ".join(document.tags))
        body = self.analyzer.terms(document.body)
        weighted: dict[str, float] = {}
        for terms, weight in (
            (title, p.title_weight),
            (tags, p.tags_weight),
            (body, p.body_weight),
        ):
            for term in terms:
                weighted[term] = weighted.get(term, 0.0) + weight
        # +1: the locale token, as in the FTS5 table (a column of weight 0)
        locale = document.locale.strip().lower()
        doc = _Doc(locale, len(title) + len(tags) + len(body) + 1, dict(weighted))
        self._docs[document.article_id] = doc
        self._total_length += doc.length
        for term, tf in doc.weighted_tf.items():
            self._postings.setdefault(term, {})[document.article_id] = tf

    def remove(self, article_id: str) -> None:
        doc = self._docs.pop(article_id, None)
        if doc is None:
            return
        self._total_length -= doc.length
        for term in doc.weighted_tf:
            posting = self._postings[term]
            del posting[article_id]
            if not posting:
                del self._postings[term]

    def search(self, query: str, locale: str | None = None, limit: int = 10) -> list[SearchHit]:
        check_limit(limit)
        n_docs = len(self._docs)
        if n_docs == 0:
            return []
        k1, b = self.params.k1, self.params.b
        avgdl = self._total_length / n_docs or 1.0
        if locale is not None:
            locale = locale.strip().lower()
        scores: dict[str, float] = {}
        for term in dict.fromkeys(self.analyzer.terms(query)):
            posting = self._postings.get(term)
            if not posting:
                continue
            term_idf = idf(n_docs, len(posting))
            for article_id, tf in posting.items():
                doc = self._docs[article_id]
                if locale is not None and doc.locale != locale:
                    continue
                norm = k1 * (1 - b + b * doc.length / avgdl)
                scores[article_id] = scores.get(article_id, 0.0) + term_idf * tf * (k1 + 1) / (
                    tf + norm
                )
        ranked = heapq.nsmallest(limit, scores.items(), key=lambda item: (-item[1], item[0]))
        return [SearchHit(article_id, score) for article_id, score in ranked]
