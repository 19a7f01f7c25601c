"""The messages and history port: a ticket's thread and its transitions, append-only.

Every method runs inside the unit of work's transaction and sees that
transaction's own earlier writes. Messages and history entries are never
updated or deleted, with one exception: an outbound message learns its
external id when its channel accepts it.
"""

from __future__ import annotations

import abc

from ..domain._model import HistoryEntry, Message

__all__ = ["MessageStore"]


class MessageStore(abc.ABC):
    """A ticket's messages (inbound, outbound, notes) and its status history."""

    @abc.abstractmethod
    def add_message(self, message: Message) -> None:
        """Append *message* to its ticket's thread.

        Raises :class:`~supportkit.DuplicateError` (and stores nothing) when a
        message with the same id, or the same non-``None`` external id, is
        stored (a channel delivering the same mail twice).
        """

    @abc.abstractmethod
    def messages_for(self, ticket_id: str) -> list[Message]:
        """The ticket's messages in the order they were added (empty when none)."""

    @abc.abstractmethod
    def find_message_by_external_id(self, external_id: str) -> Message | None:
        """The message a channel knows by *external_id* (e.g. an email's Message-ID)."""

    @abc.abstractmethod
    def set_message_external_id(self, message_id: str, external_id: str) -> None:
        """Record the id a channel gave a stored message at delivery (an email's Message-ID).

        The one change a stored message allows: an outbound message learns its
        external id only when its channel accepts it. Setting the value the
        message has already is a no-op. Raises :class:`~supportkit.NotFound`
        for an unknown *message_id*, :class:`~supportkit.DuplicateError` when
        another message has *external_id*, and
        :class:`~supportkit.ValidationError` when the message has a different
        external id already (an external id, once known, never changes).
        """

    @abc.abstractmethod
    def add_history(self, entry: HistoryEntry) -> None:
        """Append a status transition to its ticket's history."""

    @abc.abstractmethod
    def history_for(self, ticket_id: str) -> list[HistoryEntry]:
        """The ticket's transitions in the order they were added (empty when none)."""
