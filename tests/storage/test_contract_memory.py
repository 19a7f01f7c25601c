"""The storage contract on the in-memory backend."""

from collections.abc import Iterator

import pytest

from supportkit import MemoryStorage
from supportkit.testing import StorageContract


class TestMemoryStorageContract(StorageContract):
    @pytest.fixture
    def storage(self) -> Iterator[MemoryStorage]:
        with MemoryStorage() as s:
            yield s
