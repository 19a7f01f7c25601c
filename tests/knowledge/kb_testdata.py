"""Loading the bilingual test knowledge base in tests/data/kb (shared by tests and benchmarks)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from supportkit.knowledge import KnowledgeBase, SearchIndex

DATA = Path(__file__).resolve().parents[1] / "data" / "kb"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

QUALITY_KEY = pytest.StashKey[list[str]]()


def load_articles() -> list[dict[str, Any]]:
    articles: list[dict[str, Any]] = []
    for locale in ("en", "ru"):
        with (DATA / f"articles_{locale}.toml").open("rb") as f:
            for article in tomllib.load(f)["article"]:
                articles.append({**article, "locale": locale})
    return articles


def load_questions() -> list[dict[str, str]]:
    with (DATA / "questions.toml").open("rb") as f:
        questions: list[dict[str, str]] = tomllib.load(f)["question"]
    return questions


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


def build_kb(index: SearchIndex) -> KnowledgeBase:
    """The test KB over *index*, every article published, ids equal to the data file keys."""
    return seed(KnowledgeBase(index, id_source=key_source()))
