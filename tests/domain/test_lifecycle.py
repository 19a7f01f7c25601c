"""The lifecycle: definitions are validated, events fire on one shared Machine."""

from __future__ import annotations

from typing import Any

import pytest

from supportkit import (
    DEFAULT_LIFECYCLE,
    GuardRejected,
    InvalidTransition,
    Lifecycle,
    LifecycleDefinition,
    LifecycleDefinitionError,
    SupportDesk,
    TransitionDef,
    default_lifecycle,
    requires,
)
from supportkit.ports import FakeClock


class _T:
    def __init__(self, status: str, id: str = "t-1") -> None:
        self.id = id
        self.status = status


def _define(**kw: object) -> LifecycleDefinition:
    base: dict[str, object] = {
        "name": "mini",
        "states": ("new", "open", "done"),
        "initial": "new",
        "final": {"done"},
        "transitions": (
            TransitionDef("open", ("new",), "open"),
            TransitionDef("finish", ("open",), "done"),
        ),
    }
    base.update(kw)
    return LifecycleDefinition(**base)  # type: ignore[arg-type]


# -- definitions -------------------------------------------------------------------------
def test_a_well_formed_definition_is_accepted() -> None:
    lc = Lifecycle(_define())
    assert lc.states == ("new", "open", "done")
    assert lc.is_final("done")
    assert not lc.is_final("open")


def test_transition_to_an_unknown_state_is_rejected_naming_it() -> None:
    with pytest.raises(LifecycleDefinitionError, match=r"unknown state 'archived'"):
        _define(transitions=(TransitionDef("open", ("new",), "archived"),))


def test_transition_from_an_unknown_state_is_rejected_naming_it() -> None:
    with pytest.raises(LifecycleDefinitionError, match=r"'finish'.*unknown state 'limbo'"):
        _define(
            transitions=(
                TransitionDef("open", ("new",), "open"),
                TransitionDef("finish", ("open", "limbo"), "done"),
            )
        )


def test_unknown_initial_state_is_rejected() -> None:
    with pytest.raises(LifecycleDefinitionError, match="initial state 'start'"):
        _define(initial="start")


def test_unreachable_states_are_rejected_naming_them() -> None:
    with pytest.raises(
        LifecycleDefinitionError, match=r"\['parked'\] cannot be reached from 'new'"
    ):
        _define(
            states=("new", "open", "parked", "done"),
            transitions=(
                TransitionDef("open", ("new",), "open"),
                TransitionDef("finish", ("open", "parked"), "done"),
            ),
        )


def test_a_definition_without_a_final_state_is_rejected() -> None:
    with pytest.raises(LifecycleDefinitionError, match="has no final state"):
        _define(final=set())


def test_unknown_final_states_are_rejected() -> None:
    with pytest.raises(LifecycleDefinitionError, match=r"final states \['gone'\]"):
        _define(final={"done", "gone"})


def test_leaving_a_final_state_is_rejected() -> None:
    with pytest.raises(LifecycleDefinitionError, match="leaves final state 'done'"):
        _define(
            transitions=(
                TransitionDef("open", ("new",), "open"),
                TransitionDef("finish", ("open",), "done"),
                TransitionDef("undo", ("done",), "open"),
            )
        )


def test_duplicate_states_and_events_are_rejected() -> None:
    with pytest.raises(LifecycleDefinitionError, match="lists states twice"):
        _define(states=("new", "open", "open", "done"))
    with pytest.raises(LifecycleDefinitionError, match="defined twice from state 'new'"):
        _define(
            transitions=(
                TransitionDef("open", ("new",), "open"),
                TransitionDef("open", ("new",), "done"),
                TransitionDef("finish", ("open",), "done"),
            )
        )


def test_no_states_at_all_is_rejected() -> None:
    with pytest.raises(LifecycleDefinitionError, match="has no states"):
        _define(states=(), final={"x"})


