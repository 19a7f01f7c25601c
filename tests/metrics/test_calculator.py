"""The calculator on hand-made histories: each metric's formula, one scenario at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportkit import Agent, FakeClock, MemoryStorage, SupportDesk, Team, ValidationError
from supportkit.metrics import (
    FeedbackRecord,
    MetricsReport,
    SlaOutcome,
    compute_metrics,
    iter_ticket_facts,
    period_key,
)
from supportkit.metrics._records import response_waits
from supportkit.policies import office_hours

MON = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk() -> SupportDesk:
    d = SupportDesk(MemoryStorage(), clock=FakeClock(MON))
    d.add_team(Team("support", "Support"))
    d.add_agent(Agent("ann", "Ann", teams=("support",)))
    return d


def clock(desk: SupportDesk) -> FakeClock:
    assert isinstance(desk.clock, FakeClock)
    return desk.clock


def report(desk: SupportDesk, **options: object) -> MetricsReport:
    options.setdefault("at", desk.clock.now())
    with desk.storage.unit_of_work() as uow:
        return compute_metrics(iter_ticket_facts(uow), **options)


def test_first_response_and_resolution_are_measured_from_reception(desk: SupportDesk) -> None:
    t = desk.receive("email", "a@example.com", "help")
    clock(desk).advance(minutes=30)
    desk.reply(t.id, "ann", "hello")
    clock(desk).advance(hours=2)
    desk.resolve(t.id, actor="ann", resolution="done")
    total = report(desk).total
    assert total.first_response.median == 1800
    assert total.resolution.median == 1800 + 7200
    assert total.first_contact_resolution.pct == 100.0


def test_next_response_starts_at_the_first_unanswered_customer_message(
    desk: SupportDesk,
) -> None:
    t = desk.receive("chat", "a@example.com", "help")
    clock(desk).advance(minutes=5)
    desk.reply(t.id, "ann", "what version?")
    clock(desk).advance(minutes=10)
    desk.receive("chat", "a@example.com", "3.1", ticket_id=t.id)
    clock(desk).advance(minutes=10)
    desk.receive("chat", "a@example.com", "and 3.2", ticket_id=t.id)
    desk.add_note(t.id, "ann", "looking")
    clock(desk).advance(minutes=20)
    desk.reply(t.id, "ann", "fixed in 3.3")
    total = report(desk).total
    assert total.next_response.count == 1
    assert total.next_response.median == 30 * 60
    # two outbound messages: not a first-contact resolution once resolved
    desk.resolve(t.id, actor="ann", resolution="upgrade")
    assert report(desk).total.first_contact_resolution.numerator == 0


def test_waits_ignore_notes_and_keep_unanswered_ones_open(desk: SupportDesk) -> None:
    t = desk.receive("chat", "a@example.com", "help")
    desk.reply(t.id, "ann", "hi")
    clock(desk).advance(minutes=1)
    desk.receive("chat", "a@example.com", "still there?", ticket_id=t.id)
    waits = response_waits(desk.messages(t.id))
    assert waits == ((MON + timedelta(minutes=1), None),)


def test_reopen_rate_counts_tickets_reopened_among_those_ever_resolved(
    desk: SupportDesk,
) -> None:
    a = desk.receive("email", "a@example.com", "one")
    b = desk.receive("email", "b@example.com", "two")
    for t in (a, b):
        desk.reply(t.id, "ann", "answer")
        desk.resolve(t.id, actor="ann", resolution="r")
    desk.receive("email", "a@example.com", "not fixed", ticket_id=a.id)
    total = report(desk).total
    assert (total.reopen.numerator, total.reopen.denominator) == (1, 2)
    assert total.first_contact_resolution.numerator == 1  # b; a is open again
    assert total.backlog == 1


def test_escalation_rate_per_tier_counts_tickets_that_left_the_tier(desk: SupportDesk) -> None:
    a = desk.receive("email", "a@example.com", "one")
    desk.receive("email", "b@example.com", "two")
    desk.escalate(a.id, "L2", actor="ann", reason="hard")
    desk.escalate(a.id, "L3", actor="ann", reason="harder")
    total = report(desk).total
    tiers = {k: (r.numerator, r.denominator) for k, r in total.escalation_by_tier.items()}
    assert tiers == {"L1": (1, 2), "L2": (1, 1), "L3": (0, 1)}
    assert total.escalation.pct == 50.0


def test_backlog_ageing_and_agent_load_at_an_instant(desk: SupportDesk) -> None:
    a = desk.receive("email", "a@example.com", "one")
    desk.assign(a.id, "ann")
    clock(desk).advance(days=2)
    desk.receive("chat", "b@example.com", "two")
    clock(desk).advance(hours=1)
    r = report(desk)
    assert r.total.backlog == 2
    assert r.total.ageing == {"<4h": 1, "4h-1d": 0, "1-3d": 1, "3-7d": 0, ">7d": 0}
    assert r.agent_load == {"ann": 1, "(unassigned)": 1}
    assert r.backlog_series[-1][1] == 2
    earlier = report(desk, at=MON + timedelta(hours=1))
    assert earlier.total.backlog == 1


def test_feedback_gives_csat_and_nps_per_group(desk: SupportDesk) -> None:
    a = desk.receive("email", "a@example.com", "one")
    b = desk.receive("chat", "b@example.com", "two")
    fb = [
        FeedbackRecord(a.id, 5, 10, MON),
        FeedbackRecord(a.id, 4, None, MON),
        FeedbackRecord(b.id, 2, 3, MON),
    ]
    r = report(desk, feedback=fb, group_by="channel")
    assert r.total.csat.pct == pytest.approx(200 / 3)
    assert r.total.csat.mean == pytest.approx(11 / 3)
    assert r.total.nps.score == 0.0
    assert r.group("email").csat.pct == 100.0
    assert r.group("chat").nps.score == -100.0


def test_given_sla_outcomes_give_compliance_per_target(desk: SupportDesk) -> None:
    a = desk.receive("email", "a@example.com", "one")
    outcomes = [
        SlaOutcome(a.id, "first_response", True, MON),
        SlaOutcome(a.id, "resolution", False, MON),
        SlaOutcome(a.id, "resolution", True, MON),
    ]
    sla = report(desk, sla_outcomes=outcomes).total.sla
    assert sla["first_response"].pct == 100.0
    assert sla["resolution"].pct == 50.0


def test_business_time_skips_closed_hours(desk: SupportDesk) -> None:
    clock(desk).set(datetime(2026, 1, 9, 17, 0, tzinfo=UTC))  # Friday 17:00
    t = desk.receive("email", "a@example.com", "help")
    clock(desk).set(datetime(2026, 1, 12, 10, 0, tzinfo=UTC))  # Monday 10:00
    desk.reply(t.id, "ann", "hello")
    total = report(desk, calendar=office_hours("UTC")).total
    assert total.first_response.median == 65 * 3600
    assert total.first_response_business is not None
    assert total.first_response_business.median == 2 * 3600


def test_derived_sla_counts_a_running_ticket_only_once_it_is_late(desk: SupportDesk) -> None:
    desk.receive("email", "a@example.com", "help")
    targets = {"first_response": timedelta(hours=1)}
    assert report(desk, sla_targets=targets).total.sla == {}
    clock(desk).advance(hours=2)
    sla = report(desk, sla_targets=targets).total.sla
    assert (sla["first_response"].numerator, sla["first_response"].denominator) == (0, 1)


def test_grouping_by_period_uses_utc_days_weeks_and_months(desk: SupportDesk) -> None:
    desk.receive("email", "a@example.com", "one")
    clock(desk).advance(days=8)
    desk.receive("email", "b@example.com", "two")
    by_week = report(desk, group_by="week")
    assert [g.key for g in by_week.groups] == ["2026-01-05", "2026-01-12"]
    assert period_key(MON, "month") == "2026-01"


def test_the_window_selects_tickets_by_reception(desk: SupportDesk) -> None:
    desk.receive("email", "a@example.com", "one")
    clock(desk).advance(days=1)
    desk.receive("email", "b@example.com", "two")
    r = report(desk, since=MON + timedelta(hours=1), until=MON + timedelta(days=2))
    assert r.total.tickets == 1
    assert r.total.backlog == 2  # the backlog is every ticket open at the instant


def test_bad_options_are_rejected_with_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="group by"):
        compute_metrics([], at=MON, group_by="colour")
    with pytest.raises(ValidationError, match="instant"):
        compute_metrics([])
    with pytest.raises(ValidationError, match="negative"):
        compute_metrics([], at=MON, sla_targets={"resolution": timedelta(hours=-1)})
    with pytest.raises(ValidationError, match="csat"):
        FeedbackRecord("t", 6, None, MON)
    with pytest.raises(ValidationError, match="nps"):
        FeedbackRecord("t", 5, 11, MON)
    with pytest.raises(ValidationError, match="SLA target"):
        SlaOutcome("t", "lunch", True, MON)


def test_stopped_sla_clocks_become_outcomes() -> None:
    from supportkit.metrics import sla_outcomes_from_clocks
    from supportkit.policies import SlaClock, SlaKind, SlaTarget, always_open

    target = SlaTarget(SlaKind.FIRST_RESPONSE, timedelta(hours=1), calendar=always_open())
    met = SlaClock.start("a", target, MON).stop(MON + timedelta(minutes=30))
    late = SlaClock.start("b", target, MON).stop(MON + timedelta(hours=2))
    running = SlaClock.start("c", target, MON)
    outcomes = list(sla_outcomes_from_clocks([met, late, running]))
    assert [(o.ticket_id, o.met) for o in outcomes] == [("a", True), ("b", False)]
    assert outcomes[1].at == MON + timedelta(hours=1)
