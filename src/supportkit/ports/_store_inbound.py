"""The raw inbound port: messages kept exactly as they arrived, before parsing.

Every method runs inside the unit of work's transaction and sees that
transaction's own earlier writes.

Claims make each kept message processed once across processes. A channel
stores what arrived and claims it in the same transaction: the claim is a
lease (``until``) held while the message is parsed and registered. A process
that dies leaves a ``pending`` row whose lease runs out; a later claim from
any process (the same mail arriving again, or the worker's ``reprocess()``)
takes it over. A claim is one conditional update in the database, so two
processes never hold one row at once.
"""

from __future__ import annotations

import abc
from datetime import datetime

from ._storage_records import RawInbound

__all__ = ["CLAIMABLE_STATUSES", "RawInboundStore"]

#: the statuses a kept message can still be (re)processed from
CLAIMABLE_STATUSES = ("pending", "failed")


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

    @abc.abstractmethod
    def claim_raw_inbound(self, raw_id: str, now: datetime, until: datetime) -> RawInbound | None:
        """Take the lease on a ``failed`` row, or a ``pending`` one whose lease is free or
        ran out at *now*: the row becomes ``pending`` (its error kept), held until *until*.
        None (and nothing changed) when the row is processed, ignored, unknown, or
        pending under another process's live lease."""

    @abc.abstractmethod
    def raw_inbound_by_key(self, channel: str, external_id: str) -> RawInbound | None:
        """The row kept under (*channel*, *external_id*), or None."""

    @abc.abstractmethod
    def claimable_raw_inbound(
        self, now: datetime, channel_prefix: str = "", limit: int = 100
    ) -> list[RawInbound]:
        """``pending`` and ``failed`` rows whose lease (for a failed row: its last attempt's)
        is free or ran out at *now*, of channels starting with *channel_prefix*: pending rows
        first, then failed ones, each oldest first. A failed row is thus retried at most once
        per lease and never holds back pending rows. Candidates only: claim each with
        :meth:`claim_raw_inbound` before processing it."""
