"""SLA policies and clocks: rule matching, pause/resume, warnings, breaches, reopen."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.domain._model import Priority
from supportkit.policies._calendar import office_hours
from supportkit.policies._sla import (
    ClockState,
    SlaBreached,
    SlaClock,
    SlaEvent,
    SlaKind,
    SlaPolicy,
    SlaRule,
    SlaTarget,
    SlaWarning,
    sweep,
)

H = timedelta(hours=1)
MON_9 = datetime(2024, 1, 8, 9, tzinfo=UTC)
OFFICE = office_hours("UTC")


def policy() -> SlaPolicy:
    return SlaPolicy(
        [
            SlaRule(first_response=8 * H, resolution=40 * H, calendar="office"),
            SlaRule(first_response=4 * H, channel="chat", calendar="office"),
            SlaRule(first_response=1 * H, priority=Priority.URGENT),
            SlaRule(
                first_response=30 * timedelta(minutes=1), priority=Priority.URGENT, segment="vip"
            ),
            SlaRule(first_response=2 * H, channel="chat", segment="vip", calendar="office"),
        ],
        calendars={"office": OFFICE},
    )


def office_clock(target: timedelta = 10 * H, at: datetime = MON_9) -> SlaClock:
    return SlaClock.start("T-1", SlaTarget(SlaKind.FIRST_RESPONSE, target, OFFICE, "office"), at)


# -- choosing the target ----------------------------------------------------------


def test_a_ticket_matching_no_specific_rule_gets_the_general_target() -> None:
    found = policy().target_for("first_response", channel="email")
    assert found is not None
    assert found.target == 8 * H
    assert found.calendar_name == "office"


def test_the_rule_naming_the_most_criteria_wins() -> None:
    p = policy()
    assert p.target_for("first_response", channel="chat").target == 4 * H  # type: ignore[union-attr]
    assert p.target_for(  # type: ignore[union-attr]
        "first_response", priority=Priority.URGENT, segment="vip"
    ).target == timedelta(minutes=30)


def test_on_equal_specificity_the_rule_listed_first_wins() -> None:
    # urgent (priority) and chat (channel) each name one criterion: urgent is listed later.
    found = policy().target_for("first_response", channel="chat", priority=Priority.URGENT)
    assert found is not None
    assert found.target == 4 * H


def test_rules_that_do_not_set_a_kind_do_not_shadow_general_ones() -> None:
    found = policy().target_for("resolution", channel="chat", priority=Priority.URGENT)
    assert found is not None
    assert found.target == 40 * H


def test_targets_without_a_calendar_are_measured_in_calendar_time() -> None:
    found = policy().target_for("first_response", priority=Priority.URGENT)
    assert found is not None
    assert found.calendar_name is None
    clock = SlaClock.start("T-1", found, datetime(2024, 1, 6, 23, tzinfo=UTC))
    assert clock.due_at == datetime(2024, 1, 7, 0, tzinfo=UTC)


def test_targets_for_lists_every_kind_that_applies() -> None:
    assert set(policy().targets_for(channel="email")) == {
        SlaKind.FIRST_RESPONSE,
        SlaKind.RESOLUTION,
    }


# -- bad configuration ------------------------------------------------------------


@pytest.mark.parametrize("target", [-H, timedelta(0)])
def test_a_negative_or_zero_target_is_rejected(target: timedelta) -> None:
    with pytest.raises(ConfigurationError, match="must be a positive duration"):
        SlaRule(first_response=target)


def test_a_rule_without_targets_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="sets no target"):
        SlaRule(channel="chat")


@pytest.mark.parametrize("ratio", [0, 1, 1.5, -0.2])
def test_a_warning_ratio_outside_zero_and_one_is_rejected(ratio: float) -> None:
    with pytest.raises(ConfigurationError, match="warn_ratio"):
        SlaRule(resolution=H, warn_ratio=ratio)


def test_a_rule_naming_an_unknown_calendar_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="calendar 'support'"):
        SlaPolicy([SlaRule(resolution=H, calendar="support")])


# -- the clock --------------------------------------------------------------------


def test_a_started_clock_is_due_after_the_target_in_business_time() -> None:
    clock = office_clock(10 * H)
    assert clock.state is ClockState.RUNNING
    assert clock.due_at == datetime(2024, 1, 9, 10, tzinfo=UTC)
    assert clock.warn_at == datetime(2024, 1, 8, 17, tzinfo=UTC)
    assert clock.next_event_at == clock.warn_at


def test_resuming_moves_the_deadline_by_the_paused_business_time() -> None:
    clock = office_clock(10 * H).pause(MON_9 + 2 * H)
    assert clock.state is ClockState.PAUSED
    assert clock.next_event_at is None
    resumed = clock.resume(MON_9 + 24 * H)  # Tuesday 09:00, 7 business hours later
    assert resumed.due_at == datetime(2024, 1, 9, 17, tzinfo=UTC)
    assert resumed.consumed_at(resumed.due_at) == 10 * H


def test_warning_then_breach_are_reported_once_each() -> None:
    clock = office_clock(2 * H)
    clock, events = clock.due_events(MON_9 + 100 * timedelta(minutes=1))
    assert events == [
        SlaWarning("T-1", SlaKind.FIRST_RESPONSE, MON_9 + 96 * timedelta(minutes=1), MON_9 + 2 * H)
    ]
    clock, events = clock.due_events(MON_9 + 3 * H)
    assert events == [SlaBreached("T-1", SlaKind.FIRST_RESPONSE, MON_9 + 2 * H)]
    assert clock.state is ClockState.BREACHED
    assert clock.due_events(MON_9 + 5 * H) == (clock, [])
    assert clock.next_event_at is None


def test_an_answer_exactly_at_the_deadline_is_in_time() -> None:
    clock = office_clock(2 * H)
    assert clock.stop(MON_9 + 2 * H).state is ClockState.MET
    assert clock.stop(MON_9 + 2 * H + timedelta(seconds=1)).state is ClockState.BREACHED


def test_a_late_stop_still_reports_the_warning_and_the_breach() -> None:
    clock = office_clock(2 * H).stop(MON_9 + 3 * H)
    assert clock.state is ClockState.BREACHED
    _, events = clock.due_events(MON_9 + 3 * H)
    assert [type(e) for e in events] == [SlaWarning, SlaBreached]


def test_pausing_after_the_deadline_does_not_hide_the_breach() -> None:
    clock = office_clock(2 * H).pause(MON_9 + 3 * H)
    assert clock.state is ClockState.BREACHED
    _, events = clock.due_events(MON_9 + 3 * H)
    assert [type(e) for e in events] == [SlaWarning, SlaBreached]


def test_reopened_resolution_clock_counts_resolved_time_as_paused() -> None:
    target = SlaTarget(SlaKind.RESOLUTION, 10 * H, OFFICE, "office")
    clock = SlaClock.start("T-1", target, MON_9).stop(MON_9 + 4 * H)
    assert clock.state is ClockState.MET
    reopened = clock.reopen(MON_9 + 24 * H)
    assert reopened.state is ClockState.RUNNING
    assert reopened.consumed == 4 * H
    assert reopened.due_at == MON_9 + 24 * H + 6 * H


def test_a_breached_clock_stays_breached_when_reopened() -> None:
    clock = office_clock(2 * H).stop(MON_9 + 3 * H).reopen(MON_9 + 4 * H)
    assert clock.state is ClockState.BREACHED
    assert not clock.is_stopped


def test_operations_that_do_not_apply_leave_the_clock_unchanged() -> None:
    clock = office_clock()
    assert clock.resume(MON_9) is clock
    paused = clock.pause(MON_9 + H)
    assert paused.pause(MON_9 + 2 * H) is paused
    stopped = paused.stop(MON_9 + 2 * H)
    assert stopped.state is ClockState.MET
    assert stopped.stop(MON_9 + 3 * H) is stopped
    assert stopped.pause(MON_9 + 3 * H) is stopped


def test_changes_out_of_time_order_are_rejected() -> None:
    clock = office_clock().pause(MON_9 + 2 * H)
    with pytest.raises(ValidationError, match="before its last change"):
        clock.resume(MON_9 + H)


def test_sweep_reports_events_of_many_clocks_in_time_order() -> None:
    a = office_clock(2 * H)
    b = SlaClock.start("T-2", SlaTarget(SlaKind.RESOLUTION, H, OFFICE, "office"), MON_9)
    changed, events = sweep([a, b], MON_9 + 3 * H)
    assert len(changed) == 2
    assert [(e.ticket_id, type(e).__name__) for e in events] == [
        ("T-2", "SlaWarning"),
        ("T-2", "SlaBreached"),
        ("T-1", "SlaWarning"),
        ("T-1", "SlaBreached"),
    ]


# -- properties -------------------------------------------------------------------

ops = st.lists(
    st.tuples(
        st.sampled_from(["pause", "resume", "stop", "reopen", "sweep"]),
        st.integers(0, 40 * 3600),
    ),
    max_size=12,
)
targets = st.integers(60, 30 * 3600).map(lambda s: timedelta(seconds=s))


def run(
    clock: SlaClock, steps: list[tuple[str, int]]
) -> tuple[SlaClock, list[SlaEvent], list[tuple[datetime, SlaClock]]]:
    """Apply operations at increasing instants; return the end clock, events and the history."""
    at = clock.started_at
    events: list[SlaEvent] = []
    history = [(at, clock)]
    for op, gap in steps:
        at = at + timedelta(seconds=gap)
        if op == "sweep":
            clock, found = clock.due_events(at)
            events.extend(found)
        else:
            clock = getattr(clock, op)(at)
        history.append((at, clock))
    clock, found = clock.due_events(at + timedelta(days=400))
    events.extend(found)
    return clock, events, history


@given(targets, ops)
def test_a_warning_always_precedes_its_breach(
    target: timedelta, steps: list[tuple[str, int]]
) -> None:
    _, events, _ = run(office_clock(target), steps)
    kinds = [type(e) for e in events]
    assert kinds.count(SlaWarning) <= 1
    assert kinds.count(SlaBreached) <= 1
    if SlaBreached in kinds:
        assert kinds.index(SlaWarning) < kinds.index(SlaBreached)
        warning, breach = events[kinds.index(SlaWarning)], events[kinds.index(SlaBreached)]
        assert warning.at < breach.at


@given(targets, st.integers(0, 40 * 3600), st.integers(0, 400 * 86400))
def test_a_paused_clock_never_breaches(target: timedelta, before: int, later: int) -> None:
    clock = office_clock(target)
    pause_at = MON_9 + timedelta(seconds=before)
    assert clock.due_at is not None
    paused = clock.pause(pause_at)
    swept, events = paused.due_events(pause_at + timedelta(seconds=later))
    breaches = [e for e in events if isinstance(e, SlaBreached)]
    if pause_at <= clock.due_at:
        assert breaches == []
        assert swept.state is ClockState.PAUSED
    else:  # the breach happened before the pause and is still reported
        assert [b.at for b in breaches] == [clock.due_at]


@given(targets, ops)
def test_the_deadline_is_where_consumed_business_time_reaches_the_target(
    target: timedelta, steps: list[tuple[str, int]]
) -> None:
    _, _, history = run(office_clock(target), steps)
    for _, c in history:
        if c.state is ClockState.RUNNING:
            assert c.due_at is not None
            assert c.consumed_at(c.due_at) == c.target
        if c.state is ClockState.MET:
            assert c.consumed <= c.target


@given(targets, ops)
def test_breach_is_reported_iff_the_clock_ran_past_its_deadline(
    target: timedelta, steps: list[tuple[str, int]]
) -> None:
    clock, events, history = run(office_clock(target), steps)
    breached = any(isinstance(e, SlaBreached) for e in events)
    assert breached == (clock.state is ClockState.BREACHED)
    if not breached:
        assert (
            clock.consumed_at(history[-1][0]) <= clock.target or clock.state is ClockState.RUNNING
        )


@given(targets, ops)
def test_a_clock_survives_a_round_trip_through_a_storage_row(
    target: timedelta, steps: list[tuple[str, int]]
) -> None:
    p = SlaPolicy([SlaRule(resolution=H, calendar="office")], calendars={"office": OFFICE})
    _, _, history = run(office_clock(target), steps)
    for _, clock in history:
        row = clock.to_row()
        assert json.loads(json.dumps(row)) == row
        restored = SlaClock.from_row(row, p)
        assert restored == clock
        assert restored.next_event_at == clock.next_event_at
        assert restored.calendar is OFFICE


def test_a_damaged_storage_row_is_a_validation_error() -> None:
    row = office_clock().to_row()
    del row["consumed_us"]
    with pytest.raises(ValidationError, match="cannot read a stored SLA clock"):
        SlaClock.from_row(row, policy())


def test_a_team_can_have_its_own_calendar_and_targets() -> None:
    from datetime import timedelta

    from supportkit.policies import SlaPolicy, SlaRule, always_open, office_hours

    policy = SlaPolicy(
        [
            SlaRule(first_response=timedelta(hours=8), calendar="office"),
            SlaRule(first_response=timedelta(hours=1), team="night", calendar="always"),
        ],
        calendars={"office": office_hours("Europe/Berlin"), "always": always_open()},
    )
    assert policy.target_for("first_response", team="night").calendar_name == "always"
    assert policy.target_for("first_response", team="night").target == timedelta(hours=1)
    assert policy.target_for("first_response", team="day").calendar_name == "office"
