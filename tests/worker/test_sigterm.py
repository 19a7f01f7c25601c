"""SIGTERM lets the worker finish the batch under way, then it exits 0; nothing it had
claimed is left held."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from .conftest import Running, Seeded, actions, write_config


def test_sigterm_mid_batch_finishes_the_batch_and_exits_0(seeded: Seeded, tmp_path: Path) -> None:
    tickets = seeded.resolved_tickets(2)
    seeded.due_timers(20, tickets)
    config = write_config(
        tmp_path / "worker.toml", seeded.url, timers='interval = "0.2s"\nbatch = 5'
    )
    worker = Running(config, HOST_TIMER_PAUSE="0.25")  # a batch takes over a second
    try:
        worker.wait_for("timer.fired")
        code = worker.stop()  # the first batch is under way
    finally:
        worker.kill()
    assert code == 0
    fired = sum(seeded.firings().values())
    assert fired % 5 == 0  # whole batches: the one under way was finished
    assert 5 <= fired < 20  # and no batch was begun after the signal
    stopping = actions(worker.lines, "worker.stopping")
    assert [line["signal"] for line in stopping] == ["SIGTERM"]
    assert worker.lines[-1]["action"] == "worker.stopped"
    after_signal = worker.lines[worker.lines.index(stopping[0]) :]
    assert len(actions(after_signal, "timer.fired")) >= 1  # it kept going until the batch ended
    # nothing is held by the stopped worker: the rest fire at once, not after the lease
    assert seeded.desk.tick(now=datetime.now(UTC)) == 20 - fired
    assert set(seeded.firings().values()) == {1}


def test_sigterm_while_idle_exits_at_once(seeded: Seeded, tmp_path: Path) -> None:
    config = write_config(tmp_path / "worker.toml", seeded.url, timers='interval = "1h"')
    worker = Running(config)
    try:
        worker.wait_for("worker.started")
        time.sleep(0.3)  # now waiting out its interval
        began = time.monotonic()
        code = worker.stop()
        took = time.monotonic() - began
    finally:
        worker.kill()
    assert code == 0
    assert took < 10  # not the hour
    assert [line["action"] for line in worker.lines][-2:] == ["worker.stopping", "worker.stopped"]
