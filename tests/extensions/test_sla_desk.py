"""SLA clocks running on a SupportDesk: started, paused, stopped by use cases, swept by tick."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportkit.desk import SupportDesk
from supportkit.domain._errors import ConfigurationError, SupportKitError
from supportkit.domain._events import TicketEscalated
from supportkit.domain._model import Priority
from supportkit.metrics import SlaOutcome
from supportkit.policies import (
    NEXT_TIER,
    SlaBreachRecorded,
    SlaExtension,
    SlaKind,
    SlaPolicy,
    SlaRule,
    SlaWarningRecorded,
    office_hours,
)
from supportkit.ports import FakeClock
from supportkit.storage.memory import MemoryStorage
from supportkit.storage.sqlite import SQLiteStorage

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    """An instant in March 2024, Berlin time (11 March is a Monday)."""
    return datetime(2024, month, day, hour, minute, second, tzinfo=BERLIN)


POLICY = SlaPolicy(
    [
        SlaRule(first_response=2 * H, next_response=2 * H, resolution=16 * H, calendar="office"),
        SlaRule(resolution=8 * H, tier="L2", calendar="office"),
        SlaRule(first_response=timedelta(minutes=10), priority=Priority.URGENT),  # 24/7
    ],
    calendars={"office": office_hours("Europe/Berlin")},
)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    if request.param == "memory":
        yield MemoryStorage()
    else:
        s = SQLiteStorage(tmp_path / "sla.sqlite3")
        yield s
        s.close()


def make_desk(storage, start: datetime, **kw) -> tuple[SupportDesk, FakeClock, SlaExtension]:
    clock = FakeClock(start)
    sla = SlaExtension(POLICY, **kw)
    return SupportDesk(storage, clock=clock, extensions=[sla]), clock, sla


def sla_events(desk: SupportDesk, ticket_id: str) -> list[SlaWarningRecorded | SlaBreachRecorded]:
    return [
        e for e in desk.events(ticket_id) if isinstance(e, SlaWarningRecorded | SlaBreachRecorded)
    ]


def timers(desk: SupportDesk, ticket_id: str) -> dict[str, datetime]:
    with desk.storage.unit_of_work() as uow:
        return {t.key: t.due_at for t in uow.timers_for(ticket_id)}


def receive(desk: SupportDesk, **kw):
    return desk.receive("email", "ann@example.com", "My invoice is wrong", subject="Invoice", **kw)


# -- starting, warning, breaching -----------------------------------------------------------


def test_new_ticket_starts_first_response_and_resolution_clocks(storage):
    desk, _, sla = make_desk(storage, at(11, 9))
    t = receive(desk)
    clocks = sla.status(desk, t.id)
    assert set(clocks) == {SlaKind.FIRST_RESPONSE, SlaKind.RESOLUTION}
    assert clocks[SlaKind.FIRST_RESPONSE].due_at == at(11, 11)
    assert clocks[SlaKind.RESOLUTION].due_at == at(12, 16)  # 16 business hours
    assert timers(desk, t.id) == {
        f"sla:{t.id}:first_response": at(11, 10, 36),  # warning at 80% of 2 h
        f"sla:{t.id}:resolution": clocks[SlaKind.RESOLUTION].warn_at,
    }


def test_warning_then_breach_fire_exactly_once_each(storage):
    desk, clock, _ = make_desk(storage, at(11, 9))
    published: list[object] = []
    desk.signals.for_type("sla.breached").connect(
        lambda sender, event: published.append(event), weak=False
    )
    t = receive(desk)

    clock.set(at(11, 10, 35))
    assert desk.tick() == 0
    clock.set(at(11, 10, 40))
    assert desk.tick() == 1
    assert desk.tick() == 0
    (warning,) = sla_events(desk, t.id)
    assert warning == SlaWarningRecorded(t.id, at(11, 10, 36), "first_response", at(11, 11), 7200)

    clock.set(at(11, 11))  # an answer exactly at the deadline would still be in time
    assert desk.tick() == 0
    clock.set(at(11, 11, 1))
    assert desk.tick() == 1
    assert desk.tick() == 0
    assert [type(e) for e in sla_events(desk, t.id)] == [SlaWarningRecorded, SlaBreachRecorded]
    breach = sla_events(desk, t.id)[1]
    assert (breach.kind, breach.at, breach.escalated_to) == ("first_response", at(11, 11), None)
    assert published == [breach]
    assert f"sla:{t.id}:first_response" not in timers(desk, t.id)


def test_a_late_tick_reports_warning_and_breach_together_in_order(storage):
    desk, clock, _ = make_desk(storage, at(11, 9))
    t = receive(desk)
    clock.set(at(11, 12))
    assert desk.tick() == 1
    events = sla_events(desk, t.id)
    assert [(type(e), e.at) for e in events] == [
        (SlaWarningRecorded, at(11, 10, 36)),
        (SlaBreachRecorded, at(11, 11)),
    ]


def test_tick_with_an_explicit_instant_ahead_of_the_desk_clock(storage):
    desk, _, _ = make_desk(storage, at(11, 9))
    t = receive(desk)
    assert desk.tick(at(11, 10, 40)) == 1
    assert [type(e) for e in sla_events(desk, t.id)] == [SlaWarningRecorded]
    assert desk.tick(at(11, 11, 1)) == 1
    assert [type(e) for e in sla_events(desk, t.id)] == [SlaWarningRecorded, SlaBreachRecorded]


def test_business_hours_ticket_on_friday_evening_is_due_on_monday(storage):
    desk, clock, sla = make_desk(storage, at(8, 17))  # Friday 17:00
    t = receive(desk)
    first = sla.status(desk, t.id)[SlaKind.FIRST_RESPONSE]
    assert first.due_at == at(11, 10)  # one hour on Friday, one on Monday
    assert first.warn_at == at(11, 9, 36)
    clock.set(at(10, 23))  # Sunday night: nothing is due over the weekend
    assert desk.tick() == 0
    assert sla_events(desk, t.id) == []
    clock.set(at(11, 9, 40))
    assert desk.tick() == 1
    assert [type(e) for e in sla_events(desk, t.id)] == [SlaWarningRecorded]


# -- pause, stop, reopen ------------------------------------------------------------------------


def test_paused_clock_never_breaches_and_resumes_with_the_deadline_moved(storage):
    desk, clock, sla = make_desk(storage, at(11, 9))
    t = receive(desk)
    clock.set(at(11, 10))
    desk.wait_on_customer(t.id, actor="ann", reason="which invoice?")
    paused = sla.status(desk, t.id)
    assert {c.state for c in paused.values()} == {"paused"}
    assert timers(desk, t.id) == {}  # a paused clock has no timer

    clock.set(at(15, 17))  # days later, far past every original deadline
    assert desk.tick() == 0
    assert sla_events(desk, t.id) == []

    clock.set(at(18, 9))  # Monday: the customer answers
    desk.receive("email", "ann@example.com", "Invoice 42", ticket_id=t.id)
    resumed = sla.status(desk, t.id)
    assert resumed[SlaKind.FIRST_RESPONSE].state == "running"
    assert resumed[SlaKind.FIRST_RESPONSE].due_at == at(18, 10)  # 1 of 2 hours was left
    assert resumed[SlaKind.RESOLUTION].due_at == at(19, 15)  # 15 of 16 hours were left
    assert f"sla:{t.id}:first_response" in timers(desk, t.id)
    assert SlaKind.NEXT_RESPONSE not in resumed  # no first response yet: nothing "next"


def test_reply_in_time_meets_the_target_and_no_breach_fires(storage):
    desk, clock, sla = make_desk(storage, at(11, 9))
    t = receive(desk)
    clock.set(at(11, 10, 30))
    desk.reply(t.id, "bob", "Looking into it")
    first = sla.status(desk, t.id)[SlaKind.FIRST_RESPONSE]
    assert first.state == "met"
    assert first.consumed == 90 * timedelta(minutes=1)
    assert f"sla:{t.id}:first_response" not in timers(desk, t.id)
    clock.set(at(11, 12))
    desk.tick()
    assert [e.kind for e in sla_events(desk, t.id)] == []
    assert SlaOutcome(t.id, "first_response", True, at(11, 10, 30)) in sla.outcomes(desk)


def test_late_reply_reports_the_breach_at_once(storage):
    desk, clock, sla = make_desk(storage, at(11, 9))
    t = receive(desk)
    clock.set(at(11, 11, 5))  # no tick ran in between
    desk.reply(t.id, "bob", "Sorry for the wait")
    assert [(type(e), e.kind) for e in sla_events(desk, t.id)] == [
        (SlaWarningRecorded, "first_response"),
        (SlaBreachRecorded, "first_response"),
    ]
    assert sla.status(desk, t.id)[SlaKind.FIRST_RESPONSE].state == "breached"
    assert SlaOutcome(t.id, "first_response", False, at(11, 11)) in sla.outcomes(desk)


def test_each_customer_message_after_an_answer_starts_a_next_response_clock(storage):
    desk, clock, sla = make_desk(storage, at(11, 9))
    t = receive(desk)
    clock.set(at(11, 9, 30))
    desk.reply(t.id, "bob", "Which invoice?")
    clock.set(at(11, 10))
    desk.receive("email", "ann@example.com", "Number 42", ticket_id=t.id)
    clock.set(at(11, 10, 15))
    desk.receive("email", "ann@example.com", "Also 43", ticket_id=t.id)  # still waiting
    nxt = sla.status(desk, t.id)[SlaKind.NEXT_RESPONSE]
    assert nxt.started_at == at(11, 10)
    assert nxt.due_at == at(11, 12)
    clock.set(at(11, 11))
    desk.reply(t.id, "bob", "Fixed both")
    assert sla.status(desk, t.id)[SlaKind.NEXT_RESPONSE].state == "met"
    clock.set(at(11, 13))
    desk.receive("email", "ann@example.com", "Thanks, one more thing", ticket_id=t.id)
    assert sla.status(desk, t.id)[SlaKind.NEXT_RESPONSE].state == "running"
    next_outcomes = [o for o in sla.outcomes(desk) if o.target == "next_response"]
    assert next_outcomes == [SlaOutcome(t.id, "next_response", True, at(11, 11))]


def test_resolving_stops_resolution_and_a_customer_reply_reopens_it(storage):
    desk, clock, sla = make_desk(storage, at(11, 9))
    t = receive(desk)
    clock.set(at(11, 10))
    desk.reply(t.id, "bob", "Fixed")
    clock.set(at(11, 13))
    desk.resolve(t.id, actor="bob", resolution="credit note sent")
    resolution = sla.status(desk, t.id)[SlaKind.RESOLUTION]
    assert resolution.state == "met"
    assert resolution.consumed == 4 * H
    assert f"sla:{t.id}:resolution" not in timers(desk, t.id)

    clock.set(at(12, 9))
    desk.receive("email", "ann@example.com", "Still wrong", ticket_id=t.id)
    assert desk.get_ticket(t.id).status == "diagnosing"
    clocks = sla.status(desk, t.id)
    # the time spent resolved counts as paused: 12 of 16 business hours remain
    assert clocks[SlaKind.RESOLUTION].state == "running"
    assert clocks[SlaKind.RESOLUTION].due_at == at(13, 12)
    assert clocks[SlaKind.NEXT_RESPONSE].due_at == at(12, 11)
    assert clocks[SlaKind.FIRST_RESPONSE].state == "met"  # never reopened


def test_closing_stops_every_clock_and_spam_leaves_compliance(storage):
    desk, clock, sla = make_desk(storage, at(11, 9))
    kept = receive(desk)
    spam = desk.receive("email", "bot@spam.example", "Buy now", subject="Offer")
    clock.set(at(11, 9, 30))
    desk.close_as_spam(spam.id, actor="bob", reason="advertising")
    desk.reply(kept.id, "bob", "Fixed")
    desk.resolve(kept.id, actor="bob", resolution="done")
    desk.close(kept.id, actor="bob")
    assert timers(desk, kept.id) == {}
    assert timers(desk, spam.id) == {}
    assert all(c.is_stopped for c in sla.status(desk, spam.id).values())
    assert {o.ticket_id for o in sla.outcomes(desk)} == {kept.id}
    clock.set(at(30, 9))
    assert desk.tick() == 0


# -- escalation and re-chosen targets -------------------------------------------------------


def test_breach_escalates_to_l2_and_l2_targets_apply(storage):
    desk, clock, sla = make_desk(storage, at(11, 9), escalate_on_breach={"first_response": "L2"})
    t = receive(desk)
    clock.set(at(11, 11, 1))
    assert desk.tick() == 1
    ticket = desk.get_ticket(t.id)
    assert ticket.tier == "L2"
    events = [e for e in desk.events(t.id) if isinstance(e, SlaBreachRecorded | TicketEscalated)]
    assert [type(e) for e in events] == [SlaBreachRecorded, TicketEscalated]
    assert events[0].escalated_to == "L2"
    assert (events[1].policy, events[1].actor, events[1].from_tier) == ("sla-breach", "sla", "L1")
    # the L2 rule promises resolution within 8 business hours: 2 are used, 6 remain
    resolution = sla.status(desk, t.id)[SlaKind.RESOLUTION]
    assert resolution.target == 8 * H
    assert resolution.due_at == at(11, 17)


def test_top_tier_breach_is_noted_not_raised(storage):
    desk, clock, _ = make_desk(storage, at(11, 9), escalate_on_breach={"first_response": NEXT_TIER})
    t = receive(desk)
    desk.escalate(t.id, "L3", actor="bob", reason="needs a developer")
    clock.set(at(11, 11, 1))
    assert desk.tick() == 1
    (breach,) = [e for e in sla_events(desk, t.id) if isinstance(e, SlaBreachRecorded)]
    assert breach.escalated_to is None
    assert breach.note == "not escalated: L3 is the top tier"
    assert desk.get_ticket(t.id).tier == "L3"


def test_breach_escalation_with_a_callable(storage):
    desk, clock, _ = make_desk(
        storage,
        at(11, 9),
        escalate_on_breach=lambda ticket, c: "L3" if c.kind == "first_response" else None,
    )
    t = receive(desk)
    clock.set(at(11, 11, 1))
    desk.tick()
    assert desk.get_ticket(t.id).tier == "L3"


def test_late_answer_is_a_breach_but_not_escalated(storage):
    desk, clock, _ = make_desk(storage, at(11, 9), escalate_on_breach={"first_response": "L2"})
    t = receive(desk)
    clock.set(at(11, 11, 5))
    desk.reply(t.id, "bob", "Sorry for the wait")
    (breach,) = [e for e in sla_events(desk, t.id) if isinstance(e, SlaBreachRecorded)]
    assert breach.escalated_to is None
    assert "fulfilled late" in breach.note
    assert desk.get_ticket(t.id).tier == "L1"


def test_raising_priority_rechooses_the_first_response_target(storage):
    desk, clock, sla = make_desk(storage, at(11, 9))
    t = receive(desk)
    clock.set(at(11, 9, 4))
    desk.update(t.id, actor="triage", priority=Priority.URGENT)
    first = sla.status(desk, t.id)[SlaKind.FIRST_RESPONSE]
    assert first.target == timedelta(minutes=10)
    assert first.calendar_name is None
    assert first.due_at == at(11, 9, 10)  # 4 minutes used, 6 left, 24/7
    clock.set(at(11, 9, 11))
    desk.tick()
    assert [type(e) for e in sla_events(desk, t.id)] == [SlaWarningRecorded, SlaBreachRecorded]


def test_segment_comes_from_the_customer(storage):
    policy = SlaPolicy(
        [SlaRule(first_response=8 * H), SlaRule(first_response=H, segment="vip")],
    )
    clock = FakeClock(at(11, 9))
    sla = SlaExtension(policy)
    desk = SupportDesk(storage, clock=clock, extensions=[sla])
    first = receive(desk)
    with desk.storage.unit_of_work() as uow:
        customer = uow.get_customer(first.customer_id)
        customer.segment = "vip"
        uow.save_customer(customer)
        uow.commit()
    second = desk.receive("email", "ann@example.com", "Another one", subject="Other")
    assert sla.status(desk, first.id)[SlaKind.FIRST_RESPONSE].target == 8 * H
    assert sla.status(desk, second.id)[SlaKind.FIRST_RESPONSE].target == H


# -- the sweep is an index scan -----------------------------------------------------------


def test_tick_fires_only_due_timers_among_many(storage, monkeypatch):
    desk, clock, _ = make_desk(storage, at(11, 9))
    urgent = desk.receive("chat", "u@example.com", "Down!", priority=Priority.URGENT)
    others = [
        desk.receive("email", f"c{i}@example.com", "Question", subject=f"Q{i}") for i in range(150)
    ]
    with desk.storage.unit_of_work() as uow:
        uow_type = type(uow)
    reads: list[str] = []
    by_key, by_ticket = uow_type.get_sla_clock, uow_type.sla_clocks_for

    def counting_key(self, key):
        reads.append(key)
        return by_key(self, key)

    def counting_ticket(self, ticket_id):
        reads.append(ticket_id)
        return by_ticket(self, ticket_id)

    monkeypatch.setattr(uow_type, "get_sla_clock", counting_key)
    monkeypatch.setattr(uow_type, "sla_clocks_for", counting_ticket)
    clock.set(at(11, 9, 15))
    assert desk.tick() == 1
    assert {k.split(":")[0] for k in reads} == {urgent.id}
    assert [type(e) for e in sla_events(desk, urgent.id)] == [
        SlaWarningRecorded,
        SlaBreachRecorded,
    ]
    assert all(sla_events(desk, t.id) == [] for t in others[:5])
    assert len(timers(desk, others[0].id)) == 2  # the other timers are untouched


def test_stored_sla_events_round_trip_through_the_outbox(storage):
    desk, clock, _ = make_desk(storage, at(11, 9))
    t = receive(desk)
    clock.set(at(11, 12))
    desk.tick()
    with desk.storage.unit_of_work() as uow:
        stored = [se.event for se in uow.events_for(t.id)]
    assert [type(e).type_name for e in stored if isinstance(e, SlaBreachRecorded)] == [
        "sla.breached"
    ]
    assert [type(e).type_name for e in stored if isinstance(e, SlaWarningRecorded)] == [
        "sla.warning"
    ]


# -- configuration ---------------------------------------------------------------------------


def test_unknown_breach_tier_is_rejected_when_the_desk_is_built():
    with pytest.raises(ConfigurationError, match="tier 'L9'"):
        SupportDesk(
            MemoryStorage(),
            extensions=[SlaExtension(POLICY, escalate_on_breach={"resolution": "L9"})],
        )


def test_unknown_breach_kind_is_rejected():
    with pytest.raises(ConfigurationError, match="target kinds"):
        SlaExtension(POLICY, escalate_on_breach={"answer": "L2"})


def test_policy_is_required():
    with pytest.raises(ConfigurationError, match="SlaPolicy"):
        SlaExtension({"first_response": H})  # type: ignore[arg-type]


# -- properties over random histories ---------------------------------------------------------

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["reply", "customer", "wait", "resolve", "escalate", "close", "tick"]),
        st.integers(min_value=1, max_value=60 * 30),  # minutes to advance first
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(ACTIONS)
def test_random_histories_keep_the_clock_promises(actions):
    desk, clock, sla = make_desk(
        MemoryStorage(), at(11, 9), escalate_on_breach={"resolution": NEXT_TIER}
    )
    t = receive(desk)
    for action, minutes in actions:
        clock.advance(minutes=minutes)
        status = desk.get_ticket(t.id).status
        try:
            if action == "reply":
                desk.reply(t.id, "bob", "an answer")
            elif action == "customer":
                desk.receive("email", "ann@example.com", "more", ticket_id=t.id)
            elif action == "wait" and status in ("registered", "diagnosing"):
                desk.wait_on_customer(t.id, actor="bob")
            elif action == "resolve" and status != "resolved":
                desk.resolve(t.id, actor="bob", resolution="done")
            elif action == "escalate":
                desk.escalate(t.id, "L2", actor="bob", reason="harder")
            elif action == "close" and status == "resolved":
                desk.close(t.id, actor="bob")
            elif action == "tick":
                desk.tick()
        except SupportKitError:
            continue  # not allowed in this state (a closed ticket, already L2, ...)
        ticket = desk.get_ticket(t.id)
        running = {
            f"sla:{t.id}:{c.kind.value}"
            for c in sla.status(desk, t.id).values()
            if c.state == "running"
        }
        assert set(timers(desk, t.id)) == running  # a timer exactly while a clock runs
        if ticket.status == "waiting_on_customer":
            assert running == set()
    desk.tick(at(30, 9, month=4))
    seen: dict[str, list[type]] = {}
    for e in sla_events(desk, t.id):
        seen.setdefault(e.kind, []).append(type(e))
    for kind, kinds in seen.items():
        warnings = 0
        for i, cls in enumerate(kinds):
            warnings += cls is SlaWarningRecorded
            breaches = kinds[: i + 1].count(SlaBreachRecorded)
            assert breaches <= warnings, f"{kind}: a breach before its warning: {kinds}"
        if kind != "next_response":
            assert kinds.count(SlaWarningRecorded) <= 1
            assert kinds.count(SlaBreachRecorded) <= 1


def test_a_ticket_routed_to_a_team_is_measured_by_that_teams_rule() -> None:
    from datetime import UTC, datetime, timedelta

    from supportkit import FakeClock, MemoryStorage, SupportDesk
    from supportkit.domain import Agent, Team
    from supportkit.policies import SlaExtension, SlaPolicy, SlaRule

    policy = SlaPolicy(
        [
            SlaRule(first_response=timedelta(hours=8)),
            SlaRule(first_response=timedelta(minutes=30), team="vip-desk"),
        ]
    )
    sla = SlaExtension(policy)
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    desk = SupportDesk(MemoryStorage(), clock=clock, extensions=[sla])
    desk.add_team(Team("vip-desk", "VIP desk", tier="L1"))
    desk.add_agent(Agent("vera", "Vera", tier="L1", teams=("vip-desk",)))
    ticket = desk.receive("email", "ann@example.com", "Hello")
    assert sla.status(desk, ticket.id)["first_response"].target == timedelta(hours=8)
    desk.assign(ticket.id, "vera", actor="lead")
    assert sla.status(desk, ticket.id)["first_response"].target == timedelta(minutes=30)
