"""Typo tolerance: a question's term that no article contains is replaced by the nearest one.

Only *suspect* terms are corrected: a Russian word the dictionary does not
know (with ``supportkit[lemmas]``), or any unknown term when the question
found nothing at all (so a question with a relevant article never comes back
empty). Correcting every unknown word would turn real words the articles
do not use into unrelated ones ("call" into "calm").

One definition for every index: an index only says which terms it knows
and lists the terms that start with a given letter (its *vocabulary*);
:func:`correct` picks, for each unknown term, the known term at the
smallest Damerau-Levenshtein distance (at most 1 for short terms, 2 for
long ones; ties go to the term in more articles). So "pasword",
"пороль" and "subscripton" still find their articles.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Protocol

__all__ = ["Vocabulary", "correct", "edit_distance", "max_typos"]

MIN_TYPO_LENGTH = 4


class Vocabulary(Protocol):
    """The terms an index holds, as typo correction needs them."""

    def known(self, terms: Iterable[str]) -> set[str]:
        """Which of *terms* at least one indexed article contains."""
        ...

    def starting_with(self, head: str) -> list[tuple[str, int]]:
        """Every indexed term starting with *head*, with its article count."""
        ...


def max_typos(term: str) -> int:
    """Edits allowed in a term: none below 4 letters, 1 up to 7, then 2."""
    if len(term) < MIN_TYPO_LENGTH:
        return 0
    return 1 if len(term) <= 7 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, or ``limit + 1`` if above it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        best = i
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, prev2[j - 2] + 1)
            cur[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def correct(terms: list[str], vocabulary: Vocabulary, suspects: Container[str]) -> list[str]:
    """*terms* with each unknown suspect replaced by its nearest known term (dropped if none)."""
    known = vocabulary.known(terms)
    out: list[str] = []
    for term in terms:
        if term in known or term.isdigit() or term not in suspects:
            out.append(term)
            continue
        limit = max_typos(term)
        if limit == 0:
            continue
        best: tuple[int, int, str] | None = None
        for candidate, count in vocabulary.starting_with(term[0]):
            d = edit_distance(term, candidate, limit)
            if d <= limit and (best is None or (d, -count, candidate) < best):
                best = (d, -count, candidate)
        if best is not None:
            out.append(best[2])
    return out
