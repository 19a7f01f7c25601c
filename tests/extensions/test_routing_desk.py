"""Routing and escalation running inside a SupportDesk."""

from datetime import timedelta

import attrs
import pytest

from supportkit.desk import SupportDesk
from supportkit.domain._errors import ConfigurationError
from supportkit.domain._events import TicketAssigned, TicketEscalated, TicketQueued
from supportkit.domain._model import Agent, Availability, Priority, Team
from supportkit.extensions import DeskRouting
from supportkit.policies import (
    EscalationChain,
    EscalationRefused,
    EscalationRule,
    FixedTargets,
    RoundRobin,
    Router,
    TierLadder,
)
from supportkit.ports._clock import FakeClock
from supportkit.storage.memory import MemoryStorage

TEAMS = [
    Team("support", "Support", "L1", fallback="overflow"),
    Team("overflow", "Overflow", "L1"),
    Team("engineers", "Engineers", "L2"),
    Team("developers", "Developers", "L3"),
]


def agents():
    return [
        Agent("ann", "Ann", teams=("support",), capacity=2),
        Agent("bob", "Bob", teams=("support",), capacity=2),
        Agent("olga", "Olga", teams=("overflow",), capacity=1),
        Agent("eve", "Eve", tier="L2", teams=("engineers",)),
        Agent("dev", "Dev", tier="L3", teams=("developers",)),
    ]


def make_desk(storage=None, clock=None, **kw):
    kw.setdefault("router", Router(strategy=RoundRobin()))
    kw.setdefault(
        "escalation",
        EscalationChain.default(
            rules=[EscalationRule("L2", name="vip", segments={"vip"})],
            targets=FixedTargets(first_response_by_tier={"L1": timedelta(hours=1)}),
        ),
    )
    routing = DeskRouting(teams=TEAMS, agents=agents(), **kw)
    desk = SupportDesk(storage or MemoryStorage(), clock=clock or FakeClock(), extensions=[routing])
    return desk, routing


def new_ticket(desk, who="cust@example.com", text="help", **kw):
    t = desk.receive("email", who, text, subject="Help", **kw)
    desk.update(t.id, actor="triage", team_id="support")
    return desk.get_ticket(t.id)


def assignments(desk, ticket_id):
    return [e for e in desk.events(ticket_id) if isinstance(e, TicketAssigned)]


def test_registration_routes_the_ticket_and_the_event_names_the_strategy():
    desk, _ = make_desk()
    t = desk.receive("email", "a@example.com", "hello", subject="Hi")
    t = desk.get_ticket(t.id)
    assert t.assignee_id in {"ann", "bob", "olga"}
    (event,) = assignments(desk, t.id)
    assert event.strategy == "round-robin"
    assert event.actor == "routing"


def test_round_robin_takes_turns_and_its_cursor_survives_a_restart():
    storage, clock = MemoryStorage(), FakeClock()
    desk, _ = make_desk(storage, clock)
    first = desk.receive("email", "a@example.com", "one", subject="1", ticket_id=None)
    desk2, _ = make_desk(storage, clock)  # a restart: new desk, same storage
    second = desk2.receive("email", "b@example.com", "two", subject="2")
    assert {desk2.get_ticket(first.id).assignee_id, desk2.get_ticket(second.id).assignee_id} == {
        "ann",
        "bob",
    }


def test_nobody_available_queues_the_ticket_and_it_is_assigned_when_an_agent_comes_online():
    desk, routing = make_desk()
    for aid in ("ann", "bob", "olga"):
        desk.set_availability(aid, Availability.OFFLINE)
    t = desk.receive("email", "a@example.com", "hello", subject="Hi")
    assert desk.get_ticket(t.id).assignee_id is None
    assert any(isinstance(e, TicketQueued) for e in desk.events(t.id))
    assert t.id in routing.queue
    desk.set_availability("bob", Availability.ONLINE)
    assert desk.get_ticket(t.id).assignee_id == "bob"
    assert t.id not in routing.queue


def test_resolving_a_ticket_frees_capacity_for_the_queue():
    desk, routing = make_desk(router=Router())
    tickets = [desk.receive("email", f"c{i}@example.com", "x", subject=str(i)) for i in range(6)]
    assigned = [desk.get_ticket(t.id).assignee_id for t in tickets]
    assert assigned[:5].count(None) == 0  # ann 2 + bob 2 + olga 1 (overflow)
    assert assigned[5] is None
    assert routing.index.load("olga") == 1
    done = tickets[0]
    desk.resolve(done.id, actor=assigned[0], resolution="fixed")
    assert desk.get_ticket(tickets[5].id).assignee_id == assigned[0]


def test_escalation_reroutes_to_the_next_tier_and_records_the_policy():
    desk, routing = make_desk()
    t = desk.receive("email", "a@example.com", "hello", subject="Hi")
    before = desk.get_ticket(t.id).assignee_id
    desk.escalate(t.id, "L2", actor=before, reason="needs a database expert")
    t = desk.get_ticket(t.id)
    assert (t.tier, t.assignee_id, t.team_id) == ("L2", "eve", "engineers")
    assert routing.index.load(before) == 0
    (esc,) = [e for e in desk.events(t.id) if isinstance(e, TicketEscalated)]
    assert (esc.from_tier, esc.to_tier, esc.policy) == ("L1", "L2", "manual")


