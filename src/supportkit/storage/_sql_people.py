"""The SQL people ports: customers with identities, agents and teams."""

from __future__ import annotations

import json
from typing import Any

from .._convert import dumps, structure, unstructure
from ..domain._errors import DuplicateError, NotFound
from ..domain._model import Agent, Customer, Identity, Team
from ..ports._storage import AgentStore, CustomerStore
from ._sql_base import SqlBase

__all__ = ["SqlAgentStore", "SqlCustomerStore"]


class SqlCustomerStore(SqlBase, CustomerStore):
    """Customers in ``sk_customers`` (JSON), identities in ``sk_identities`` (unique)."""

    def add_customer(self, customer: Customer) -> None:
        try:
            self.x(
                "INSERT INTO sk_customers (desk, id, data) VALUES (?, ?, ?)",
                (self.desk, customer.id, dumps(unstructure(customer))),
            )
        except DuplicateError as exc:
            raise DuplicateError(f"customer id {customer.id!r} exists already") from exc.__cause__
        for ident in customer.identities:
            try:
                self._put_identity(ident, customer.id)
            except DuplicateError as exc:
                raise DuplicateError(
                    f"identity {ident.channel}:{ident.address} belongs to another customer "
                    "already; merge the customers instead"
                ) from exc.__cause__

    def _identity_owner(self, ident: Identity) -> str | None:
        row = self.one(
            "SELECT customer_id FROM sk_identities WHERE desk = ? AND channel = ? AND address = ?",
            (self.desk, ident.channel, ident.address),
        )
        return None if row is None else str(row[0])

    def _put_identity(self, ident: Identity, customer_id: str) -> None:
        self.x(
            "INSERT INTO sk_identities (desk, channel, address, customer_id) VALUES (?, ?, ?, ?)",
            (self.desk, ident.channel, ident.address, customer_id),
        )

    def _put_identities(self, customer: Customer) -> None:
        for ident in customer.identities:
            self._put_identity(ident, customer.id)

    def save_customer(self, customer: Customer) -> None:
        for ident in customer.identities:
            owner = self._identity_owner(ident)
            if owner is not None and owner != customer.id:
                raise DuplicateError(
                    f"identity {ident.channel}:{ident.address} belongs to customer {owner!r}"
                )
        cur = self.x(
            "UPDATE sk_customers SET data = ? WHERE desk = ? AND id = ?",
            (dumps(unstructure(customer)), self.desk, customer.id),
        )
        if cur.rowcount != 1:
            raise NotFound("customer", customer.id)
        self.x(
            "DELETE FROM sk_identities WHERE desk = ? AND customer_id = ?", (self.desk, customer.id)
        )
        self._put_identities(customer)

    def get_customer(self, customer_id: str) -> Customer:
        row = self.one(
            "SELECT data FROM sk_customers WHERE desk = ? AND id = ?", (self.desk, customer_id)
        )
        if row is None:
            raise NotFound("customer", customer_id)
        return structure(json.loads(row[0]), Customer)

    def find_customer_by_identity(self, identity: Identity) -> Customer | None:
        owner = self._identity_owner(identity)
        return None if owner is None else self.get_customer(owner)


class SqlAgentStore(SqlBase, AgentStore):
    """Agents and teams as JSON rows in ``sk_agents`` and ``sk_teams``."""

    def _upsert_json(self, table: str, key: str, data: Any) -> None:
        self.x(
            self.upsert_sql(table, ("desk", "id"), ("data",)),
            (self.desk, key, dumps(unstructure(data))),
        )

    def save_agent(self, agent: Agent) -> None:
        self._upsert_json("sk_agents", agent.id, agent)

    def get_agent(self, agent_id: str) -> Agent:
        row = self.one(
            "SELECT data FROM sk_agents WHERE desk = ? AND id = ?", (self.desk, agent_id)
        )
        if row is None:
            raise NotFound("agent", agent_id, "add it with SupportDesk.add_agent()")
        return structure(json.loads(row[0]), Agent)

    def list_agents(self) -> list[Agent]:
        return [
            structure(json.loads(r[0]), Agent)
            for r in self.all("SELECT data FROM sk_agents WHERE desk = ? ORDER BY id", (self.desk,))
        ]

    def save_team(self, team: Team) -> None:
        self._upsert_json("sk_teams", team.id, team)

    def list_teams(self) -> list[Team]:
        return [
            structure(json.loads(r[0]), Team)
            for r in self.all("SELECT data FROM sk_teams WHERE desk = ? ORDER BY id", (self.desk,))
        ]
