"""Tiers and the roster: who works where, validated once when the desk is built.

A :class:`TierLadder` orders the support tiers (L1 < L2 < L3 by default; a
host may rename them or add its own, e.g. a bot tier below L1 or a
supervisor tier above L3). A :class:`Roster` holds the teams and agents
and refuses an inconsistent configuration with a
:class:`~supportkit.domain._errors.ConfigurationError` naming every problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from supportkit.domain._errors import (
    ConfigurationError,
    InvalidTransition,
    NotFound,
    SupportKitError,
)
from supportkit.domain._model import Agent, Team

__all__ = ["DEFAULT_TIERS", "EscalationRefused", "Roster", "TierLadder"]

DEFAULT_TIERS: tuple[str, ...] = ("L1", "L2", "L3")


class EscalationRefused(InvalidTransition):
    """A ticket cannot move that way on the ladder: the top tier cannot escalate
    further, the bottom tier cannot de-escalate.

    It is an :class:`InvalidTransition` (the event ``escalate`` or
    ``de-escalate`` is not allowed now), so a caller that handles refused
    lifecycle events handles this one too.
    """

    def __init__(
        self,
        tier: str,
        ladder: Iterable[str],
        *,
        direction: str = "up",
        ticket: str = "",
    ) -> None:
        self.tier = tier
        self.direction = direction
        self.ladder = tuple(ladder)
        self.ticket = ticket
        self.status = tier
        self.event = "escalate" if direction == "up" else "de-escalate"
        self.allowed = ()
        order = " < ".join(self.ladder)
        who = f"ticket {ticket} is at tier {tier!r}" if ticket else f"tier {tier!r}"
        if direction == "up":
            msg = (
                f"{who}, the top of the ladder {order}: it cannot escalate further; "
                "resolve it at this tier, or add a higher tier (e.g. a supervisor tier) "
                "to the TierLadder"
            )
        else:
            msg = f"{who}, the bottom of the ladder {order}: there is no lower tier to return it to"
        SupportKitError.__init__(self, msg)


def _as_tiers(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class TierLadder:
    """The ordered support tiers, lowest first.

    >>> ladder = TierLadder(("bot", "L1", "L2", "L3", "supervisor"))
    >>> ladder.next("L3")
    'supervisor'
    """

    tiers: tuple[str, ...] = attrs.field(default=DEFAULT_TIERS, converter=_as_tiers)
    _rank: Mapping[str, int] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if not self.tiers:
            raise ConfigurationError(
                "a TierLadder needs at least one tier, e.g. ('L1', 'L2', 'L3')"
            )
        rank: dict[str, int] = {}
        for i, tier in enumerate(self.tiers):
            if not isinstance(tier, str) or not tier.strip():
                raise ConfigurationError(
                    f"tier #{i + 1} of the ladder is {tier!r}: every tier needs a non-empty name"
                )
            if tier in rank:
                raise ConfigurationError(
                    f"tier {tier!r} appears twice in the ladder {self.tiers!r}: tier names are unique"
                )
            rank[tier] = i
        object.__setattr__(self, "_rank", MappingProxyType(rank))

    def __contains__(self, tier: object) -> bool:
        return tier in self._rank

    def __iter__(self) -> Iterator[str]:
        return iter(self.tiers)

    def __len__(self) -> int:
        return len(self.tiers)

    @property
    def bottom(self) -> str:
        return self.tiers[0]

    @property
    def top(self) -> str:
        return self.tiers[-1]

    def check(self, tier: str, what: str = "tier") -> str:
        """Return *tier* if the ladder has it; otherwise a ConfigurationError."""
        if tier not in self._rank:
            raise ConfigurationError(
                f"unknown {what} {tier!r}; the ladder is {' < '.join(self.tiers)}: "
                "use one of these or add it to the TierLadder"
            )
        return tier

    def rank(self, tier: str) -> int:
        """Position of *tier*, 0 for the bottom."""
        return self._rank[self.check(tier)]

    def is_top(self, tier: str) -> bool:
        return self.rank(tier) == len(self.tiers) - 1

    def next(self, tier: str, *, ticket: str = "") -> str:
        """The tier above *tier*; EscalationRefused at the top."""
        i = self.rank(tier)
        if i == len(self.tiers) - 1:
            raise EscalationRefused(tier, self.tiers, direction="up", ticket=ticket)
        return self.tiers[i + 1]

    def previous(self, tier: str, *, ticket: str = "") -> str:
        """The tier below *tier*; EscalationRefused at the bottom."""
        i = self.rank(tier)
        if i == 0:
            raise EscalationRefused(tier, self.tiers, direction="down", ticket=ticket)
        return self.tiers[i - 1]

    def climb(self, tier: str, steps: int) -> str:
        """*steps* tiers above (or below, if negative) *tier*, clamped to the ladder."""
        i = min(max(self.rank(tier) + steps, 0), len(self.tiers) - 1)
        return self.tiers[i]

    def compare(self, a: str, b: str) -> int:
        """Negative if *a* is below *b*, zero if equal, positive if above."""
        return self.rank(a) - self.rank(b)


class Roster:
    """Teams and agents of a desk, checked for consistency when built.

    Refused with a :class:`ConfigurationError` listing every problem: a team
    with no tier or an unknown tier, an unknown fallback team, a cycle of
    fallback teams, duplicate ids, an agent with an unknown tier or team, a
    negative capacity, an unknown working-hours time zone.
    """

    __slots__ = ("_agents", "_by_tier", "_chains", "_teams", "ladder")

    def __init__(
        self,
        *,
        teams: Iterable[Team] = (),
        agents: Iterable[Agent] = (),
        ladder: TierLadder | None = None,
    ) -> None:
        self.ladder = ladder if ladder is not None else TierLadder()
        problems: list[str] = []
        team_map: dict[str, Team] = {}
        for team in teams:
            if team.id in team_map:
                problems.append(f"team id {team.id!r} is used twice")
            team_map[team.id] = team
        for team in team_map.values():
            problems.extend(self._team_problems(team, team_map))
        problems.extend(_fallback_cycles(team_map))
        agent_map: dict[str, Agent] = {}
        for agent in agents:
            if agent.id in agent_map:
                problems.append(f"agent id {agent.id!r} is used twice")
            agent_map[agent.id] = agent
            problems.extend(agent_problems(agent, self.ladder, team_map))
        if problems:
            raise ConfigurationError(
                "inconsistent roster: "
                + "; ".join(problems)
                + ". Fix these and build the desk again"
            )
        self._teams: Mapping[str, Team] = MappingProxyType(team_map)
        self._agents: Mapping[str, Agent] = MappingProxyType(agent_map)
        self._chains = {tid: self._chain(tid) for tid in team_map}
        by_tier: dict[str, list[str]] = {}
        for team in team_map.values():
            by_tier.setdefault(team.tier, []).append(team.id)
        self._by_tier = {tier: tuple(ids) for tier, ids in by_tier.items()}

    def _team_problems(self, team: Team, teams: Mapping[str, Team]) -> list[str]:
        problems = []
        if not team.tier:
            problems.append(
                f"team {team.id!r} has no tier; set Team.tier to one of {', '.join(self.ladder)}"
            )
        elif team.tier not in self.ladder:
            problems.append(
                f"team {team.id!r} has unknown tier {team.tier!r}; the ladder is "
                f"{' < '.join(self.ladder)}"
            )
        if team.fallback is not None and team.fallback not in teams:
            problems.append(
                f"team {team.id!r} falls back to unknown team {team.fallback!r}; "
                f"known teams: {', '.join(sorted(teams)) or 'none'}"
            )
        return problems

    def _chain(self, team_id: str) -> tuple[str, ...]:
        chain: list[str] = []
        fallback = self._teams[team_id].fallback
        while fallback is not None:
            chain.append(fallback)
            fallback = self._teams[fallback].fallback
        return tuple(chain)

    @property
    def teams(self) -> Mapping[str, Team]:
        return self._teams

    @property
    def agents(self) -> Mapping[str, Agent]:
        """The agents as configured; live availability and load live in an AgentIndex."""
        return self._agents

    def team(self, team_id: str) -> Team:
        try:
            return self._teams[team_id]
        except KeyError:
            raise NotFound(
                "team", team_id, f"known teams: {', '.join(sorted(self._teams)) or 'none'}"
            ) from None

    def fallback_chain(self, team_id: str) -> tuple[str, ...]:
        """The teams a ticket overflows to, in order, when *team_id* has no candidate."""
        self.team(team_id)
        return self._chains[team_id]

    def teams_of_tier(self, tier: str) -> tuple[str, ...]:
        """Teams serving *tier*, in the order they were configured."""
        return self._by_tier.get(self.ladder.check(tier), ())

    def team_for_tier(self, tier: str, current: str | None = None) -> str | None:
        """The team a ticket at *tier* belongs to: *current* if it serves that tier,
        else the first team of that tier (or its fallback chain), else None (tier-wide)."""
        if current is not None and current in self._teams:
            if self._teams[current].tier == tier:
                return current
            for fallback in self._chains[current]:
                if self._teams[fallback].tier == tier:
                    return fallback
        teams = self.teams_of_tier(tier)
        return teams[0] if teams else None

    def check_agent(self, agent: Agent) -> None:
        """Raise ConfigurationError if *agent* does not fit this roster."""
        problems = agent_problems(agent, self.ladder, self._teams)
        if problems:
            raise ConfigurationError("; ".join(problems))


def agent_problems(agent: Agent, ladder: TierLadder, teams: Mapping[str, Team]) -> list[str]:
    """Everything wrong with *agent* for this ladder and these teams."""
    problems = []
    if not agent.tier:
        problems.append(
            f"agent {agent.id!r} has no tier; set Agent.tier to one of {', '.join(ladder)}"
        )
    elif agent.tier not in ladder:
        problems.append(
            f"agent {agent.id!r} has unknown tier {agent.tier!r}; the ladder is {' < '.join(ladder)}"
        )
    if not isinstance(agent.capacity, int) or agent.capacity < 0:
        problems.append(
            f"agent {agent.id!r} has capacity {agent.capacity!r}; capacity is the most open "
            "tickets at once, an integer >= 0"
        )
    for team_id in agent.teams:
        if team_id not in teams:
            problems.append(
                f"agent {agent.id!r} is in unknown team {team_id!r}; known teams: "
                f"{', '.join(sorted(teams)) or 'none'}"
            )
    hours = agent.working_hours
    if hours is not None:
        try:
            ZoneInfo(hours.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"agent {agent.id!r} works in unknown time zone {hours.timezone!r}; "
                "use an IANA name such as 'Europe/Moscow'"
            )
        bad_days = sorted(d for d in hours.weekdays if not 0 <= d <= 6)
        if bad_days:
            problems.append(
                f"agent {agent.id!r} has weekdays {bad_days}; weekdays are 0 (Monday) to 6 (Sunday)"
            )
    return problems


def _fallback_cycles(teams: Mapping[str, Team]) -> list[str]:
    problems: list[str] = []
    done: set[str] = set()
    for start in sorted(teams):
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node in teams and node not in done:
            if node in on_path:
                cycle = [*path[path.index(node) :], node]
                problems.append(
                    "fallback teams form a cycle: "
                    + " -> ".join(cycle)
                    + "; end the chain at a team without a fallback"
                )
                break
            on_path.add(node)
            path.append(node)
            node = teams[node].fallback
        done.update(path)
    return problems
