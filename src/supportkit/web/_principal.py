"""Who is asking: the host's ``authenticate(request)`` answers with a principal.

supportkit does not know the host's users; the host maps its session, token
or cookie to an :class:`AgentPrincipal` or a :class:`CustomerPrincipal`, or
None (anonymous: a 401 on every endpoint but the public ones).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeAlias

import attrs

from ..domain._model import Identity, Ticket

__all__ = ["AgentPrincipal", "Authenticate", "CustomerPrincipal", "Principal"]


def _teams(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _identities(value: Iterable[Identity | tuple[str, str]]) -> tuple[Identity, ...]:
    out = tuple(v if isinstance(v, Identity) else Identity.of(*v) for v in value)
    if not out:
        raise ValueError("a CustomerPrincipal needs at least one identity (channel, address)")
    return out


@attrs.frozen
class AgentPrincipal:
    """An agent: sees the tickets of *teams*; ``all_teams`` sees every ticket and
    ``unrouted`` also the tickets no team has yet (the triage queue)."""

    agent_id: str
    teams: frozenset[str] = attrs.field(default=frozenset(), converter=_teams)
    all_teams: bool = False
    unrouted: bool = False
    name: str = ""

    def can_see(self, ticket: Ticket) -> bool:
        if self.all_teams or ticket.assignee_id == self.agent_id:
            return True
        if ticket.team_id is None:
            return self.unrouted
        return ticket.team_id in self.teams

    def team_filter(self) -> tuple[str | None, ...] | None:
        """The teams a ticket list is limited to (None: no limit)."""
        if self.all_teams:
            return None
        return (*sorted(self.teams), *((None,) if self.unrouted else ()))


@attrs.frozen
class CustomerPrincipal:
    """A customer, known by their identities (``("email", "ann@example.com")``, ...).

    The first identity is the one their web requests are sent from; they see
    the tickets of every customer profile any of the identities belongs to.
    """

    identities: tuple[Identity, ...] = attrs.field(converter=_identities)
    name: str = ""
    #: the language of the portal the customer uses (else detected from the message)
    language: str | None = None


Principal: TypeAlias = AgentPrincipal | CustomerPrincipal
#: ``authenticate(request) -> Principal | None``, sync or async; *request* is Starlette's
Authenticate: TypeAlias = Callable[[Any], "Principal | Awaitable[Principal | None] | None"]
