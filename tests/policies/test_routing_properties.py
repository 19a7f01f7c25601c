"""Routing invariants over any sequence of assignments, finishes and availability changes."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from supportkit.domain._model import Agent, Availability, Priority, Team
from supportkit.policies import (
    AgentIndex,
    InTeam,
    LeastLoaded,
    Roster,
    RoundRobin,
    Router,
    RoutingRequest,
    RoutingState,
    SkillsBestMatch,
    TicketQueue,
    drain_queue,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TEAMS = ("a", "b")
SKILLS = ("sql", "api", "net")

agents_st = st.lists(
    st.builds(
        lambda i, team, cap, avail, skills: Agent(
            f"ag{i}", f"Agent {i}", teams=(team,), capacity=cap, availability=avail, skills=skills
        ),
        st.integers(0, 40),
        st.sampled_from(TEAMS),
        st.integers(0, 4),
        st.sampled_from(list(Availability)),
        st.frozensets(st.sampled_from(SKILLS)),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda a: a.id,
)

op_st = st.one_of(
    st.tuples(st.just("route"), st.sampled_from(TEAMS), st.frozensets(st.sampled_from(SKILLS))),
    st.tuples(st.just("finish"), st.integers(0, 40)),
    st.tuples(st.just("toggle"), st.integers(0, 40), st.sampled_from(list(Availability))),
)

strategy_st = st.sampled_from([RoundRobin(), LeastLoaded(), SkillsBestMatch()])


def build(agents):
    roster = Roster(teams=[Team(t, t.upper()) for t in TEAMS], agents=agents)
    return AgentIndex.from_roster(roster)


@given(agents_st, st.lists(op_st, max_size=60), strategy_st)
def test_never_above_capacity_never_to_an_unavailable_agent(agents, ops, strategy):
    index = build(agents)
    ids = [a.id for a in agents]
    router = Router(strategy=strategy, filters=(InTeam(),))
    state = RoutingState()
    for n, op in enumerate(ops):
        if op[0] == "route":
            d = router.route(
                RoutingRequest(f"T{n}", team_id=op[1], required_skills=op[2]),
                index,
                now=NOW,
                state=state,
            )
            state = d.state
            if d.agent_id is not None:
                chosen = index.agent(d.agent_id)
                assert chosen.availability is Availability.ONLINE
                assert index.load(chosen.id) < chosen.capacity
                assert op[1] in chosen.teams
                index.assign(chosen.id)
            else:
                assert not any(
                    a.availability is Availability.ONLINE
                    and index.load(a.id) < a.capacity
                    and op[1] in a.teams
                    for a in index
                )
        elif op[0] == "finish":
            index.release(ids[op[1] % len(ids)])
        else:
            index.set_availability(ids[op[1] % len(ids)], op[2])
        for a in index:
            assert index.load(a.id) <= max(a.capacity, 0)


@given(agents_st, st.lists(op_st, max_size=60))
def test_least_loaded_picks_a_minimum(agents, ops):
    index = build(agents)
    ids = [a.id for a in agents]
    router = Router(strategy=LeastLoaded(), filters=(InTeam(),))
    for n, op in enumerate(ops):
        if op[0] == "route":
            d = router.route(RoutingRequest(f"T{n}", team_id=op[1]), index, now=NOW)
            eligible = [
                a.id
                for a in index
                if a.availability is Availability.ONLINE
                and index.load(a.id) < a.capacity
                and op[1] in a.teams
            ]
            if d.agent_id is None:
                assert not eligible
                continue
            assert index.ratio(d.agent_id) == min(index.ratio(a) for a in eligible)
            index.assign(d.agent_id)
        elif op[0] == "finish":
            index.release(ids[op[1] % len(ids)])
        else:
            index.set_availability(ids[op[1] % len(ids)], op[2])


@given(
    st.integers(1, 6),
    st.integers(0, 4),
    st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=1, max_size=80),
    st.booleans(),
)
def test_round_robin_is_fair_over_any_sequence(steady, flaky, steps, restart_every_time):
    """Agents eligible every time are chosen within one of each other,
    while others come and go; also when the cursor goes through storage."""
    agents = [Agent(f"s{i}", "S", teams=("a",), capacity=10**6) for i in range(steady)]
    agents += [Agent(f"f{i}", "F", teams=("a",), capacity=10**6) for i in range(flaky)]
    index = build(agents)
    router = Router(strategy=RoundRobin(), filters=(InTeam(),))
    stored: dict[str, str] = {}
    state = RoutingState()
    counts: Counter[str] = Counter()
    for n, (online, which) in enumerate(steps):
        if flaky:
            index.set_availability(
                f"f{which % flaky}", Availability.ONLINE if online else Availability.OFFLINE
            )
        if restart_every_time:
            state = RoutingState.from_dict(stored)
        d = router.route(RoutingRequest(f"T{n}", team_id="a"), index, now=NOW, state=state)
        assert d.agent_id is not None
        counts[d.agent_id] += 1
        index.assign(d.agent_id)
        state = d.state
        stored = d.state.as_dict()
    steady_counts = [counts[f"s{i}"] for i in range(steady)]
    assert max(steady_counts) - min(steady_counts) <= 1


@given(
    st.lists(
        st.tuples(st.sampled_from(list(Priority)), st.integers(0, 1000)),
        min_size=1,
        max_size=40,
    )
)
def test_queued_tickets_come_out_in_priority_then_age_order(items):
    queue = TicketQueue()
    for n, (prio, minutes) in enumerate(items):
        queue.push(RoutingRequest(f"T{n}", priority=prio), since=NOW + timedelta(minutes=minutes))
    expected = sorted(range(len(items)), key=lambda n: (-items[n][0], items[n][1], n))
    assert [q.request.ticket_id for q in queue] == [f"T{n}" for n in expected]
    index = build([Agent("solo", "Solo", teams=("a",), capacity=len(items))])
    index.set_load("solo", len(items))
    router = Router(filters=(InTeam(),))
    drained = []
    for _ in range(len(items)):
        index.release("solo")
        result = drain_queue(queue, router, index, now=NOW, freed=["solo"])
        drained.extend(d.ticket_id for d in result.decisions)
    assert drained == [f"T{n}" for n in expected]
    assert len(queue) == 0
