"""Routing filters: each narrows the candidate agents of one decision.

A filter does not look at agents; it adds a condition to a
:class:`CandidateQuery`: *within a pool* (team, tier, language, skill:
answered by the index) or *where* a predicate holds (checked only on the
agents a chooser visits), or it names *preferred* agents. That keeps a
decision's cost independent of the number of agents.

Availability is not a filter you can leave out: only agents online and below
capacity are ever candidates (:class:`Candidates` reads them from the index).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import attrs

from supportkit.domain._model import Agent, WorkingHours

from ._routing_index import ALL_AGENTS, AgentIndex, PoolKey
from ._routing_request import RoutingRequest

__all__ = [
    "CandidateFilter",
    "CandidateQuery",
    "Candidates",
    "CustomerAffinity",
    "HasSkills",
    "InTeam",
    "InTier",
    "OnShift",
    "SpeaksLanguage",
    "on_shift",
]

AgentPredicate = Callable[[Agent], bool]

_RING_ORDER = {"team": 0, "tier": 1, "all": 2}


@attrs.frozen
class CandidateQuery:
    """The conditions a candidate must meet, built up by the filters."""

    pools: frozenset[PoolKey] = frozenset()
    predicates: tuple[tuple[str, AgentPredicate], ...] = ()
    preferred: tuple[str, ...] = ()
    excluded: frozenset[str] = frozenset()

    def within(self, kind: str, value: str) -> CandidateQuery:
        """Only agents of the pool ``(kind, value)``: team, tier, language or skill."""
        q = self
        return CandidateQuery(q.pools | {(kind, value)}, q.predicates, q.preferred, q.excluded)

    def where(self, name: str, predicate: AgentPredicate) -> CandidateQuery:
        """Only agents for which *predicate* holds (checked lazily)."""
        q = self
        return CandidateQuery(q.pools, (*q.predicates, (name, predicate)), q.preferred, q.excluded)

    def prefer(self, *agent_ids: str) -> CandidateQuery:
        """Try these agents first, if they meet every other condition."""
        q = self
        return CandidateQuery(q.pools, q.predicates, (*q.preferred, *agent_ids), q.excluded)

    def exclude(self, *agent_ids: str) -> CandidateQuery:
        q = self
        return CandidateQuery(q.pools, q.predicates, q.preferred, q.excluded | frozenset(agent_ids))


class Candidates:
    """The agents a query admits, read lazily from the index in the order a
    chooser needs: by load, round the ring, or preferred first."""

    __slots__ = ("_rest", "_ring_rest", "index", "primary", "query", "ring")

    def __init__(self, index: AgentIndex, query: CandidateQuery) -> None:
        self.index = index
        self.query = query
        pools = query.pools or frozenset({ALL_AGENTS})
        self.primary: PoolKey = min(
            pools, key=lambda k: (len(index.available_in(k)), k[0] != "team", k)
        )
        self._rest = pools - {self.primary}
        # the round-robin ring is stable: the team if there is one, else the tier
        self.ring: PoolKey = min(pools, key=lambda k: (_RING_ORDER.get(k[0], 9), k))
        self._ring_rest = pools - {self.ring}

    @property
    def ring_key(self) -> str:
        """Names the ring round-robin walks, e.g. ``"team:billing"``."""
        kind, value = self.ring
        return f"{kind}:{value}" if value else kind

    def admits(self, agent_id: str) -> bool:
        """True if the agent can take a ticket now and meets every condition."""
        index = self.index
        if agent_id in self.query.excluded or not index.can_take(agent_id):
            return False
        pools = index.pools_of(agent_id)
        if self.primary != ALL_AGENTS and self.primary not in pools:
            return False
        if not self._rest <= pools:
            return False
        agent = index.agent(agent_id)
        return all(pred(agent) for _, pred in self.query.predicates)

    def _admitted_rest(self, agent_id: str) -> bool:
        # agents read from the primary pool are available and in it already
        return self._admitted(agent_id, self._rest)

    def _admitted_ring(self, agent_id: str) -> bool:
        return self._admitted(agent_id, self._ring_rest)

    def _admitted(self, agent_id: str, rest: frozenset[PoolKey]) -> bool:
        if agent_id in self.query.excluded:
            return False
        if rest and not rest <= self.index.pools_of(agent_id):
            return False
        preds = self.query.predicates
        if not preds:
            return True
        agent = self.index.agent(agent_id)
        return all(pred(agent) for _, pred in preds)

    def by_load(self) -> Iterator[str]:
        """Admitted agents, least loaded relative to capacity first."""
        return filter(self._admitted_rest, self.index.iter_by_load(self.primary))

    def least_loaded(self, limit: int = 1) -> list[str]:
        """The *limit* least loaded admitted agents (faster than :meth:`by_load`)."""
        return self.index.least_loaded(self.primary, self._admitted_rest, limit)

    def by_ring(self, after: str | None = None) -> Iterator[str]:
        """Admitted agents in id order, starting after *after* and wrapping once."""
        return filter(self._admitted_ring, self.index.iter_ring(self.ring, after))

    def __iter__(self) -> Iterator[str]:
        return self.by_ring()

    def preferred(self) -> Iterator[str]:
        """The query's preferred agents that are admitted, in the order given."""
        return (a for a in self.query.preferred if a in self.index and self.admits(a))

    def narrowed(self, kind: str, value: str) -> Candidates:
        """The same candidates, restricted to one more pool."""
        return Candidates(self.index, self.query.within(kind, value))

    def agent(self, agent_id: str) -> Agent:
        return self.index.agent(agent_id)

    def ratio(self, agent_id: str) -> float:
        return self.index.ratio(agent_id)


