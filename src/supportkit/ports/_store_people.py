"""The people ports: customers with their identities, agents and teams.

Every method runs inside the unit of work's transaction and sees that
transaction's own earlier writes. Entities go in and come out as copies.
"""

from __future__ import annotations

import abc

from ..domain._model import Agent, Customer, Identity, Team

__all__ = ["AgentStore", "CustomerStore"]


class CustomerStore(abc.ABC):
    """Customers, found by id or by any of their identities (an address on a channel)."""

    @abc.abstractmethod
    def add_customer(self, customer: Customer) -> None:
        """Store a new customer and claim its identities.

        Raises :class:`~supportkit.DuplicateError` (and stores nothing) when the
        id exists or one of its identities belongs to another customer.
        """

    @abc.abstractmethod
    def save_customer(self, customer: Customer) -> None:
        """Replace a stored customer; its identities become exactly ``customer.identities``.

        Raises :class:`~supportkit.NotFound` for an unknown id and
        :class:`~supportkit.DuplicateError` (writing nothing) when an identity
        belongs to another customer. Last write wins (no version check).
        """

    @abc.abstractmethod
    def get_customer(self, customer_id: str) -> Customer:
        """The stored customer; raises :class:`~supportkit.NotFound`."""

    @abc.abstractmethod
    def find_customer_by_identity(self, identity: Identity) -> Customer | None:
        """The customer owning *identity* (channel and address compared exactly), or None."""


class AgentStore(abc.ABC):
    """The desk's agents and teams (few rows, read whole)."""

    @abc.abstractmethod
    def save_agent(self, agent: Agent) -> None:
        """Insert or replace the agent with ``agent.id`` (last write wins)."""

    @abc.abstractmethod
    def get_agent(self, agent_id: str) -> Agent:
        """The stored agent; raises :class:`~supportkit.NotFound`."""

    @abc.abstractmethod
    def list_agents(self) -> list[Agent]:
        """Every stored agent, ordered by id."""

    @abc.abstractmethod
    def save_team(self, team: Team) -> None:
        """Insert or replace the team with ``team.id`` (last write wins)."""

    @abc.abstractmethod
    def list_teams(self) -> list[Team]:
        """Every stored team, ordered by id."""
