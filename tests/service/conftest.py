"""The storages the service-path tests run on: memory, a SQLite file, the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportkit.storage.memory import MemoryStorage
from supportkit.storage.sqlite import SQLiteStorage
from tests.pg import pg_schema


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStorage()
    elif request.param == "sqlite":
        s = SQLiteStorage(tmp_path / "desk.sqlite3")
        yield s
        s.close()
    else:
        from supportkit.storage.postgres import PostgresStorage

        with pg_schema() as url:
            pg = PostgresStorage(url)
            yield pg
            pg.close()


def desk_with_events(storage: Any, at: Any, **kw: Any) -> tuple[Any, list[Any]]:
    """A desk on *storage* at the fake instant *at*, and the list of events it publishes."""
    from supportkit import FakeClock, SupportDesk

    desk = SupportDesk(storage, clock=FakeClock(at), **kw)
    seen: list[Any] = []
    desk.signals.event.connect(lambda _s, event: seen.append(event), weak=False)
    return desk, seen
