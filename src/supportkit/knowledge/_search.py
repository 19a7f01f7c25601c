"""Search indexes over knowledge base articles.

:class:`SearchIndex` is the port: add (or replace) a document, remove it,
search it. :class:`MemorySearchIndex` is the pure-Python implementation; the
SQLite one lives in ``_fts5.py``. Both rank with the same BM25 variant as
SQLite FTS5's ``bm25()`` (per-column weights added into the term frequency,
document length over all columns, FTS5's IDF floor), so the same question
gets the same top articles from either.

One definition of what is indexed and what is searched serves every index:
:func:`document_fields` turns an article into its weighted fields (title,
tags, body with their synonym concepts, and the roots of all three), and
:class:`QueryPlanner` turns a question into the terms to look up: analysed
terms, misspelt ones corrected to the nearest indexed term (typo
tolerance), the concepts of the desk's synonyms found in them, and the roots
of the words no synonym entry matched.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import attrs

from supportkit.domain._errors import ValidationError

from ._stem import Analyzer
from ._synonyms import CompiledSynonyms, Synonyms
from ._typos import Vocabulary, correct

__all__ = [
    "BM25Parameters",
    "IndexedDocument",
    "MemorySearchIndex",
    "QueryPlanner",
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
    roots_weight: float = 0.5

    @property
    def weights(self) -> tuple[float, float, float, float]:
        """Weights of the fields in :func:`document_fields` order."""
        return (self.title_weight, self.tags_weight, self.body_weight, self.roots_weight)


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


def document_fields(planner: QueryPlanner, document: IndexedDocument) -> list[list[str]]:
    """The terms of the indexed fields: title, tags, body (each with its synonym concepts),
    and the roots of all three."""
    a = planner.analyzer
    fields = [a.terms(document.title), a.terms(" ".join(document.tags)), a.terms(document.body)]
    roots = a.roots([t for f in fields for t in f])
    return [f + planner.concepts(f)[0] for f in fields] + [roots]


class QueryPlanner:
    """Turns a question into the terms an index looks up (one definition for every index).

    *synonyms*: the desk's synonym list (None: the shipped starter list;
    ``Synonyms()`` for none). *typos*: correct terms no article contains.
    """

    def __init__(
        self, analyzer: Analyzer, synonyms: Synonyms | None = None, *, typos: bool = True
    ) -> None:
        self.analyzer = analyzer
        self.typos = typos
        self.synonyms = synonyms if synonyms is not None else Synonyms.starter()

    @property
    def synonyms(self) -> Synonyms:
        return self._synonyms

    @synonyms.setter
    def synonyms(self, synonyms: Synonyms) -> None:
        self._synonyms = synonyms
        self._compiled: CompiledSynonyms = synonyms.compile(self.analyzer)

    @property
    def fingerprint(self) -> str:
        """What decides the indexed text (analyzer and synonyms): another one means re-index."""
        return f"{self.analyzer.fingerprint};synonyms={self._synonyms.fingerprint}"

    def concepts(self, terms: list[str]) -> tuple[list[str], set[str]]:
        """The synonym concept tokens found in *terms*, and the terms that matched an entry."""
        return self._compiled.concepts(terms)

    def plan(self, query: str, vocabulary: Vocabulary, *, fallback: bool = False) -> list[str]:
        """The unique terms and roots to search for *query*, in a stable order.

        *fallback*: the question found nothing; correct every unknown term.
        """
        a = self.analyzer
        tokens = a.content_tokens(query)
        terms = [a.stem(t) for t in tokens]
        extra, matched = self._compiled.concepts(terms)
        if self.typos:
            suspects = {
                term
                for token, term in zip(tokens, terms, strict=True)
                if term not in matched and (fallback or a.misspelt(token))
            }
            if suspects:
                terms = correct(terms, vocabulary, suspects)
                extra, matched = self._compiled.concepts(terms)
        # a word that matched a synonym entry is already stood for by its concept:
        # its root would count the same word family a third time
        free = [t for t in terms if t not in matched]
        return list(dict.fromkeys(terms + extra + a.roots(free)))

    def retry_plan(self, query: str, vocabulary: Vocabulary, first: list[str]) -> list[str] | None:
        """The plan for a question whose first plan found nothing, or None if it would not differ."""
        if not self.typos:
            return None
        again = self.plan(query, vocabulary, fallback=True)
        return again if again != first else None


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
        self,
        analyzer: Analyzer | None = None,
        params: BM25Parameters | None = None,
        *,
        synonyms: Synonyms | None = None,
        planner: QueryPlanner | None = None,
    ) -> None:
        self.analyzer = analyzer or Analyzer()
        self.params = params or BM25Parameters()
        self.planner = planner or QueryPlanner(self.analyzer, synonyms)
        self._docs: dict[str, _Doc] = {}
        self._postings: dict[str, dict[str, float]] = {}
        self._by_head: dict[str, set[str]] = {}
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._docs

    def add(self, document: IndexedDocument) -> None:
        self.remove(document.article_id)
        fields = document_fields(self.planner, document)
        weighted: dict[str, float] = {}
        for terms, weight in zip(fields, self.params.weights, strict=True):
            for term in terms:
                weighted[term] = weighted.get(term, 0.0) + weight
        # +1: the locale token, as in the FTS5 table (a column of weight 0)
        locale = document.locale.strip().lower()
        doc = _Doc(locale, sum(map(len, fields)) + 1, weighted)
        self._docs[document.article_id] = doc
        self._total_length += doc.length
        for term, tf in doc.weighted_tf.items():
            posting = self._postings.get(term)
            if posting is None:
                posting = self._postings[term] = {}
                self._by_head.setdefault(term[0], set()).add(term)
            posting[document.article_id] = tf

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
                self._by_head[term[0]].discard(term)

    def clear(self) -> None:
        """Drop every document (before indexing them again with other analysis)."""
        self._docs.clear()
        self._postings.clear()
        self._by_head.clear()
        self._total_length = 0

    def known(self, terms: Iterable[str]) -> set[str]:
        """Which of *terms* some indexed article contains (typo correction's vocabulary)."""
        return {t for t in terms if t in self._postings}

    def starting_with(self, head: str) -> list[tuple[str, int]]:
        """Indexed terms starting with *head* (one letter), with their article counts."""
        return [
            (t, len(self._postings[t]))
            for t in self._by_head.get(head[:1], ())
            if t.startswith(head)
        ]

    def search(self, query: str, locale: str | None = None, limit: int = 10) -> list[SearchHit]:
        check_limit(limit)
        n_docs = len(self._docs)
        if n_docs == 0:
            return []
        if locale is not None:
            locale = locale.strip().lower()
        plan = self.planner.plan(query, self)
        hits = self._score(plan, locale, limit)
        if not hits:
            retry = self.planner.retry_plan(query, self, plan)
            if retry is not None:
                hits = self._score(retry, locale, limit)
        return hits

    def _score(self, plan: list[str], locale: str | None, limit: int) -> list[SearchHit]:
        n_docs = len(self._docs)
        k1, b = self.params.k1, self.params.b
        avgdl = self._total_length / n_docs or 1.0
        scores: dict[str, float] = {}
        for term in plan:
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
