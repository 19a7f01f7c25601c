"""Fixtures for knowledge base tests: the bilingual test KB from tests/data/kb."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from kb_testdata import QUALITY_KEY, build_kb

from supportkit.knowledge import FTS5SearchIndex, KnowledgeBase, MemorySearchIndex, SearchIndex


@pytest.fixture(scope="session")
def memory_kb() -> KnowledgeBase:
    return build_kb(MemorySearchIndex())


@pytest.fixture(scope="session")
def fts5_kb() -> Iterator[KnowledgeBase]:
    conn = sqlite3.connect(":memory:")
    yield build_kb(FTS5SearchIndex(conn))
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
