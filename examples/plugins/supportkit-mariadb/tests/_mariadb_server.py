"""A fresh MariaDB database per test (skips locally without a server; fails under CI=true)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

SERVER = os.environ.get("SUPPORTKIT_TEST_MARIADB", "mariadb://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")


def _admin() -> object:
    import pymysql
    from supportkit_mariadb import connect_args

    args = connect_args(SERVER)
    args.pop("database")
    return pymysql.connect(**args, autocommit=True, connect_timeout=3)


def require_mariadb() -> None:
    try:
        _admin().close()  # type: ignore[attr-defined]
    except Exception as exc:  # the driver's error: no server, refused, bad credentials
        reason = f"no MariaDB server answers at {SERVER}: {exc}"
        if IN_CI:
            pytest.fail(f"CI must run the MariaDB tests, but {reason}")
        pytest.skip(reason)


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    require_mariadb()
    name = f"sk_test_{uuid.uuid4().hex[:12]}"
    conn = _admin()
    try:
        conn.cursor().execute(f"CREATE DATABASE {name}")  # type: ignore[attr-defined]
        base = SERVER.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS {name}")  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]
