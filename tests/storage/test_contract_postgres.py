"""The storage contract on a real PostgreSQL server (skips locally without one; fails in CI)."""

import functools
from collections.abc import Callable, Iterator

import pytest

from supportkit.storage.postgres import PostgresStorage
from supportkit.testing import StorageContract

from ..pg import pg_schema

pytestmark = pytest.mark.postgres


class TestPostgresStorageContract(StorageContract):
    @pytest.fixture
    def storage(self, pg_url: str) -> Iterator[PostgresStorage]:
        with PostgresStorage(pg_url) as s:
            yield s

    @pytest.fixture
    def pg_url(self) -> Iterator[str]:
        with pg_schema() as url:
            yield url

    @pytest.fixture
    def storage_opener(self, pg_url: str) -> Callable[[], PostgresStorage]:
        return functools.partial(PostgresStorage, pg_url)
