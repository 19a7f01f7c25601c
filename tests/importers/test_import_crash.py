"""``supportkit import`` killed with SIGKILL in the middle of its batches, then run again.

The source is a django-helpdesk database built by its own models (the eleven
tickets of ``build_helpdesk.py`` plus 400 bulk ones). The import runs as a
real ``supportkit import`` process with small batches; the test watches the
target and kills the process (``kill -9``, no cleanup of any kind) at three
points while tickets are being written. After every kill each imported ticket
must be whole, exactly as a clean import writes it (same status, messages,
notes and history), none twice; the run after the last kill must finish the
job so that the target equals the clean import ticket for ticket.

On SQLite and on PostgreSQL targets (the latter skips locally without a
server and fails under CI=true).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from supportkit.importers import import_django_helpdesk
from supportkit.storage.sqlite import SQLiteStorage

from ..pg import pg_schema
from .test_django_helpdesk import BUILDER

IMPORT = (sys.executable, "-m", "supportkit", "import", "django-helpdesk")
BULK = 400
#: tickets in the target at which the three kills are aimed (the last run finishes)
KILL_AT = (40, 150, 290)

#: source ticket id -> (status, messages, notes, history events) of one imported ticket
Signature = dict[int, tuple[str, int, int, tuple[str, ...]]]

_SIGNATURE_SQL = """
SELECT m.external_id, t.status,
       (SELECT COUNT(*) FROM sk_messages x WHERE x.ticket_id = t.id AND x.direction <> 'note'),
       (SELECT COUNT(*) FROM sk_messages x WHERE x.ticket_id = t.id AND x.direction = 'note'),
       t.id
FROM sk_tickets t JOIN sk_messages m ON m.ticket_id = t.id
WHERE m.external_id LIKE 'django-helpdesk:ticket:%'
"""
_HISTORY_SQL = "SELECT ticket_id, event FROM sk_history ORDER BY ticket_id, seq"


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("helpdesk-big")
    db = root / "helpdesk.sqlite3"
    done = subprocess.run(
        [sys.executable, str(BUILDER), "sqlite", str(db), str(root / "media"), str(BULK)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return db, json.loads(done.stdout.strip().splitlines()[-1])


def signature(query: Callable[[str], list[tuple[Any, ...]]]) -> Signature:
    """What the target holds, per source ticket, read with plain SQL."""
    events: dict[str, list[str]] = {}
    for tid, event in query(_HISTORY_SQL):
        events.setdefault(str(tid), []).append(str(event))
    out: Signature = {}
    for external_id, status, messages, notes, tid in query(_SIGNATURE_SQL):
        source_id = int(str(external_id).rsplit(":", 1)[1])
        assert source_id not in out, f"django-helpdesk ticket {source_id} was imported twice"
        out[source_id] = (str(status), int(messages), int(notes), tuple(events.get(str(tid), ())))
    return out


@contextmanager
def sqlite_target(tmp_path: Path) -> Iterator[tuple[str, Callable[[str], list[tuple[Any, ...]]]]]:
    path = tmp_path / "target.sqlite3"

    def query(sql: str) -> list[tuple[Any, ...]]:
        if not path.exists():
            return []
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError as exc:  # the schema is not there yet
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    yield f"sqlite:///{path}", query


@contextmanager
def postgres_target() -> Iterator[tuple[str, Callable[[str], list[tuple[Any, ...]]]]]:
    import psycopg

    with pg_schema() as url:

        def query(sql: str) -> list[tuple[Any, ...]]:
            with psycopg.connect(url, autocommit=True) as conn:
                try:
                    return conn.execute(sql).fetchall()
                except psycopg.errors.UndefinedTable:
                    return []

        yield url, query


def start_import(source: Path, url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            *IMPORT,
            str(source),
            "--to",
            url,
            "--batch-size",
            "7",
            "--no-progress",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


def kill_when(
    proc: subprocess.Popen[bytes], count: Callable[[], int], at_least: int, timeout: float = 120
) -> int:
    """SIGKILL *proc* once the target holds *at_least* tickets; returns the count seen then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = count()
        if seen >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return seen
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"the import ended (exit {proc.returncode}) before the kill: {err[-2000:]}")
        time.sleep(0.005)
    proc.kill()
    pytest.fail(f"the import did not reach {at_least} tickets in {timeout} s")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_import_killed_mid_batch_loses_and_doubles_nothing(
    backend: str, big_source: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    source, ids = big_source
    # the reference: the same source imported in one uninterrupted run, in process
    reference_db = tmp_path / "reference.sqlite3"
    storage = SQLiteStorage(str(reference_db))
    try:
        clean = import_django_helpdesk(str(source), storage, batch_size=50)
    finally:
        storage.close()
    ref_conn = sqlite3.connect(reference_db)
    try:
        reference = signature(lambda sql: ref_conn.execute(sql).fetchall())
    finally:
        ref_conn.close()
    assert clean.imported == len(reference) == 8 + BULK
    assert {len(r[3]) for r in reference.values()} >= {1, 3, 4}  # open, resolved, closed

    target = sqlite_target(tmp_path) if backend == "sqlite" else postgres_target()
    with target as (url, query):

        def count() -> int:
            rows = query("SELECT COUNT(*) FROM sk_tickets")
            return int(rows[0][0]) if rows else 0

        seen_at_kill = []
        for at_least in KILL_AT:
            proc = start_import(source, url)
            seen_at_kill.append(kill_when(proc, count, at_least))
            partial = signature(query)
            assert partial, "nothing was committed before the kill"
            assert len(partial) < len(reference), "the import had finished before the kill"
            for source_id, sig in partial.items():
                assert sig == reference[source_id], (
                    f"ticket {source_id} is not whole after kill -9: {sig} != {reference[source_id]}"
                )
            assert count() == len(partial)  # no ticket without its opening message
        finished = subprocess.run(
            [*IMPORT, str(source), "--to", url, "--batch-size", "7", "--no-progress"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert finished.returncode == 1, finished.stderr[-2000:]  # 1: the 3 unmappable tickets
        assert "not imported: 3" in finished.stdout
        final = signature(query)
        opened_by_the_source = len(_opening_messages(query))

    assert final == reference
    assert opened_by_the_source == len(reference)
    assert seen_at_kill == sorted(seen_at_kill)
    assert ids["bulk"][-1] in final


def _opening_messages(query: Callable[[str], list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    return query(
        "SELECT external_id FROM sk_messages WHERE external_id LIKE 'django-helpdesk:ticket:%'"
    )
