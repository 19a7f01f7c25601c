"""Access to the real PostgreSQL server for tests.

Locally a missing server skips the test with the reason; under CI=true it
fails, because CI must run the PostgreSQL suite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_URL = os.environ.get("SUPPORTKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")


def _server_answers() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'supportkit[postgres]')"
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL server answers at {PG_URL}: {exc}".strip()


def require_pg() -> None:
    reason = _server_answers()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL tests, but {reason}")
        pytest.skip(reason)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh schema for one test; yields a conninfo whose search_path points at it."""
    import psycopg

    require_pg()
    name = f"sk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")
