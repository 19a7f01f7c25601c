"""The delivery port: outbound deliveries and the channel ids they were given.

The outbound dispatcher keeps one :class:`StoredDelivery` per outbound
message (its status and attempts as columns, the rest as JSON ``data``) and
indexes the id a channel gave a delivered notification, so a customer's reply
to it threads onto the right ticket. Every method runs inside the unit of
work's transaction and sees that transaction's own earlier writes.
"""

from __future__ import annotations

import abc
from typing import Any

import attrs

__all__ = ["DeliveryStore", "StoredDelivery"]


@attrs.frozen
class StoredDelivery:
    """One outbound delivery; ``data`` holds the message, errors and receipt (JSON-compatible)."""

    id: str
    ticket_id: str
    status: str  # pending | delivered | failed
    data: dict[str, Any]


class DeliveryStore(abc.ABC):
    """Delivery records by id, and channel ids by which replies find their ticket."""

    @abc.abstractmethod
    def get_delivery(self, delivery_id: str) -> StoredDelivery | None:
        """The delivery with this id (a copy), or None."""

    @abc.abstractmethod
    def put_delivery(self, delivery: StoredDelivery) -> None:
        """Insert *delivery*, or replace the one with the same id (last write wins)."""

    @abc.abstractmethod
    def index_external_id(self, external_id: str, ticket_id: str, delivery_id: str) -> None:
        """Remember that the channel id *external_id* went out on *ticket_id* (replaces)."""

    @abc.abstractmethod
    def ticket_for_external_id(self, external_id: str) -> str | None:
        """The ticket indexed under *external_id* by :meth:`index_external_id`, or None."""
