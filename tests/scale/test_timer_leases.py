"""N processes ticking fire each due timer exactly once; a process killed mid-timer loses none."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime, timedelta

from supportkit import FakeClock, SupportDesk
from supportkit.ports import Timer
from supportkit.storage.memory import MemoryStorage

from ._procs import TIMER_LOG, fired_by, open_url, tick_until_done

TIMERS = 1000


def _fired(url: str) -> list[str]:
    with open_url(url) as storage, storage.unit_of_work() as uow:
        return [h.reason for h in uow.history_for(TIMER_LOG)]


def test_three_processes_fire_each_timer_once_even_when_one_is_killed(url: str) -> None:
    due = datetime.now(UTC) - timedelta(seconds=1)
    with open_url(url) as storage, storage.unit_of_work() as uow:
        for n in range(TIMERS):
            uow.schedule_timer(Timer(f"k{n:04}", due, "test.count", f"t{n % 10}"))
        uow.commit()
    ctx = multiprocessing.get_context("spawn")
    # the victim is slow, so it is surely killed holding claims and inside a timer's transaction
    ready, go = ctx.Barrier(4), [ctx.Event() for _ in range(3)]
    procs = [
        ctx.Process(
            target=tick_until_done,
            args=(url, 2.0, 60.0, f"p{n}", 0.01 if n == 0 else 0.002, ready, go[n]),
        )
        for n in range(3)
    ]
    for p in procs:
        p.start()
    victim = procs[0]
    ready.wait(60)
    go[0].set()  # first, so it surely holds claims when the others run beside it
    stop = time.monotonic() + 60
    while fired_by(url).count("p0") < 5 and time.monotonic() < stop:
        time.sleep(0.01)
    for event in go[1:]:
        event.set()
    while len(fired_by(url)) < TIMERS // 3 and time.monotonic() < stop:
        time.sleep(0.01)
    os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
    for p in procs:
        p.join(timeout=90)
    assert not any(p.is_alive() for p in procs)
    assert victim.exitcode == -signal.SIGKILL
    fired = _fired(url)
    assert sorted(fired) == [f"k{n:04}" for n in range(TIMERS)]  # each exactly once, none lost
    with open_url(url) as storage, storage.unit_of_work() as uow:
        assert uow.due_timers(datetime.now(UTC) + timedelta(days=1)) == []


def test_two_desks_on_one_storage_fire_a_timer_once() -> None:
    storage = MemoryStorage()
    clock = FakeClock()
    desks = [SupportDesk(storage, clock=clock) for _ in range(2)]
    fired: list[str] = []
    for desk in desks:
        desk.on_timer("test.count", lambda ctx, timer: fired.append(timer.key))
    with storage.unit_of_work() as uow:
        uow.schedule_timer(Timer("k1", clock.now(), "test.count", "t1"))
        uow.commit()
    assert [d.tick() for d in desks] == [1, 0]
    assert fired == ["k1"]


def test_a_failing_timer_is_released_and_retried_on_the_next_tick() -> None:
    clock = FakeClock()
    desk = SupportDesk(clock=clock)
    calls: list[str] = []

    def flaky(ctx: object, timer: Timer) -> None:
        calls.append(timer.key)
        if len(calls) == 1:
            raise RuntimeError("boom")

    desk.on_timer("test.flaky", flaky)
    with desk.storage.unit_of_work() as uow:
        uow.schedule_timer(Timer("k1", clock.now(), "test.flaky", "t1"))
        uow.commit()
    assert desk.tick() == 0
    assert desk.tick() == 1
    assert calls == ["k1", "k1"]


def test_a_desk_without_the_handler_leaves_the_timer_to_one_that_has_it() -> None:
    """A bare worker desk (no extensions) must not drop an SLA breach or a reminder."""
    storage = MemoryStorage()
    clock = FakeClock()
    bare = SupportDesk(storage, clock=clock)
    full = SupportDesk(storage, clock=clock)
    fired: list[str] = []
    full.on_timer("test.sla", lambda ctx, timer: fired.append(timer.key))
    with storage.unit_of_work() as uow:
        uow.schedule_timer(Timer("k1", clock.now(), "test.sla", "t1"))
        uow.commit()
    runs: list[str] = []
    assert bare.tick(report=lambda run: runs.append(run.outcome)) == 0
    assert runs == ["unhandled"]
    with storage.unit_of_work() as uow:
        assert [t.key for t in uow.due_timers(clock.now())] == ["k1"]  # still scheduled
    assert full.tick() == 0  # the bare desk's claim holds until its lease ends
    clock.advance(bare.timer_lease + timedelta(seconds=1))
    assert full.tick() == 1
    assert fired == ["k1"]
