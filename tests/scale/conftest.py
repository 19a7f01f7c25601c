"""The database URL every multi-process test runs on: a SQLite file, and a fresh PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..pg import pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "desk.sqlite3")
    else:
        with pg_schema() as conninfo:
            yield conninfo
