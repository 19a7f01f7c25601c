"""The raw inbound port: messages kept exactly as they arrived, before parsing.

Every method runs inside the unit of work's transaction and sees that
transaction's own earlier writes.
"""

from __future__ import annotations

import abc

from ._storage_records import RawInbound

__all__ = ["RawInboundStore"]


class RawInboundStore(abc.ABC):
    """Raw inbound messages and their processing status."""

    @abc.abstractmethod
    def add_raw_inbound(self, raw: RawInbound) -> bool:
        """Keep a raw inbound message; returns whether it was stored.

        Returns False (and stores nothing) when a message with the same channel
        and non-``None`` external id is kept already: a redelivery. Raises
        :class:`~supportkit.DuplicateError` when ``raw.id`` exists.
        """

    @abc.abstractmethod
    def update_raw_inbound(
        self, raw_id: str, status: str, ticket_id: str | None = None, error: str | None = None
    ) -> None:
        """Set a kept message's status, ticket and error (all three replaced).

        Raises :class:`~supportkit.NotFound` for an unknown *raw_id*.
        """

    @abc.abstractmethod
    def list_raw_inbound(self, status: str | None = None, limit: int = 100) -> list[RawInbound]:
        """Kept messages (with *status* unless None), oldest ``received_at`` first, ties by id."""
