"""Search quality figures on the labelled question set: top-1, top-3, MRR, empty results.

The floor the issue names is here too: one plain FTS5 table over Snowball
stems of title, tags and body, without stop-word removal, ranked by
FTS5's default ``bm25()`` with the question's stems OR-ed.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import snowballstemmer
from kb_testdata import Question, load_articles

from supportkit.knowledge._fts5 import fts5_query

_TOKEN = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

Search = Callable[[str, str], list[str]]


@attrs.frozen
class Figures:
    """How often the first right article is ranked 1st / in the top 3, and the MRR."""

    questions: int
    top1: int
    top3: int
    reciprocal_rank_sum: float
    empty: int

    @property
    def mrr(self) -> float:
        return self.reciprocal_rank_sum / self.questions if self.questions else 0.0

    def line(self, label: str) -> str:
        n = self.questions or 1
        return (
            f"{label:<38} n={self.questions:3}  top-1 {self.top1 / n:6.1%}  "
            f"top-3 {self.top3 / n:6.1%}  MRR {self.mrr:.3f}  empty {self.empty}"
        )


def evaluate(search: Search, questions: Iterable[Question], depth: int = 10) -> Figures:
    """Run every answerable question through *search* (ids, best first) and score it."""
    n = top1 = top3 = empty = 0
    rr = 0.0
    for q in questions:
        ids = search(q.text, q.locale)[:depth]
        n += 1
        empty += not ids
        rank = next((i for i, a in enumerate(ids, 1) if a in q.answers), None)
        if rank is not None:
            rr += 1 / rank
            top1 += rank == 1
            top3 += rank <= 3
    return Figures(n, top1, top3, rr, empty)


def floor_search() -> tuple[Search, sqlite3.Connection]:
    """The floor: a plain FTS5 table of Snowball stems (no stop words removed), default bm25."""
    english = snowballstemmer.stemmer("english")
    russian = snowballstemmer.stemmer("russian")

    def stems(text: str) -> list[str]:
        return [
            russian.stemWord(t) if _CYRILLIC.search(t) else english.stemWord(t)
            for t in _TOKEN.findall(text.lower().replace("ё", "е"))
        ]

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE plain USING fts5(key UNINDEXED, locale UNINDEXED, text)")
    for a in load_articles():
        text = " ".join(stems(f"{a['title']} {' '.join(a['tags'])} {a['body']}"))
        conn.execute("INSERT INTO plain VALUES (?, ?, ?)", (a["key"], a["locale"], text))

    def search(text: str, locale: str) -> list[str]:
        terms = stems(text)
        if not terms:
            return []
        rows: list[Any] = conn.execute(
            "SELECT key FROM plain WHERE plain MATCH ? AND locale = ? ORDER BY bm25(plain) "
            "LIMIT 10",
            (fts5_query(terms), locale),
        ).fetchall()
        return [r[0] for r in rows]

    return search, conn
