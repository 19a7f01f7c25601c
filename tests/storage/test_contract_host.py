"""The storage contract on HostStorage: the host's own sqlite3 and psycopg connections.

The host commits after every unit of work here (as a web host commits after
each request), so the suite sees what a host's committed transactions hold.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from supportkit.storage.host import HostStorage, HostUnitOfWork
from supportkit.testing import StorageContract

from ..pg import pg_schema


class _CommittingHost(HostStorage):
    """A host that commits its connection after each of supportkit's units of work."""

    def unit_of_work(self) -> HostUnitOfWork:
        return _CommitAfter(self)


class _CommitAfter(HostUnitOfWork):
    def do_end(self) -> None:
        conn: Any = self._host.driver()
        conn.commit()  # before the next thread's turn
        super().do_end()


class TestHostSQLiteContract(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[HostStorage]:
        import sqlite3

        conn = sqlite3.connect(tmp_path / "host.sqlite3", check_same_thread=False)
        storage = _CommittingHost(conn)
        conn.commit()
        yield storage
        storage.close()
        conn.close()

    @pytest.fixture
    def storage_opener(self, tmp_path: Path) -> Callable[[], HostStorage]:
        import sqlite3

        def reopen() -> HostStorage:  # a new host connection on the same file
            return _CommittingHost(
                sqlite3.connect(tmp_path / "host.sqlite3", check_same_thread=False)
            )

        return reopen


@pytest.mark.postgres
class TestHostPostgresContract(StorageContract):
    max_examples = 20

    @pytest.fixture
    def pg_url(self) -> Iterator[str]:
        with pg_schema() as url:
            yield url

    @pytest.fixture
    def storage(self, pg_url: str) -> Iterator[HostStorage]:
        import psycopg

        with psycopg.connect(pg_url) as conn:
            storage = _CommittingHost(conn)
            conn.commit()
            yield storage
            storage.close()

    @pytest.fixture
    def storage_opener(self, pg_url: str) -> Callable[[], HostStorage]:
        import psycopg

        def reopen() -> HostStorage:  # a new host connection on the same schema
            return _CommittingHost(psycopg.connect(pg_url))

        return reopen
