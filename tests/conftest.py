"""Shared test setup: hypothesis profiles ("dev" quick, "ci" thorough when CI=true)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=False,
)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() in ("true", "1") else "dev")
)


# -- the three shipped backends, for tests that must hold on each ---------------------------

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh storage on each shipped backend: memory, a SQLite file, the real PostgreSQL
    (a schema of its own; skipped locally without a server, required under CI=true)."""
    if request.param == "memory":
        from supportkit.storage.memory import MemoryStorage

        yield MemoryStorage()
    elif request.param == "sqlite":
        from supportkit.storage.sqlite import SQLiteStorage

        s = SQLiteStorage(tmp_path / "desk.sqlite3")
        yield s
        s.close()
    else:
        from supportkit.storage.postgres import PostgresStorage
        from tests.pg import pg_schema

        with pg_schema() as url:
            pg = PostgresStorage(url)
            yield pg
            pg.close()