# -- firing events -----------------------------------------------------------------------------
def test_default_lifecycle_walks_the_happy_path() -> None:
    lc = default_lifecycle()
    t = _T("received")
    for event, expected in [
        ("register", "registered"),
        ("start_diagnosis", "diagnosing"),
        ("wait_on_customer", "waiting_on_customer"),
        ("customer_replied", "diagnosing"),
    ]:
        t.status = lc.fire(t, event)
        assert t.status == expected
    t.status = lc.fire(t, "resolve", {"resolution": "reset the password"})
    assert t.status == "resolved"
    assert lc.fire(t, "reopen") == "diagnosing"
    assert lc.fire(t, "close") == "closed"


def test_fire_does_not_modify_the_ticket() -> None:
    t = _T("registered")
    assert default_lifecycle().fire(t, "start_diagnosis") == "diagnosing"
    assert t.status == "registered"


def test_invalid_transition_names_ticket_state_event_and_allowed_events() -> None:
    with pytest.raises(InvalidTransition) as info:
        default_lifecycle().fire(_T("registered", "t-42"), "close")
    err = info.value
    assert (err.ticket, err.status, err.event) == ("t-42", "registered", "close")
    assert err.allowed == (
        "close_as_duplicate",
        "close_as_spam",
        "resolve",
        "start_diagnosis",
        "wait_on_customer",
    )
    msg = str(err)
    assert "t-42" in msg
    assert "'registered'" in msg
    assert "'close'" in msg
    assert "resolve" in msg


def test_a_closed_ticket_is_final_and_allows_nothing() -> None:
    with pytest.raises(InvalidTransition, match=r"allowed now: none \(the status is final\)"):
        default_lifecycle().fire(_T("closed"), "reopen")


def test_an_unknown_event_is_an_invalid_transition() -> None:
    with pytest.raises(InvalidTransition, match="'explode' is not allowed"):
        default_lifecycle().fire(_T("registered"), "explode")


@pytest.mark.parametrize("resolution", [None, "", "   "])
def test_resolving_without_a_summary_is_refused_by_the_guard(resolution: str | None) -> None:
    with pytest.raises(GuardRejected, match="resolution summary is required") as info:
        default_lifecycle().fire(_T("diagnosing"), "resolve", {"resolution": resolution})
    assert info.value.status == "diagnosing"
    assert "resolve" in info.value.allowed


def test_closing_as_spam_needs_a_reason() -> None:
    lc = default_lifecycle()
    with pytest.raises(GuardRejected, match="reason"):
        lc.fire(_T("registered"), "close_as_spam", {"reason": ""})
    assert lc.fire(_T("registered"), "close_as_spam", {"reason": "advert"}) == "closed"


def test_a_failed_guard_leaves_the_shared_machine_usable() -> None:
    lc = default_lifecycle()
    with pytest.raises(GuardRejected):
        lc.fire(_T("diagnosing"), "resolve", {})
    assert lc.fire(_T("registered"), "start_diagnosis") == "diagnosing"


def test_guards_run_in_order_on_the_ticket_event_and_params_and_the_first_refusal_wins() -> None:
    seen: list[tuple[str, str, str, object]] = []

    def first(ctx: Any) -> str | None:
        seen.append(("first", ctx.ticket.status, ctx.event, ctx.params["n"]))
        return "n must be positive" if ctx.params["n"] <= 0 else None

    def second(ctx: Any) -> str | None:
        seen.append(("second", ctx.ticket.status, ctx.event, ctx.params["n"]))
        return "n must be even" if ctx.params["n"] % 2 else None

    guarded = TransitionDef("open", ("new",), "open", guards=(first, second))
    lc = Lifecycle(_define(transitions=(guarded, TransitionDef("finish", ("open",), "done"))))
    with pytest.raises(GuardRejected, match="n must be positive"):
        lc.fire(_T("new"), "open", {"n": 0})
    with pytest.raises(GuardRejected, match="n must be even"):
        lc.fire(_T("new"), "open", {"n": 3})
    assert lc.fire(_T("new"), "open", {"n": 4}) == "open"
    assert seen == [
        ("first", "new", "open", 0),
        ("first", "new", "open", 3),
        ("second", "new", "open", 3),
        ("first", "new", "open", 4),
        ("second", "new", "open", 4),
    ]


