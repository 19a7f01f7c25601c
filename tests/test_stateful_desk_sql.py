"""The desk on SQLite and PostgreSQL, driven by random use-case sequences against a reference model."""

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import settings

from supportkit.storage.postgres import PostgresStorage
from supportkit.storage.sqlite import SQLiteStorage
from supportkit.testing import desk_state_machine

from .pg import pg_schema, require_pg

# a SQL example costs a schema set-up; fewer, longer runs find the same bugs
_SQL_SETTINGS = settings(
    settings.default,
    stateful_step_count=30,
    max_examples=max(5, settings.default.max_examples // 5),
)


@contextlib.contextmanager
def sqlite_storage() -> Iterator[SQLiteStorage]:
    with tempfile.TemporaryDirectory() as d, SQLiteStorage(Path(d) / "desk.sqlite3") as s:
        yield s


@contextlib.contextmanager
def postgres_storage() -> Iterator[PostgresStorage]:
    with pg_schema() as url, PostgresStorage(url) as s:
        yield s


DeskOnSQLite = desk_state_machine(sqlite_storage)
DeskOnSQLite.TestCase.settings = _SQL_SETTINGS
TestDeskOnSQLite = DeskOnSQLite.TestCase

DeskOnPostgres = desk_state_machine(postgres_storage)
DeskOnPostgres.TestCase.settings = _SQL_SETTINGS


class TestDeskOnPostgres(DeskOnPostgres.TestCase):  # type: ignore[misc,valid-type]
    def setUp(self) -> None:
        require_pg()
        super().setUp()
