"""Routing choosers: pick one agent among the candidates the filters left.

A chooser is anything with a ``name`` and a ``choose`` method
(:class:`RoutingStrategy`). It reads :class:`Candidates` lazily and returns a
:class:`Choice` or None. A stateful chooser (round-robin) receives its cursor
and returns the next one; the router keeps cursors in a
:class:`RoutingState` the caller persists.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from ._routing_filters import Candidates
from ._routing_request import RoutingRequest

__all__ = ["Choice", "LeastLoaded", "RoundRobin", "RoutingStrategy", "SkillsBestMatch"]


@attrs.frozen
class Choice:
    """A chooser's answer: the agent, the new cursor (if it keeps one), a
    score (if it scores) and a short human reason."""

    agent_id: str
    cursor: str | None = None
    score: float | None = None
    reason: str = ""


@runtime_checkable
class RoutingStrategy(Protocol):
    """Picks one agent among the candidates; None if there is none."""

    @property
    def name(self) -> str: ...

    def choose(
        self, candidates: Candidates, request: RoutingRequest, cursor: str | None
    ) -> Choice | None: ...


@attrs.frozen
class RoundRobin:
    """Takes turns within a team: the next candidate after the last one chosen.

    Fair over any sequence: among agents eligible every time, counts differ
    by at most one. The cursor is the last agent's id; store the router's
    :class:`RoutingState` and it stays fair across restarts.
    """

    name = "round-robin"

    def choose(
        self, candidates: Candidates, request: RoutingRequest, cursor: str | None
    ) -> Choice | None:
        agent_id = next(candidates.by_ring(after=cursor), None)
        if agent_id is None:
            return None
        return Choice(agent_id, cursor=agent_id, reason=f"next in {candidates.ring_key}")


@attrs.frozen
class LeastLoaded:
    """The candidate with the fewest open tickets relative to capacity (ties by id)."""

    name = "least-loaded"

    def choose(
        self, candidates: Candidates, request: RoutingRequest, cursor: str | None
    ) -> Choice | None:
        found = candidates.least_loaded()
        if not found:
            return None
        agent_id = found[0]
        ratio = candidates.ratio(agent_id)
        return Choice(agent_id, score=1.0 - ratio, reason=f"load {ratio:.0%} of capacity")


@attrs.frozen
class SkillsBestMatch:
    """The candidate whose skills best cover the ticket's required skills.

    Score = share of required skills the agent has; ties go to the least
    loaded. An agent with every skill is found by walking the rarest skill's
    pool by load (indexed, fast). Only when nobody has them all are partial
    matches scored, over the agents holding at least one required skill (at
    most *partial_limit* of them, least loaded first per skill). A ticket
    with no required skills goes to the least loaded candidate.
    """

    name = "skills-best-match"
    partial_limit: int = 256

    def choose(
        self, candidates: Candidates, request: RoutingRequest, cursor: str | None
    ) -> Choice | None:
        required = request.required_skills
        if not required:
            choice = LeastLoaded().choose(candidates, request, cursor)
            return (
                attrs.evolve(choice, reason="no required skills; least loaded") if choice else None
            )
        full = candidates
        for skill in sorted(required):
            full = full.narrowed("skill", skill)
        found = full.least_loaded()
        if found:
            return Choice(found[0], score=1.0, reason=f"has all of {', '.join(sorted(required))}")
        best: tuple[float, float, str] | None = None
        seen: set[str] = set()
        for skill in sorted(required):
            for aid in candidates.narrowed("skill", skill).least_loaded(self.partial_limit):
                if aid in seen:
                    continue
                seen.add(aid)
                have = len(required & candidates.agent(aid).skills)
                key = (-have / len(required), candidates.ratio(aid), aid)
                if best is None or key < best:
                    best = key
        if best is not None:
            score, _, aid = best
            have_skills = sorted(required & candidates.agent(aid).skills)
            return Choice(aid, score=-score, reason=f"best partial match: {', '.join(have_skills)}")
        choice = LeastLoaded().choose(candidates, request, cursor)
        if choice is None:
            return None
        return attrs.evolve(
            choice, score=0.0, reason="nobody has the required skills; least loaded"
        )
