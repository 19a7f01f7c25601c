"""The storage contract on HostStorage: the host's own sqlite3 and psycopg connections.

The host commits after every unit of work here (as a web host commits after
each request), so the suite sees what a host's committed transactions hold.
"""

from collections.abc import Iterator
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


@pytest.mark.postgres
class TestHostPostgresContract(StorageContract):
    max_examples = 20

    @pytest.fixture
    def storage(self) -> Iterator[HostStorage]:
        import psycopg

        with pg_schema() as url, psycopg.connect(url) as conn:
            storage = _CommittingHost(conn)
            conn.commit()
            yield storage
            storage.close()
