"""A resume token is spent once, even when several processes present it at the same moment.

Each worker has its own storage (its own connection, as separate processes would); all
resume with one token behind a barrier. Exactly one gets the session and a new token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from supportkit.channels._chat_sessions import ChatSessionStore, ResumedSession
from supportkit.ports import Storage
from supportkit.storage.sqlite import SQLiteStorage

from ..pg import pg_schema

RACERS = 8
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _race(make: Callable[[], Storage]) -> list[ResumedSession | None]:
    sessions = ChatSessionStore(timedelta(hours=1))
    token = sessions.new_token()
    first = make()
    with first.unit_of_work() as uow:
        sessions.bind(uow, token, session_id="s1", ticket_id="t1", sender="visitor-s1", now=NOW)
        uow.commit()
    stores = [make() for _ in range(RACERS)]
    barrier = threading.Barrier(RACERS)
    results: list[ResumedSession | None] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(storage: Storage) -> None:
        try:
            barrier.wait(timeout=30)
            with storage.unit_of_work() as uow:
                got = sessions.resume(uow, token, NOW + timedelta(minutes=1))
                uow.commit()
            with lock:
                results.append(got)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    for s in [first, *stores]:
        s.close()
    return results


def _check(results: list[ResumedSession | None]) -> None:
    won = [r for r in results if r is not None]
    assert len(results) == RACERS
    assert len(won) == 1, f"{len(won)} resumes succeeded with one token"
    assert won[0].ticket_id == "t1"


def test_concurrent_resumes_on_postgresql_spend_the_token_once() -> None:
    from supportkit.storage.postgres import PostgresStorage

    for _ in range(3):  # without the lock, all 8 won on every round
        with pg_schema() as url:
            _check(_race(lambda: PostgresStorage(url)))


def test_concurrent_resumes_on_sqlite_spend_the_token_once(tmp_path: Path) -> None:
    path = tmp_path / "chat.sqlite3"
    _check(_race(lambda: SQLiteStorage(path)))
