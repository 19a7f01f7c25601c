"""The storage contract on a real PostgreSQL server (skips locally without one; fails in CI)."""

from collections.abc import Iterator

import pytest

from supportkit.storage.postgres import PostgresStorage
from supportkit.testing import StorageContract

from ..pg import pg_schema

pytestmark = pytest.mark.postgres


class TestPostgresStorageContract(StorageContract):
    @pytest.fixture
    def storage(self) -> Iterator[PostgresStorage]:
        with pg_schema() as url, PostgresStorage(url) as s:
            yield s
