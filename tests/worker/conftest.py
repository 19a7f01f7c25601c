"""Fixtures for the worker: a desk database on SQLite or PostgreSQL seeded with work, and
``supportkit worker`` run as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportkit import FakeClock
from supportkit.ports import RawInbound, Storage, Timer
from supportkit.storage import open_storage

from ..pg import pg_schema
from . import host_desk

HERE = Path(__file__).resolve().parent
#: ten days ago: what the seeded desk did happened then
PAST = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    else:
        with pg_schema() as conninfo:
            yield conninfo


@pytest.fixture
def pg_url() -> Iterator[str]:
    with pg_schema() as conninfo:
        yield conninfo


def open_url(url: str) -> Storage:
    if url.startswith("sqlite:///"):
        from supportkit.storage.sqlite import SQLiteStorage

        return SQLiteStorage(url[len("sqlite:///") :], background_checkpoint=None)
    return open_storage(url)


class Seeded:
    """A desk database with work waiting for a worker, and ways to read what was done."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.storage = open_url(url)
        self.clock = FakeClock(PAST)
        self.desk = host_desk.build_desk(self.storage, clock=self.clock)

    def close(self) -> None:
        self.storage.close()

    def resolved_tickets(self, n: int, *, email: str = "ann@example.com") -> list[str]:
        """*n* tickets received and resolved ten days ago."""
        ids = []
        for i in range(n):
            t = self.desk.receive("email", email, f"Private matter {i}", subject=f"Secret {i}")
            self.desk.resolve(t.id, actor="agent-1", resolution="fixed")
            ids.append(t.id)
        return ids

    def due_timers(self, n: int, tickets: Sequence[str]) -> list[str]:
        """*n* ``host.count`` timers due ten days ago, spread over *tickets*."""
        keys = [f"count:{i}" for i in range(n)]
        with self.storage.unit_of_work() as uow:
            for i, key in enumerate(keys):
                due = PAST + timedelta(seconds=i)
                uow.schedule_timer(Timer(key, due, host_desk.TIMER_KIND, tickets[i % len(tickets)]))
            uow.commit()
        return keys

    def pending_raw_mail(self, raw: bytes, *, channel: str = "email") -> str:
        """A raw mail stored and claimed by a process that then died (its lease ran out)."""
        row = RawInbound(self.desk.new_id(), channel, PAST, raw, external_id=None)
        with self.storage.unit_of_work() as uow:
            uow.add_raw_inbound(row)
            assert uow.claim_raw_inbound(row.id, PAST, PAST + timedelta(minutes=5))
            uow.commit()
        return row.id

    def pending_raw_webhook(self, body: dict[str, Any], *, source: str = "webform") -> str:
        row = RawInbound(
            self.desk.new_id(), f"webhook:{source}", PAST, json.dumps(body).encode(), None
        )
        with self.storage.unit_of_work() as uow:
            uow.add_raw_inbound(row)
            assert uow.claim_raw_inbound(row.id, PAST, PAST + timedelta(minutes=5))
            uow.commit()
        return row.id

    def pending_raw_call(self, call_id: str, caller: str) -> str:
        """A call record kept by a process that died before logging it."""
        from supportkit.channels.phone import CallRecord
        from supportkit.convert import to_data

        record = CallRecord(call_id, caller, "inbound", 90, PAST, notes="Call about a refund")
        row = RawInbound(
            self.desk.new_id(), "phone", PAST, json.dumps(to_data(record)).encode(), call_id
        )
        with self.storage.unit_of_work() as uow:
            uow.add_raw_inbound(row)
            assert uow.claim_raw_inbound(row.id, PAST, PAST + timedelta(minutes=5))
            uow.commit()
        return row.id

    # -- reading back ---------------------------------------------------------------------
    def firings(self) -> Counter[str]:
        """How many times each timer key fired."""
        with self.storage.unit_of_work() as uow:
            return Counter(h.reason for h in uow.history_for(host_desk.TIMER_LOG))

    def firing_processes(self) -> set[str]:
        with self.storage.unit_of_work() as uow:
            return {h.actor for h in uow.history_for(host_desk.TIMER_LOG)}

    def timers_left(self) -> int:
        with self.storage.unit_of_work() as uow:
            return len(uow.due_timers(datetime.now(UTC) + timedelta(days=1), 100_000))

    def closings(self, ticket_id: str) -> int:
        return sum(h.event == "close" for h in self.desk.history(ticket_id))

    def raw(self, raw_id: str) -> RawInbound:
        with self.storage.unit_of_work() as uow:
            found = [r for r in uow.list_raw_inbound(limit=10_000) if r.id == raw_id]
        assert found, f"no raw message {raw_id}"
        return found[0]


@pytest.fixture
def seeded(storage_url: str) -> Iterator[Seeded]:
    s = Seeded(storage_url)
    yield s
    s.close()


def write_config(
    path: Path, url: str, extra: str = "", *, timers: str = 'interval = "0.2s"'
) -> Path:
    """A worker.toml for the seeded database and the test host's desk factory."""
    path.write_text(
        f"storage_url = {json.dumps(url)}\n"
        'desk = "host_desk:build_desk"\n'
        f"[timers]\n{timers}\n" + extra,
        encoding="utf-8",
    )
    return path


def worker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORTKIT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def run_once(config: Path, **env: str) -> tuple[int, list[dict[str, Any]], str]:
    """``supportkit worker --once --config CONFIG``: (exit code, JSON log lines, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "supportkit", "worker", "--once", "--config", str(config)],
        env=worker_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, json_lines(done.stderr), done.stderr


def start_worker(config: Path, **env: str) -> subprocess.Popen[str]:
    """``supportkit worker --config CONFIG``, running until it is signalled."""
    return subprocess.Popen(
        [sys.executable, "-m", "supportkit", "worker", "--config", str(config)],
        env=worker_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of *text*, each of which must be one JSON object."""
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def actions(lines: list[dict[str, Any]], what: str) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("action") == what]


class Running:
    """A ``supportkit worker`` process whose JSON log lines are read as they come."""

    def __init__(self, config: Path, **env: str) -> None:
        import threading

        self.process = start_worker(config, **env)
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.strip():
                try:
                    self.lines.append(json.loads(line))
                except ValueError:  # not one of its lines: kept for the failure message
                    self.lines.append({"not_json": line})

    def wait_for(self, what: str, timeout: float = 60) -> dict[str, Any]:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = actions(self.lines, what)
            if found:
                return found[0]
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {what!r} line; the worker said: {self.lines}")

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM; the exit code once the worker has finished."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def run_workers_until(
    config: Path, n: int, done: Callable[[], bool], timeout: float = 90, **env: str
) -> tuple[list[Running], list[int]]:
    """*n* workers on *config* until *done()* (or *timeout*), then SIGTERM each once it is
    up (a signal before that ends it unlogged); the workers and their exit codes."""
    import time

    workers = [Running(config, **env) for _ in range(n)]
    try:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            time.sleep(0.1)
        for w in workers:
            w.wait_for("worker.started")
        return workers, [w.stop() for w in workers]
    finally:
        for w in workers:
            w.kill()
