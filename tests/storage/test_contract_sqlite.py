"""The storage contract on the SQLite backend (a real file, WAL)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from supportkit.storage.sqlite import SQLiteStorage
from supportkit.testing import StorageContract


class TestSQLiteStorageContract(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[SQLiteStorage]:
        with SQLiteStorage(tmp_path / "contract.sqlite3") as s:
            yield s
