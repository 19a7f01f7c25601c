"""The desk on MariaDB, driven by random use-case sequences against supportkit's reference model."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from _mariadb_server import fresh_database, require_mariadb
from hypothesis import settings
from supportkit_mariadb import MariaDBStorage

from supportkit.testing import desk_state_machine


@contextlib.contextmanager
def mariadb_storage() -> Iterator[MariaDBStorage]:
    with fresh_database() as url, MariaDBStorage(url) as storage:
        yield storage


DeskOnMariaDB = desk_state_machine(mariadb_storage)
DeskOnMariaDB.TestCase.settings = settings(
    settings.default,
    stateful_step_count=30,
    max_examples=max(5, settings.default.max_examples // 5),
    deadline=None,
)


class TestDeskOnMariaDB(DeskOnMariaDB.TestCase):  # type: ignore[misc,valid-type]
    def setUp(self) -> None:
        require_mariadb()
        super().setUp()
