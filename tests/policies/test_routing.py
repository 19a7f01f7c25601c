from datetime import UTC, datetime, time

import attrs
import pytest

from supportkit.domain._errors import ConfigurationError, NotFound
from supportkit.domain._model import Agent, Availability, Priority, Team, Ticket, WorkingHours
from supportkit.policies import (
    AgentIndex,
    CandidateQuery,
    Candidates,
    Choice,
    HasSkills,
    InTeam,
    InTier,
    LeastLoaded,
    Roster,
    RoundRobin,
    Router,
    RoutingRequest,
    RoutingState,
    SkillsBestMatch,
    on_shift,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def index_of(*agents, teams=None):
    teams = teams or [
        Team("billing", "Billing", "L1", fallback="general"),
        Team("general", "General", "L1"),
        Team("experts", "Experts", "L2"),
    ]
    return AgentIndex.from_roster(Roster(teams=teams, agents=agents))


def agent(aid, **kw):
    kw.setdefault("teams", ("billing",))
    return Agent(aid, aid.title(), **kw)


def req(tid="T-1", **kw):
    kw.setdefault("team_id", "billing")
    return RoutingRequest(tid, **kw)


def test_round_robin_takes_turns_within_a_team():
    index = index_of(agent("ann"), agent("bob"), agent("cat"))
    router = Router(strategy=RoundRobin())
    state = RoutingState()
    chosen = []
    for i in range(6):
        d = router.route(req(f"T-{i}"), index, now=NOW, state=state)
        state = d.state
        chosen.append(d.agent_id)
        assert d.strategy == "round-robin"
    assert chosen == ["ann", "bob", "cat", "ann", "bob", "cat"]


def test_round_robin_cursor_survives_a_restart_as_a_plain_value():
    router = Router(strategy=RoundRobin())
    index = index_of(agent("ann"), agent("bob"), agent("cat"))
    d = router.route(req(), index, now=NOW)
    stored = d.state.as_dict()
    assert stored == {"round-robin:team:billing": "ann"}
    fresh_index = index_of(agent("ann"), agent("bob"), agent("cat"))
    d2 = Router(strategy=RoundRobin()).route(
        req(), fresh_index, now=NOW, state=RoutingState.from_dict(stored)
    )
    assert d2.agent_id == "bob"


def test_round_robin_cursor_survives_the_last_agent_leaving():
    index = index_of(agent("ann"), agent("bob"), agent("cat"))
    state = RoutingState({"round-robin:team:billing": "bob"})
    index.remove("bob")
    d = Router(strategy=RoundRobin()).route(req(), index, now=NOW, state=state)
    assert d.agent_id == "cat"


def test_least_loaded_picks_the_lowest_load_relative_to_capacity():
    index = index_of(agent("ann", capacity=10), agent("bob", capacity=2), agent("cat", capacity=4))
    index.set_load("ann", 6)  # 60%
    index.set_load("bob", 1)  # 50%
    index.set_load("cat", 3)  # 75%
    d = Router(strategy=LeastLoaded()).route(req(), index, now=NOW)
    assert (d.agent_id, d.strategy) == ("bob", "least-loaded")


def test_never_routes_to_an_offline_or_away_agent_or_one_at_capacity():
    index = index_of(
        agent("ann", availability=Availability.OFFLINE),
        agent("bob", availability=Availability.AWAY),
        agent("cat", capacity=1),
        agent("dan", capacity=0),
    )
    index.assign("cat")
    d = Router().route(req(), index, now=NOW)
    assert d.agent_id is None
    assert "queue" in d.reason
    index.set_availability("ann", Availability.ONLINE)
    assert Router().route(req(), index, now=NOW).agent_id == "ann"


def test_tier_aware_routing_sends_a_ticket_to_agents_of_its_tier():
    index = index_of(agent("ann"), agent("eve", tier="L2", teams=("experts",)))
    d = Router().route(RoutingRequest("T-1", tier="L2"), index, now=NOW)
    assert (d.agent_id, d.tier) == ("eve", "L2")


def test_language_match():
    index = index_of(agent("ann"), agent("ivan", languages=frozenset({"ru", "en"})))
    assert Router().route(req(language="ru"), index, now=NOW).agent_id == "ivan"


def test_working_hours_use_the_agents_own_time_zone():
    moscow = WorkingHours(start=time(9), end=time(18), timezone="Europe/Moscow")
    index = index_of(agent("ivan", working_hours=moscow))
    at_1600_utc = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 19:00 in Moscow
    assert Router().route(req(), index, now=NOW).agent_id == "ivan"  # 13:00 in Moscow
    assert Router().route(req(), index, now=at_1600_utc).agent_id is None


def test_overnight_shift_belongs_to_the_day_it_starts():
    night = WorkingHours(weekdays=frozenset({4}), start=time(22), end=time(6), timezone="UTC")
    friday_23 = datetime(2026, 3, 6, 23, tzinfo=UTC)
    saturday_05 = datetime(2026, 3, 7, 5, tzinfo=UTC)
    saturday_23 = datetime(2026, 3, 7, 23, tzinfo=UTC)
    assert on_shift(night, friday_23)
    assert on_shift(night, saturday_05)
    assert not on_shift(night, saturday_23)


def test_customer_affinity_prefers_the_agent_who_helped_before():
    index = index_of(agent("ann"), agent("bob"))
    index.set_load("bob", 5)
    d = Router().route(req(previous_agents=("bob",)), index, now=NOW)
    assert (d.agent_id, d.strategy) == ("bob", "customer-affinity")


def test_customer_affinity_falls_back_to_the_strategy_when_that_agent_is_unavailable():
    index = index_of(agent("ann"), agent("bob", availability=Availability.OFFLINE))
    d = Router().route(req(previous_agents=("bob", "gone")), index, now=NOW)
    assert (d.agent_id, d.strategy) == ("ann", "least-loaded")


def test_overflow_spills_to_the_fallback_team():
    index = index_of(
        agent("ann", availability=Availability.OFFLINE),
        agent("gil", teams=("general",)),
    )
    d = Router().route(req(), index, now=NOW)
    assert (d.agent_id, d.team_id, d.overflow_from) == ("gil", "general", ("billing",))


def test_overflow_can_be_turned_off():
    index = index_of(
        agent("ann", availability=Availability.OFFLINE), agent("gil", teams=("general",))
    )
    assert Router(overflow=False).route(req(), index, now=NOW).agent_id is None


def test_excluded_agents_are_never_chosen():
    index = index_of(agent("ann"), agent("bob"))
    d = Router().route(req(excluded_agents=frozenset({"ann"})), index, now=NOW)
    assert d.agent_id == "bob"


def test_skills_best_match_prefers_full_match_then_partial_then_anyone():
    index = index_of(
        agent("ann", skills=frozenset({"sql"})),
        agent("bob", skills=frozenset({"sql", "api"})),
        agent("cat"),
    )
    router = Router(strategy=SkillsBestMatch())
    full = router.route(req(required_skills=frozenset({"sql", "api"})), index, now=NOW)
    assert (full.agent_id, full.score) == ("bob", 1.0)
    index.set_availability("bob", Availability.OFFLINE)
    partial = router.route(req(required_skills=frozenset({"sql", "api"})), index, now=NOW)
    assert (partial.agent_id, partial.score) == ("ann", 0.5)
    index.assign("ann")
    nobody = router.route(req(required_skills=frozenset({"k8s"})), index, now=NOW)
    assert (nobody.agent_id, nobody.score) == ("cat", 0.0)


def test_strict_skills_filter_requires_every_skill():
    index = index_of(agent("ann", skills=frozenset({"sql"})))
    router = Router(filters=(InTeam(), HasSkills()))
    assert (
        router.route(req(required_skills=frozenset({"sql", "api"})), index, now=NOW).agent_id
        is None
    )


def test_request_for_ticket_takes_required_skills_from_the_category():
    ticket = Ticket(
        id="t1",
        number=1,
        subject="Refund",
        customer_id="c1",
        channel="email",
        status="registered",
        received_at=NOW,
        priority=Priority.HIGH,
        category="billing",
        team_id="billing",
        language="ru",
    )
    r = RoutingRequest.for_ticket(ticket, skills_by_category={"billing": ["payments"]})
    assert r.required_skills == {"payments"}
    assert (r.tier, r.team_id, r.language, r.priority) == ("L1", "billing", "ru", Priority.HIGH)


@attrs.frozen
class MostSenior:
    """A host-written strategy: the agent with the most skills, ties by id."""

    name = "most-senior"

    def choose(self, candidates: Candidates, request: RoutingRequest, cursor: str | None):
        best = max(candidates, key=lambda a: (len(candidates.agent(a).skills), a), default=None)
        return Choice(best, reason="most skills") if best else None


@attrs.frozen
class VipDesk:
    """A host-written filter: VIP customers only reach agents with the 'vip' skill."""

    vip_customers: frozenset[str]
    name = "vip"

    def narrow(self, query: CandidateQuery, request: RoutingRequest, now: datetime):
        if request.customer_id in self.vip_customers:
            return query.within("skill", "vip")
        return query


def test_a_host_written_strategy_and_filter_plug_in():
    index = index_of(
        agent("ann", skills=frozenset({"sql"})),
        agent("bob", skills=frozenset({"sql", "api", "vip"})),
        agent("cat", skills=frozenset({"a", "b", "c", "d"})),
    )
    router = Router(
        strategy=MostSenior(), filters=(InTier(), InTeam(), VipDesk(frozenset({"c-vip"})))
    )
    assert router.route(req(), index, now=NOW).agent_id == "cat"
    vip = router.route(req(customer_id="c-vip"), index, now=NOW)
    assert (vip.agent_id, vip.strategy, vip.reason) == ("bob", "most-senior", "most skills")


def test_a_strategy_choosing_outside_the_candidates_is_refused():
    @attrs.frozen
    class Rogue:
        name = "rogue"

        def choose(self, candidates, request, cursor):
            return Choice("ann")

    index = index_of(agent("ann", availability=Availability.OFFLINE), agent("bob"))
    with pytest.raises(ConfigurationError, match=r"rogue.*not a candidate"):
        Router(strategy=Rogue()).route(req(), index, now=NOW)


def test_a_strategy_without_choose_is_refused_when_the_router_is_built():
    with pytest.raises(ConfigurationError, match="choose"):
        Router(strategy=object())  # type: ignore[arg-type]


def test_naive_now_is_refused():
    from supportkit.domain._errors import ValidationError

    with pytest.raises(ValidationError, match="naive"):
        Router().route(req(), index_of(agent("ann")), now=datetime(2026, 1, 1))


def test_index_tracks_load_and_unknown_agents_are_not_found():
    index = index_of(agent("ann", capacity=2))
    index.assign("ann")
    index.assign("ann")
    assert not index.can_take("ann")
    index.release("ann")
    assert index.can_take("ann")
    assert index.load("ann") == 1
    with pytest.raises(NotFound):
        index.assign("ghost")


def test_index_rejects_an_agent_the_roster_does_not_allow():
    index = index_of(agent("ann"))
    with pytest.raises(ConfigurationError, match="unknown team"):
        index.add(agent("zed", teams=("nowhere",)))


def test_index_update_moves_an_agent_between_teams_keeping_load():
    index = index_of(agent("ann"), agent("bob"))
    index.set_load("ann", 3)
    index.update(attrs.evolve(index.agent("ann"), teams=("general",)))
    assert index.load("ann") == 3
    assert Router(overflow=False).route(req(), index, now=NOW).agent_id == "bob"
    assert Router().route(req(team_id="general"), index, now=NOW).agent_id == "ann"


def test_least_loaded_stays_right_after_many_updates():
    index = index_of(*(agent(f"a{i:02d}", capacity=100) for i in range(30)))
    for round_ in range(200):
        aid = f"a{round_ % 30:02d}"
        index.set_load(aid, (round_ * 7) % 50)
    best = min(index, key=lambda a: (index.ratio(a.id), a.id)).id
    assert Router(strategy=LeastLoaded()).route(req(), index, now=NOW).agent_id == best
    assert next(iter(Candidates(index, CandidateQuery()).by_load())) == best