def test_vip_customer_goes_straight_to_l2():
    desk, _ = make_desk()
    first = desk.receive("email", "vip@example.com", "hello", subject="Hi")
    customer_id = desk.get_ticket(first.id).customer_id

    def make_vip(ctx):
        c = ctx.uow.get_customer(customer_id)
        ctx.uow.save_customer(attrs.evolve(c, segment="vip"))

    desk.run(make_vip)
    t = desk.receive("email", "vip@example.com", "again", subject="New problem")
    t = desk.get_ticket(t.id)
    assert (t.tier, t.assignee_id) == ("L2", "eve")
    (esc,) = [e for e in desk.events(t.id) if isinstance(e, TicketEscalated)]
    assert esc.policy == "rules"


def test_diagnosis_needs_l3_sends_the_ticket_to_a_developer():
    desk, _ = make_desk()
    t = desk.receive("email", "a@example.com", "hello", subject="Hi")
    desk.update(t.id, actor="ann", custom_fields={"needs_tier": "L3"})
    t = desk.get_ticket(t.id)
    assert (t.tier, t.assignee_id) == ("L3", "dev")


def test_no_first_response_within_the_target_escalates_on_tick():
    clock = FakeClock()
    desk, _ = make_desk(clock=clock)
    t = desk.receive("email", "a@example.com", "hello", subject="Hi")
    clock.advance(minutes=59)
    desk.tick()
    assert desk.get_ticket(t.id).tier == "L1"
    clock.advance(minutes=2)
    desk.tick()
    t = desk.get_ticket(t.id)
    assert (t.tier, t.assignee_id) == ("L2", "eve")


def test_manual_escalation_through_routing_climbs_one_tier_and_refuses_past_the_top():
    desk, routing = make_desk()
    t = desk.receive("email", "a@example.com", "hello", subject="Hi", priority=Priority.HIGH)
    routing.escalate(t.id, actor="ann", reason="bug in the product")
    routing.escalate(t.id, actor="eve", reason="needs a code change")
    assert desk.get_ticket(t.id).assignee_id == "dev"
    with pytest.raises(EscalationRefused, match="top of the ladder"):
        routing.escalate(t.id, actor="dev", reason="help")
    routing.escalate(t.id, actor="dev", reason="fixed, L2 can follow up", down=True)
    assert desk.get_ticket(t.id).assignee_id == "eve"


def test_a_ticket_reopened_twice_climbs_a_tier():
    desk, _ = make_desk()
    t = desk.receive("email", "a@example.com", "hello", subject="Hi")
    for _ in range(2):
        agent_id = desk.get_ticket(t.id).assignee_id
        desk.reply(t.id, agent_id, "try turning it off and on")
        desk.resolve(t.id, actor=agent_id, resolution="rebooted")
        desk.receive("email", "a@example.com", "still broken", ticket_id=t.id)
    t = desk.get_ticket(t.id)
    assert (t.reopen_count, t.tier, t.assignee_id) == (2, "L2", "eve")


def test_the_bot_hands_over_to_an_l1_agent():
    desk, routing = make_desk()
    for aid in ("ann", "bob", "olga"):
        desk.set_availability(aid, Availability.OFFLINE)
    t = desk.receive("email", "a@example.com", "hello", subject="Hi")
    desk.set_availability("ann", Availability.AWAY)
    routing.bot_failed(t.id)
    (esc,) = [e for e in desk.events(t.id) if isinstance(e, TicketEscalated)]
    assert (esc.from_tier, esc.to_tier, esc.policy) == ("bot", "L1", "hand-off")


@pytest.mark.parametrize(
    ("teams", "agents_", "message"),
    [
        ([Team("a", "A", "L9")], [], "unknown tier 'L9'"),
        ([Team("a", "A", "")], [], "has no tier"),
        ([Team("a", "A")], [Agent("x", "X", teams=("a",), capacity=-1)], "capacity -1"),
        ([Team("a", "A", fallback="b"), Team("b", "B", fallback="a")], [], "cycle"),
    ],
)
def test_bad_configuration_is_rejected_when_the_desk_is_built(teams, agents_, message):
    with pytest.raises(ConfigurationError, match=message):
        SupportDesk(MemoryStorage(), extensions=[DeskRouting(teams=teams, agents=agents_)])


def test_a_ladder_that_differs_from_the_desks_tiers_is_rejected():
    routing = DeskRouting(ladder=TierLadder(("L1", "L2", "L3", "supervisor")))
    with pytest.raises(ConfigurationError, match="differs from the desk's tiers"):
        SupportDesk(MemoryStorage(), extensions=[routing])


def test_agents_and_teams_added_through_the_desk_are_routed_to_at_once() -> None:
    from supportkit import FakeClock, MemoryStorage, SupportDesk
    from supportkit.domain import Agent, Team
    from supportkit.policies import DeskRouting

    routing = DeskRouting()
    desk = SupportDesk(MemoryStorage(), clock=FakeClock(), extensions=[routing])
    desk.add_team(Team("night", "Night shift", tier="L1"))
    desk.add_agent(Agent("nora", "Nora", tier="L1", teams=("night",)))
    ticket = desk.receive("email", "ann@example.com", "Hello at night")
    assert desk.get_ticket(ticket.id).assignee_id == "nora"
