"""supportkit's whole storage contract suite on a real MariaDB server."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import pytest
from _mariadb_server import fresh_database
from supportkit_mariadb import MariaDBStorage

from supportkit.testing import StorageContract


class TestMariaDBStorageContract(StorageContract):
    max_examples = 15  # a network database: fewer examples per property test

    @pytest.fixture
    def url(self) -> Iterator[str]:
        with fresh_database() as url:
            yield url

    @pytest.fixture
    def storage(self, url: str) -> Iterator[MariaDBStorage]:
        with MariaDBStorage(url) as storage:
            yield storage

    @pytest.fixture
    def storage_opener(self, url: str) -> Callable[[], MariaDBStorage]:
        return functools.partial(MariaDBStorage, url)