@runtime_checkable
class CandidateFilter(Protocol):
    """Narrows the candidates of one routing decision."""

    @property
    def name(self) -> str: ...

    def narrow(
        self, query: CandidateQuery, request: RoutingRequest, now: datetime
    ) -> CandidateQuery: ...


@attrs.frozen
class InTier:
    """Tier-aware: a ticket goes to agents of its tier."""

    name = "tier"

    def narrow(
        self, query: CandidateQuery, request: RoutingRequest, now: datetime
    ) -> CandidateQuery:
        return query.within("tier", request.tier)


@attrs.frozen
class InTeam:
    """Only agents of the ticket's team (no team: no restriction)."""

    name = "team"

    def narrow(
        self, query: CandidateQuery, request: RoutingRequest, now: datetime
    ) -> CandidateQuery:
        return query.within("team", request.team_id) if request.team_id else query


@attrs.frozen
class SpeaksLanguage:
    """Only agents who speak the ticket's language."""

    name = "language"

    def narrow(
        self, query: CandidateQuery, request: RoutingRequest, now: datetime
    ) -> CandidateQuery:
        return query.within("language", request.language) if request.language else query


@attrs.frozen
class HasSkills:
    """Only agents with every skill the ticket's category requires (strict;
    for a scored best match use the SkillsBestMatch chooser instead)."""

    name = "skills"

    def narrow(
        self, query: CandidateQuery, request: RoutingRequest, now: datetime
    ) -> CandidateQuery:
        for skill in sorted(request.required_skills):
            query = query.within("skill", skill)
        return query


@attrs.frozen
class OnShift:
    """Only agents inside their working hours at *now* (agents without
    working hours are always on shift)."""

    name = "working-hours"

    def narrow(
        self, query: CandidateQuery, request: RoutingRequest, now: datetime
    ) -> CandidateQuery:
        return query.where(self.name, lambda agent: on_shift(agent.working_hours, now))


@attrs.frozen
class CustomerAffinity:
    """Prefer the agent who helped this customer before, when available."""

    name = "customer-affinity"

    def narrow(
        self, query: CandidateQuery, request: RoutingRequest, now: datetime
    ) -> CandidateQuery:
        return query.prefer(*request.previous_agents) if request.previous_agents else query


def on_shift(hours: WorkingHours | None, now: datetime) -> bool:
    """True if *now* (aware) falls inside *hours* in the agent's own time zone.

    A shift whose end is before its start runs overnight and belongs to the
    weekday it starts on; equal start and end means the whole day.
    """
    if hours is None:
        return True
    local = now.astimezone(ZoneInfo(hours.timezone))
    t = local.time().replace(tzinfo=None)
    day = local.weekday()
    if hours.start == hours.end:
        return day in hours.weekdays
    if hours.start < hours.end:
        return day in hours.weekdays and hours.start <= t < hours.end
    if t >= hours.start:
        return day in hours.weekdays
    yesterday = (local - timedelta(days=1)).weekday()
    return t < hours.end and yesterday in hours.weekdays
