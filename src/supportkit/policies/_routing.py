"""The router: filters narrow the candidates, a chooser picks, overflow spills.

Pure: it reads an :class:`AgentIndex` and returns a :class:`RoutingDecision`
(who, which strategy chose, the new :class:`RoutingState`); applying the
decision (``index.assign``, storing the ticket, recording the event) is the
caller's job.

    >>> router = Router(strategy=RoundRobin())
    >>> decision = router.route(request, index, now=now, state=state)
    >>> if decision.assigned: index.assign(decision.agent_id)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from supportkit.domain._errors import ConfigurationError
from supportkit.domain._model import ensure_utc

from ._routing_filters import (
    CandidateFilter,
    CandidateQuery,
    Candidates,
    CustomerAffinity,
    InTeam,
    InTier,
    OnShift,
    SpeaksLanguage,
)
from ._routing_index import AgentIndex
from ._routing_request import RoutingRequest, RoutingState
from ._routing_strategies import LeastLoaded, RoutingStrategy

__all__ = ["DEFAULT_FILTERS", "Router", "RoutingDecision"]

DEFAULT_FILTERS: tuple[CandidateFilter, ...] = (
    InTier(),
    InTeam(),
    SpeaksLanguage(),
    OnShift(),
    CustomerAffinity(),
)


@attrs.frozen
class RoutingDecision:
    """The outcome of one routing decision, with the strategy that chose.

    ``agent_id`` is None when nobody can take the ticket now: queue it.
    ``team_id`` is the team the agent was found in (a fallback team after
    overflow, listed in ``overflow_from``).
    """

    ticket_id: str
    agent_id: str | None
    strategy: str
    tier: str
    team_id: str | None
    state: RoutingState
    reason: str = ""
    score: float | None = None
    overflow_from: tuple[str, ...] = ()

    @property
    def assigned(self) -> bool:
        return self.agent_id is not None


def _check_filters(value: Sequence[CandidateFilter]) -> tuple[CandidateFilter, ...]:
    filters = tuple(value)
    for f in filters:
        if not callable(getattr(f, "narrow", None)):
            raise ConfigurationError(
                f"routing filter {f!r} has no narrow(query, request, now) method; "
                "see supportkit.policies.CandidateFilter"
            )
    return filters


def _check_strategy(_: object, __: object, value: object) -> None:
    if not callable(getattr(value, "choose", None)) or not isinstance(
        getattr(value, "name", None), str
    ):
        raise ConfigurationError(
            f"routing strategy {value!r} needs a str name and a choose(candidates, request, "
            "cursor) method; see supportkit.policies.RoutingStrategy"
        )


@attrs.frozen
class Router:
    """Filters then a chooser, with overflow to fallback teams.

    *filters* narrow the candidates (default: tier, team, language, working
    hours, customer affinity); *strategy* picks one (default least-loaded).
    A preferred agent (customer affinity) who is a candidate wins before the
    strategy runs; the decision then names ``"customer-affinity"``. When the
    ticket's team has no candidate and *overflow* is on, the team's fallback
    chain (from the index's roster) is tried in order.
    """

    strategy: RoutingStrategy = attrs.field(factory=LeastLoaded, validator=_check_strategy)
    filters: tuple[CandidateFilter, ...] = attrs.field(
        default=DEFAULT_FILTERS, converter=_check_filters
    )
    overflow: bool = True

    @property
    def name(self) -> str:
        return self.strategy.name

    def candidates(
        self, request: RoutingRequest, index: AgentIndex, *, now: datetime
    ) -> Candidates:
        """The candidates the filters leave for *request* (no overflow)."""
        query = CandidateQuery(excluded=request.excluded_agents)
        for f in self.filters:
            query = f.narrow(query, request, now)
        return Candidates(index, query)

    def route(
        self,
        request: RoutingRequest,
        index: AgentIndex,
        *,
        now: datetime,
        state: RoutingState | None = None,
    ) -> RoutingDecision:
        """Decide who takes *request* now; see :class:`RoutingDecision`."""
        now = ensure_utc(now)
        state = state if state is not None else RoutingState()
        teams: list[str | None] = [request.team_id]
        roster = index.roster
        if (
            self.overflow
            and request.team_id
            and roster is not None
            and request.team_id in roster.teams
        ):
            teams.extend(roster.fallback_chain(request.team_id))
        tried: list[str] = []
        for team in teams:
            req = request if team == request.team_id else attrs.evolve(request, team_id=team)
            candidates = self.candidates(req, index, now=now)
            preferred = next(candidates.preferred(), None)
            if preferred is not None:
                return RoutingDecision(
                    request.ticket_id,
                    preferred,
                    CustomerAffinity.name,
                    req.tier,
                    team,
                    state,
                    reason="helped this customer before",
                    overflow_from=tuple(tried),
                )
            key = f"{self.strategy.name}:{candidates.ring_key}"
            choice = self.strategy.choose(candidates, req, state.cursor(key))
            if choice is not None:
                if not candidates.admits(choice.agent_id):
                    raise ConfigurationError(
                        f"routing strategy {self.strategy.name!r} chose agent {choice.agent_id!r}, "
                        "who is not a candidate (unavailable, at capacity or filtered out); "
                        "a strategy must pick from the candidates it is given"
                    )
                if choice.cursor is not None:
                    state = state.advanced(key, choice.cursor)
                return RoutingDecision(
                    request.ticket_id,
                    choice.agent_id,
                    self.strategy.name,
                    req.tier,
                    team,
                    state,
                    reason=choice.reason,
                    score=choice.score,
                    overflow_from=tuple(tried),
                )
            if team is not None:
                tried.append(team)
        where = f"team(s) {', '.join(tried)}" if tried else f"tier {request.tier}"
        return RoutingDecision(
            request.ticket_id,
            None,
            self.strategy.name,
            request.tier,
            request.team_id,
            state,
            reason=f"no available agent in {where}; queue the ticket",
            overflow_from=tuple(tried),
        )