def test_allowed_events_and_can_fire() -> None:
    lc = default_lifecycle()
    assert lc.allowed_events("resolved") == ("close", "close_as_duplicate", "reopen")
    assert lc.can_fire("resolved", "reopen")
    assert not lc.can_fire("closed", "reopen")
    assert lc.allowed_events("no-such-state") == ()
    assert "resolve" in lc.events


def test_the_machine_never_gets_tickets_attached() -> None:
    lc = default_lifecycle()
    for n in range(2000):
        t = _T("registered", f"t-{n}")
        t.status = lc.fire(t, "start_diagnosis")
        lc.fire(t, "resolve", {"resolution": "done"})
    assert len(lc._machine.models) == 1


def test_a_desk_with_many_tickets_keeps_one_model_on_the_machine() -> None:
    desk = SupportDesk(clock=FakeClock())
    for n in range(200):
        t = desk.receive("chat", f"user-{n}", "help")
        desk.start_diagnosis(t.id, actor="a")
    assert len(desk.lifecycle._machine.models) == 1


# -- mermaid --------------------------------------------------------------------------------
def test_lifecycle_prints_itself_as_mermaid() -> None:
    text = default_lifecycle().to_mermaid()
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    [*] --> received" in lines
    assert "    resolved --> diagnosing: reopen" in lines
    assert "    waiting_on_customer --> diagnosing: customer_replied" in lines
    assert "    closed --> [*]" in lines
    edges = sum(len(t.sources) for t in DEFAULT_LIFECYCLE.transitions)
    assert sum(1 for ln in lines if ": " in ln) == edges


# -- host-defined lifecycles ---------------------------------------------------------------------
COMPLAINT = LifecycleDefinition(
    name="complaint",
    states=("filed", "investigating", "compensated", "rejected", "archived"),
    initial="filed",
    final={"archived"},
    transitions=(
        TransitionDef("investigate", ("filed",), "investigating"),
        TransitionDef(
            "compensate",
            ("investigating",),
            "compensated",
            guards=(requires("amount", "a compensation amount"),),
        ),
        TransitionDef("reject", ("investigating",), "rejected"),
        TransitionDef("archive", ("compensated", "rejected"), "archived"),
    ),
    public_labels={"investigating": "we are looking into it"},
)


def test_a_host_defined_complaint_lifecycle_runs_through_the_desk() -> None:
    desk = SupportDesk(clock=FakeClock(), lifecycle=Lifecycle(COMPLAINT))
    t = desk.receive("email", "ann@example.com", "The courier broke my parcel")
    assert t.status == "filed"  # no "register" event in this lifecycle
    assert t.lifecycle == "complaint"
    desk.transition(t.id, "investigate", actor="lead")
    with pytest.raises(GuardRejected, match="compensation amount"):
        desk.transition(t.id, "compensate", actor="lead")
    with pytest.raises(InvalidTransition, match=r"allowed now: compensate, reject"):
        desk.transition(t.id, "archive", actor="lead")
    desk.transition(t.id, "compensate", actor="lead", amount=25)
    done = desk.transition(t.id, "archive", actor="lead", reason="paid")
    assert done.status == "archived"
    assert [(h.from_status, h.to_status) for h in desk.history(t.id)] == [
        ("filed", "investigating"),
        ("investigating", "compensated"),
        ("compensated", "archived"),
    ]
    assert desk.track(t.number).closed
    with pytest.raises(InvalidTransition):
        desk.reply(t.id, "agent", "too late")


def test_public_labels_default_to_the_state_name() -> None:
    assert COMPLAINT.public_label("investigating") == "we are looking into it"
    assert COMPLAINT.public_label("filed") == "filed"
    assert DEFAULT_LIFECYCLE.public_label("waiting_on_customer") == "waiting for your reply"


def test_a_single_state_name_is_not_split_into_letters() -> None:
    lc = Lifecycle(
        LifecycleDefinition(
            "tiny", ("new", "done"), "new", "done", (TransitionDef("finish", "new", "done"),)
        )
    )
    assert lc.fire(_T("new"), "finish") == "done"
    assert lc.is_final("done")
