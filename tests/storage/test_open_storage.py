"""open_storage(url): SQLAlchemy's SQLite URL convention, durability options, plugins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from supportkit import ConfigurationError, PluginError
from supportkit.storage import available_backends, load_backend, open_storage
from supportkit.storage.memory import MemoryStorage
from supportkit.storage.sqlite import SQLiteStorage


def _sqlite(url: str) -> SQLiteStorage:
    storage = open_storage(url)
    assert isinstance(storage, SQLiteStorage)
    return storage


def test_three_slashes_are_relative_and_four_are_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with _sqlite("sqlite:///rel.db") as rel:
        assert rel.path == "rel.db"
        assert (tmp_path / "rel.db").exists()
    absolute = tmp_path / "sub" / "abs.db"
    absolute.parent.mkdir()
    with _sqlite(f"sqlite:///{absolute}") as ab:  # f"sqlite:///" + "/tmp/..." = four slashes
        assert ab.path == str(absolute)
        assert os.path.isabs(ab.path)
    with _sqlite("sqlite:///with%20space.db") as spaced:
        assert spaced.path == "with space.db"


def test_sqlite_is_durable_by_default_and_normal_is_an_opt_in(tmp_path: Path) -> None:
    with _sqlite(f"sqlite:///{tmp_path}/full.db") as full:
        assert full.connection().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert "durable" in full.capabilities
    with _sqlite(f"sqlite:///{tmp_path}/normal.db?synchronous=normal") as normal:
        assert normal.connection().execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert "durable" not in normal.capabilities
    with SQLiteStorage(tmp_path / "extra.db", synchronous="extra") as extra:
        assert "durable" in extra.capabilities


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "no file"),
        ("sqlite://host/x.db", "names a host"),
        ("sqlite:///x.db?journal=delete", "unknown option"),
        ("sqlite:///x.db?synchronous=sometimes", "unknown synchronous mode"),
    ],
)
def test_a_bad_sqlite_url_says_what_to_write(
    url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=message):
        open_storage(url)


def test_memory_and_unknown_schemes(tmp_path: Path) -> None:
    assert isinstance(open_storage("memory://"), MemoryStorage)
    with pytest.raises(PluginError, match="no storage backend named 'nosuchdb'"):
        open_storage("nosuchdb://x")
    assert {"memory", "sqlite"} <= set(available_backends())
    assert load_backend("sqlite") is SQLiteStorage
