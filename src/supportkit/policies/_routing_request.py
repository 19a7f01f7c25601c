"""What routing is asked (a RoutingRequest) and what it remembers (a RoutingState)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from supportkit.domain._model import Priority, Ticket

__all__ = ["RoutingRequest", "RoutingState"]


@attrs.frozen
class RoutingRequest:
    """The facts about a ticket that routing decides on.

    ``previous_agents`` are agents who helped this customer before, most
    recent first (customer affinity); ``excluded_agents`` are never chosen
    (e.g. the L1 agent a ticket was just escalated away from).
    """

    ticket_id: str
    tier: str = "L1"
    team_id: str | None = None
    priority: Priority = Priority.NORMAL
    category: str | None = None
    required_skills: frozenset[str] = frozenset()
    language: str | None = None
    customer_id: str | None = None
    previous_agents: tuple[str, ...] = ()
    excluded_agents: frozenset[str] = frozenset()

    @classmethod
    def for_ticket(
        cls,
        ticket: Ticket,
        *,
        skills_by_category: Mapping[str, Iterable[str]] | None = None,
        previous_agents: Iterable[str] = (),
        excluded_agents: Iterable[str] = (),
        skills_by_kind: Mapping[str, Iterable[str]] | None = None,
    ) -> RoutingRequest:
        """The request for *ticket*; its required skills are those of its category
        (*skills_by_category*, ``{"billing": {"payments"}}``) and of its kind of
        support (*skills_by_kind*, ``{"training": {"onboarding"}}``)."""
        skills: frozenset[str] = frozenset()
        if skills_by_category and ticket.category is not None:
            skills = frozenset(skills_by_category.get(ticket.category, ()))
        if skills_by_kind and ticket.kind is not None:
            skills |= frozenset(skills_by_kind.get(ticket.kind, ()))
        return cls(
            ticket_id=ticket.id,
            tier=ticket.tier,
            team_id=ticket.team_id,
            priority=ticket.priority,
            category=ticket.category,
            required_skills=skills,
            language=ticket.language,
            customer_id=ticket.customer_id,
            previous_agents=tuple(previous_agents),
            excluded_agents=frozenset(excluded_agents),
        )


def _frozen_map(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@attrs.frozen
class RoutingState:
    """What stateful strategies remember between decisions: round-robin cursors.

    A plain value: the desk stores :meth:`as_dict` after each decision and
    passes :meth:`from_dict` back in, so round-robin stays fair across
    restarts and across processes sharing one database. A cursor is the id
    of the agent last chosen in a ring, so it survives agents joining and
    leaving.
    """

    cursors: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map, hash=False)

    def cursor(self, key: str) -> str | None:
        return self.cursors.get(key)

    def advanced(self, key: str, agent_id: str) -> RoutingState:
        """A new state with the cursor of ring *key* at *agent_id*."""
        cursors = dict(self.cursors)
        cursors[key] = agent_id
        return RoutingState(cursors)

    def as_dict(self) -> dict[str, str]:
        return dict(self.cursors)

    @classmethod
    def from_dict(cls, data: Mapping[str, str] | None) -> RoutingState:
        return cls(data or {})
