"""Several ``supportkit worker`` processes on one PostgreSQL database: every due timer fires
once, every resolved ticket is closed once, and each action is logged once."""

from __future__ import annotations

from pathlib import Path

from .conftest import Seeded, actions, run_workers_until, write_config


def test_three_workers_fire_each_timer_and_close_each_ticket_once(
    pg_url: str, tmp_path: Path
) -> None:
    seeded = Seeded(pg_url)
    try:
        resolved = seeded.resolved_tickets(60)
        keys = seeded.due_timers(300, resolved)
        config = write_config(
            tmp_path / "worker.toml",
            pg_url,
            '[auto_close]\nafter = "7d"\ninterval = "0.2s"\nbatch = 10\n'
            "[reprocess]\nenabled = false\n",
            timers='interval = "0.2s"\nbatch = 20',
        )
        workers, codes = run_workers_until(
            config,
            3,
            lambda: seeded.timers_left() == 0 and all(seeded.closings(t) for t in resolved),
            HOST_TIMER_PAUSE="0.02",
        )
        assert codes == [0, 0, 0]
        assert seeded.firings() == dict.fromkeys(keys, 1)
        assert [seeded.closings(t) for t in resolved] == [1] * 60
        assert len(seeded.firing_processes()) >= 2  # the work was shared
        lines = [line for w in workers for line in w.lines]
        assert len(actions(lines, "timer.fired")) == 300
        closed = actions(lines, "ticket.closed")
        assert sorted(line["ticket"] for line in closed) == sorted(
            seeded.desk.get_ticket(t).number for t in resolved
        )
        assert not actions(lines, "loop.failed")
        assert not actions(lines, "loop.crashed")
    finally:
        seeded.close()
