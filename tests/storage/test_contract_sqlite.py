"""The storage contract on the SQLite backend (a real file, WAL)."""

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from supportkit.storage.sqlite import SQLiteStorage
from supportkit.testing import StorageContract


class TestSQLiteStorageContract(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[SQLiteStorage]:
        with SQLiteStorage(tmp_path / "contract.sqlite3") as s:
            yield s

    @pytest.fixture
    def storage_opener(self, tmp_path: Path) -> Callable[[], SQLiteStorage]:
        return functools.partial(SQLiteStorage, tmp_path / "contract.sqlite3")


def test_a_new_database_takes_the_page_size_asked_for(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "small.sqlite3", page_size=1024) as s:
        assert s.connection().execute("PRAGMA page_size").fetchone()[0] == 1024
    with SQLiteStorage(tmp_path / "small.sqlite3", page_size=8192) as s:  # existing file: kept
        assert s.connection().execute("PRAGMA page_size").fetchone()[0] == 1024


def test_a_page_size_that_sqlite_cannot_use_is_refused(tmp_path: Path) -> None:
    from supportkit import StorageError

    with pytest.raises(StorageError, match="power of two"):
        SQLiteStorage(tmp_path / "x.sqlite3", page_size=1000)


def test_the_background_checkpointer_copies_the_wal_into_the_database_and_stops_on_close(
    tmp_path: Path,
) -> None:
    import threading
    import time

    from supportkit import FakeClock, SupportDesk

    path = tmp_path / "bg.sqlite3"
    storage = SQLiteStorage(path, background_checkpoint=0.05)
    names = [t.name for t in threading.enumerate()]
    assert f"supportkit-checkpoint:{path}" in names
    before = path.stat().st_size
    desk = SupportDesk(storage, clock=FakeClock())
    for i in range(50):  # far below the inline autocheckpoint threshold (20,000 pages)
        desk.receive("email", f"c{i}@example.com", "x" * 2000)
    deadline = time.monotonic() + 5
    while path.stat().st_size <= before:
        assert time.monotonic() < deadline, "no checkpoint copied the WAL into the database"
        time.sleep(0.02)
    storage.close()
    assert f"supportkit-checkpoint:{path}" not in [t.name for t in threading.enumerate()]
