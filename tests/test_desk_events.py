"""Events: stored with the change, published as blinker signals after commit, redelivered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from supportkit import (
    ConfigurationError,
    Direction,
    FakeClock,
    GuardRejected,
    MemoryStorage,
    SupportDesk,
    Timer,
    ValidationError,
)
from supportkit.domain import DomainEvent, MessageAdded, StatusChanged, TicketReceived
from supportkit.testing.plugin import DeskFactory


def _collect(signal: Any, into: list[DomainEvent]) -> None:
    signal.connect(lambda sender, event, **_: into.append(event), weak=False)


def _pending(desk: SupportDesk) -> list[int]:
    with desk.storage.unit_of_work() as uow:
        return [se.seq for se in uow.pending_events()]


def test_every_change_publishes_its_events_in_order(desk: SupportDesk) -> None:
    seen: list[DomainEvent] = []
    _collect(desk.signals.event, seen)
    t = desk.receive("email", "ann@example.com", "help")
    assert [type(e) for e in seen] == [TicketReceived, MessageAdded, StatusChanged]
    assert seen == desk.events(t.id)


def test_typed_signals_receive_only_their_type(desk: SupportDesk) -> None:
    by_name: list[DomainEvent] = []
    by_class: list[DomainEvent] = []
    _collect(desk.signals.for_type("ticket.status_changed"), by_name)
    _collect(desk.signals.for_type(StatusChanged), by_class)
    t = desk.receive("email", "ann@example.com", "help")
    desk.reply(t.id, "agent", "hi")  # the first reply starts the diagnosis
    assert [e.to_status for e in by_name] == ["registered", "diagnosing"]  # type: ignore[attr-defined]
    assert by_class == by_name
    with pytest.raises(ValidationError, match="unknown event type"):
        desk.signals.for_type("ticket.exploded")


def test_a_subscriber_sees_the_committed_state(desk: SupportDesk) -> None:
    observed: list[tuple[str, int, int]] = []

    def subscriber(sender: SupportDesk, event: DomainEvent) -> None:
        if isinstance(event, StatusChanged):
            stored = sender.get_ticket(event.ticket_id)
            observed.append((stored.status, stored.version, len(sender.history(event.ticket_id))))

    desk.signals.event.connect(subscriber, weak=False)
    t = desk.receive("email", "ann@example.com", "help")
    desk.start_diagnosis(t.id, actor="agent")
    assert observed == [("registered", 1, 1), ("diagnosing", 2, 2)]


def test_a_failing_use_case_publishes_nothing(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    seen: list[DomainEvent] = []
    _collect(desk.signals.event, seen)
    with pytest.raises(GuardRejected):
        desk.resolve(t.id, actor="agent", resolution="")
    assert seen == []
    assert len(desk.events(t.id)) == 3


def test_a_failing_subscriber_neither_undoes_the_change_nor_stops_others(
    desk: SupportDesk, caplog: pytest.LogCaptureFixture
) -> None:
    failures: list[dict[str, Any]] = []
    later: list[DomainEvent] = []

    def broken(sender: SupportDesk, event: DomainEvent) -> None:
        raise RuntimeError("webhook down")

    desk.signals.event.connect(broken, weak=False)
    _collect(desk.signals.event, later)
    desk.signals.subscriber_failed.connect(lambda sender, **kw: failures.append(kw), weak=False)
    with caplog.at_level("CRITICAL", logger="supportkit"):
        t = desk.receive("email", "ann@example.com", "help")
    assert desk.get_ticket(t.id).status == "registered"
    assert len(later) == 3
    assert len(failures) == 3
    assert failures[0]["receiver"] is broken
    assert isinstance(failures[0]["error"], RuntimeError)
    assert failures[0]["event"] == later[0]


def test_a_failing_failure_handler_is_contained(
    desk: SupportDesk, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(sender: SupportDesk, **_: Any) -> None:
        raise RuntimeError("boom")

    desk.signals.event.connect(broken, weak=False)
    desk.signals.subscriber_failed.connect(broken, weak=False)
    with caplog.at_level("CRITICAL", logger="supportkit"):
        t = desk.receive("email", "ann@example.com", "help")
    assert desk.get_ticket(t.id).version == 1


def test_two_desks_never_see_each_others_events(make_desk: DeskFactory) -> None:
    one, two = make_desk(), make_desk()
    seen: list[DomainEvent] = []
    _collect(two.signals.event, seen)
    one.receive("email", "ann@example.com", "help")
    assert seen == []


# -- the outbox ---------------------------------------------------------------------------------
def test_delivered_events_are_marked_in_batches(make_desk: DeskFactory) -> None:
    desk = make_desk(outbox_mark_batch=4)
    t = desk.receive("email", "ann@example.com", "help")  # 3 events, below the batch
    desk.add_note(t.id, "agent", "hi")  # 1 more: 4 delivered, marked with the next use case
    assert len(_pending(desk)) == 4
    desk.add_note(t.id, "agent", "note")
    assert len(_pending(desk)) == 1


def test_delivered_events_are_marked_published(make_desk: DeskFactory) -> None:
    desk = make_desk(outbox_mark_batch=1)
    t = desk.receive("email", "ann@example.com", "help")
    desk.flush_outbox()
    assert _pending(desk) == []
    desk.reply(t.id, "agent", "hi")
    desk.add_note(t.id, "agent", "note")  # marks the reply's events on the way
    assert len(_pending(desk)) == 1
    desk.flush_outbox()
    with desk.storage.unit_of_work() as uow:
        assert all(se.published for se in uow.events_for(t.id))


def test_publish_pending_redelivers_after_a_crash_before_delivery(
    make_desk: DeskFactory, caplog: pytest.LogCaptureFixture
) -> None:
    class Crash(BaseException):
        """The process dies while delivering."""

    storage = MemoryStorage()
    crashed = make_desk(storage)

    def die(sender: SupportDesk, event: DomainEvent) -> None:
        raise Crash

    crashed.signals.event.connect(die, weak=False)
    with pytest.raises(Crash):
        crashed.receive("email", "ann@example.com", "help")

    restarted = make_desk(storage)
    seen: list[DomainEvent] = []
    _collect(restarted.signals.event, seen)
    (t,) = restarted.find_tickets()
    assert restarted.publish_pending() == 3
    assert seen == restarted.events(t.id)
    assert restarted.publish_pending() == 0
    assert _pending(restarted) == []


def test_publish_pending_redelivers_events_delivered_but_never_marked(
    make_desk: DeskFactory,
) -> None:
    storage = MemoryStorage()
    first = make_desk(storage)
    first.receive("email", "ann@example.com", "help")  # delivered; marking waits for more work
    seen: list[DomainEvent] = []
    second = make_desk(storage)
    _collect(second.signals.event, seen)
    assert second.publish_pending() == 3  # at least once: redelivered
    assert [type(e) for e in seen] == [TicketReceived, MessageAdded, StatusChanged]


# -- timers -------------------------------------------------------------------------------------
def _schedule(desk: SupportDesk, timer: Timer) -> None:
    desk.run(lambda ctx: ctx.uow.schedule_timer(timer))


def test_tick_fires_due_timers_through_on_timer(desk: SupportDesk, fake_clock: FakeClock) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    fired: list[Timer] = []

    def remind_note(ctx: Any, timer: Timer) -> None:
        fired.append(timer)
        ctx.add_message(ctx.ticket(timer.ticket_id), Direction.NOTE, "system", "reminder")

    desk.on_timer("reminder", remind_note)
    _schedule(desk, Timer("r1", fake_clock.now() + timedelta(hours=1), "reminder", t.id))
    _schedule(desk, Timer("r2", fake_clock.now() + timedelta(hours=3), "reminder", t.id))
    assert desk.tick() == 0
    fake_clock.advance(hours=1)
    assert desk.tick() == 1
    assert [f.key for f in fired] == ["r1"]
    assert desk.messages(t.id)[-1].text == "reminder"
    assert desk.tick() == 0  # fired timers are gone
    assert desk.tick(fake_clock.now() + timedelta(hours=5)) == 1
    assert [f.key for f in fired] == ["r1", "r2"]


def test_a_timer_without_a_handler_is_left_scheduled_not_dropped(
    desk: SupportDesk, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    _schedule(desk, Timer("x", fake_clock.now(), "unknown.kind", "t"))
    with caplog.at_level("WARNING", logger="supportkit"):
        assert desk.tick() == 0
    assert any("left for a desk that has one" in r.getMessage() for r in caplog.records)
    with desk.storage.unit_of_work() as uow:
        assert [t.key for t in uow.due_timers(fake_clock.now())] == ["x"]


def test_one_handler_per_timer_kind(desk: SupportDesk) -> None:
    desk.on_timer("sla.breach", lambda ctx, timer: None)
    with pytest.raises(ConfigurationError, match=r"sla\.breach"):
        desk.on_timer("sla.breach", lambda ctx, timer: None)


def test_a_failed_use_case_keeps_the_outbox_in_order(make_desk: DeskFactory) -> None:
    storage = MemoryStorage()
    first, second = make_desk(storage), make_desk(storage)
    t = first.receive("email", "ann@example.com", "help")  # delivered, marked later
    second.receive("email", "bob@example.com", "help")  # delivered, never marked
    with pytest.raises(GuardRejected):  # its unit of work carried (and rolled back) the marks
        first.resolve(t.id, actor="agent", resolution="")
    seen: list[DomainEvent] = []
    third = make_desk(storage)
    _collect(third.signals.event, seen)
    assert third.publish_pending() == 6
    with storage.unit_of_work() as uow:
        assert seen == [se.event for se in uow.events_since(0)]


# -- in-transaction handlers ------------------------------------------------------------------
def test_in_transaction_handlers_commit_with_the_use_case(desk: SupportDesk) -> None:
    from supportkit.domain import TicketEscalated

    def page_the_expert(ctx: Any, event: TicketEscalated) -> None:
        ctx.add_message(ctx.ticket(event.ticket_id), Direction.NOTE, "system", "paged L3")

    desk.on(TicketEscalated, page_the_expert)
    t = desk.receive("email", "ann@example.com", "help")
    up = desk.escalate(t.id, "L3", actor="a", reason="bug")
    assert up.version == 2  # one save for the escalation and the handler's note
    assert desk.messages(t.id)[-1].text == "paged L3"


def test_a_failing_handler_rolls_the_use_case_back(desk: SupportDesk) -> None:
    seen: list[DomainEvent] = []
    t = desk.receive("email", "ann@example.com", "help")
    _collect(desk.signals.event, seen)

    def broken(ctx: Any, event: StatusChanged) -> None:
        raise RuntimeError("policy bug")

    desk.on(StatusChanged, broken)
    with pytest.raises(RuntimeError, match="policy bug"):
        desk.start_diagnosis(t.id, actor="a")
    assert desk.get_ticket(t.id) == t
    assert len(desk.history(t.id)) == 1
    assert seen == []


def test_a_failing_timer_handler_does_not_block_the_other_timers(
    desk: SupportDesk, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    t = desk.receive("chat", "user-1", "help")
    fired: list[str] = []

    def broken(ctx: Any, timer: Timer) -> None:
        ctx.add_message(ctx.ticket(timer.ticket_id), Direction.NOTE, "system", "half done")
        raise RuntimeError("handler bug")

    desk.on_timer("broken", broken)
    desk.on_timer("fine", lambda ctx, timer: fired.append(timer.key))
    _schedule(desk, Timer("a", fake_clock.now(), "broken", t.id))
    _schedule(desk, Timer("b", fake_clock.now() + timedelta(seconds=1), "fine", t.id))
    fake_clock.advance(minutes=1)
    with caplog.at_level("CRITICAL", logger="supportkit"):
        assert desk.tick() == 1
    assert fired == ["b"]
    assert len(desk.messages(t.id)) == 1  # the failed handler's work was rolled back
    with desk.storage.unit_of_work() as uow:
        assert [x.key for x in uow.timers_for(t.id)] == ["a"]  # retried next tick
