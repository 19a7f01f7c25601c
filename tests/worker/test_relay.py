"""The worker's relay loop against the real brokers: every stored event reaches RabbitMQ or
Redis, once when nothing crashes, also with three workers relaying from one database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import psycopg

from ..relay.brokers import Broker, broker, require
from .conftest import Seeded, actions, run_once, run_workers_until, write_config

__all__ = ["broker"]  # the fixture, used by name


def _event_seqs(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT seq FROM sk_events ORDER BY seq")]


def _unrelayed(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM sk_events WHERE relayed = 0").fetchone()[0])


def _relay_config(path: Path, url: str, broker_url: str) -> Path:
    return write_config(
        path,
        url,
        f'[relay]\nurl = "{broker_url}"\ninterval = "0.2s"\nbatch = 50\n'
        "[reprocess]\nenabled = false\n",
        timers="enabled = false",
    )


def test_once_relays_every_stored_event(broker: Broker, pg_url: str, tmp_path: Path) -> None:
    seeded = Seeded(pg_url)
    try:
        seeded.resolved_tickets(10)  # receive + resolve: events in the outbox
    finally:
        seeded.close()
    stored = _event_seqs(pg_url)
    config = _relay_config(tmp_path / "worker.toml", pg_url, broker.url)
    relayed = 0
    for _ in range(len(stored) // 50 + 2):  # each --once pass relays one batch of 50
        code, lines, err = run_once(config)
        assert code == 0, err
        relayed += sum(line["count"] for line in actions(lines, "events.relayed"))
    delivered = [event.seq for event in broker.delivered()]
    assert sorted(delivered) == stored  # every event, none twice
    assert relayed == len(stored)
    code, lines, err = run_once(config)  # nothing left
    assert not actions(lines, "events.relayed")
    assert broker.delivered() == []


def test_three_workers_relay_each_event_once(pg_url: str, tmp_path: Path) -> None:
    require("redis")
    redis = Broker("redis")
    seeded = Seeded(pg_url)
    try:
        seeded.resolved_tickets(60)
        stored = _event_seqs(pg_url)
        config = _relay_config(tmp_path / "worker.toml", pg_url, redis.url)
        workers, codes = run_workers_until(config, 3, lambda: not _unrelayed(pg_url), 60)
        seen = Counter(event.seq for event in redis.delivered())
        assert codes == [0, 0, 0]
        assert sorted(seen) == stored
        assert set(seen.values()) == {1}  # no worker died: no duplicates
        counts = [sum(x["count"] for x in actions(w.lines, "events.relayed")) for w in workers]
        assert sum(counts) == len(stored)
    finally:
        seeded.close()
        redis.close()
