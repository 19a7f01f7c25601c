from datetime import time

import pytest

from supportkit.domain._errors import ConfigurationError, InvalidTransition, NotFound
from supportkit.domain._model import Agent, Team, WorkingHours
from supportkit.policies import EscalationRefused, Roster, TierLadder


def test_default_ladder_is_l1_l2_l3():
    ladder = TierLadder()
    assert list(ladder) == ["L1", "L2", "L3"]
    assert ladder.next("L1") == "L2"
    assert ladder.previous("L3") == "L2"
    assert ladder.bottom == "L1"
    assert ladder.top == "L3"


def test_host_may_rename_tiers_and_add_a_supervisor_tier():
    ladder = TierLadder(("bot", "first", "second", "supervisor"))
    assert ladder.next("second") == "supervisor"
    assert ladder.compare("bot", "supervisor") < 0
    assert ladder.climb("first", 5) == "supervisor"
    assert ladder.climb("first", -5) == "bot"


def test_top_tier_cannot_escalate_further_and_says_so():
    with pytest.raises(EscalationRefused, match="top of the ladder L1 < L2 < L3") as info:
        TierLadder().next("L3", ticket="T-1")
    assert isinstance(info.value, InvalidTransition)
    assert info.value.event == "escalate"
    assert "T-1" in str(info.value)


def test_bottom_tier_cannot_de_escalate():
    with pytest.raises(EscalationRefused, match="no lower tier"):
        TierLadder().previous("L1")


@pytest.mark.parametrize(
    ("tiers", "message"),
    [((), "at least one tier"), (("L1", "L1"), "appears twice"), (("L1", " "), "non-empty")],
)
def test_bad_ladders_are_refused(tiers, message):
    with pytest.raises(ConfigurationError, match=message):
        TierLadder(tiers)


def test_unknown_tier_is_a_configuration_error_naming_the_ladder():
    with pytest.raises(ConfigurationError, match=r"unknown tier 'L9'.*L1 < L2 < L3"):
        TierLadder().rank("L9")


def _roster(**kw):
    teams = kw.pop("teams", [Team("support", "Support", "L1")])
    agents = kw.pop("agents", [Agent("ann", "Ann", teams=("support",))])
    return Roster(teams=teams, agents=agents, **kw)


def test_valid_roster_builds_and_answers_fallback_chains():
    roster = Roster(
        teams=[
            Team("billing", "Billing", "L1", fallback="general"),
            Team("general", "General", "L1", fallback="experts"),
            Team("experts", "Experts", "L2"),
        ],
        agents=[Agent("ann", "Ann", teams=("billing",))],
    )
    assert roster.fallback_chain("billing") == ("general", "experts")
    assert roster.teams_of_tier("L2") == ("experts",)
    assert roster.team_for_tier("L2", current="billing") == "experts"
    assert roster.team_for_tier("L3") is None
    with pytest.raises(NotFound):
        roster.team("nope")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"teams": [Team("t", "T", "L9")]}, "team 't' has unknown tier 'L9'"),
        ({"teams": [Team("t", "T", "")]}, "team 't' has no tier"),
        (
            {"agents": [Agent("ann", "Ann", teams=("support",), capacity=-1)]},
            "capacity -1",
        ),
        ({"agents": [Agent("ann", "Ann", teams=("nowhere",))]}, "unknown team 'nowhere'"),
        ({"agents": [Agent("ann", "Ann", tier="L7")]}, "unknown tier 'L7'"),
        (
            {"teams": [Team("a", "A", fallback="b"), Team("b", "B", fallback="a")], "agents": []},
            "cycle: a -> b -> a",
        ),
        ({"teams": [Team("a", "A", fallback="a")], "agents": []}, "cycle: a -> a"),
        ({"teams": [Team("a", "A", fallback="zzz")], "agents": []}, "unknown team 'zzz'"),
        (
            {"agents": [Agent("ann", "Ann"), Agent("ann", "Ann again")]},
            "agent id 'ann' is used twice",
        ),
        (
            {"agents": [Agent("ann", "Ann", working_hours=WorkingHours(timezone="Mars/Olympus"))]},
            "unknown time zone 'Mars/Olympus'",
        ),
    ],
)
def test_inconsistent_roster_is_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        _roster(**kwargs)


def test_roster_reports_every_problem_at_once():
    with pytest.raises(ConfigurationError) as info:
        Roster(
            teams=[Team("t", "T", "L9")],
            agents=[Agent("x", "X", capacity=-2, teams=("u",))],
        )
    text = str(info.value)
    assert "unknown tier 'L9'" in text
    assert "capacity -2" in text
    assert "unknown team 'u'" in text


def test_roster_with_custom_ladder_accepts_its_tiers():
    ladder = TierLadder(("bot", "L1", "L2", "L3", "supervisor"))
    roster = Roster(
        teams=[Team("leads", "Leads", "supervisor")],
        agents=[
            Agent(
                "boss",
                "Boss",
                tier="supervisor",
                teams=("leads",),
                working_hours=WorkingHours(start=time(8), end=time(17), timezone="Europe/Moscow"),
            )
        ],
        ladder=ladder,
    )
    assert roster.teams_of_tier("supervisor") == ("leads",)
