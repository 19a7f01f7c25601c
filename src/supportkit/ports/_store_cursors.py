"""The cursor port: where a reader that takes a source in order stands.

A channel polling a mailbox keeps the last IMAP UID it took (and the
mailbox's UIDVALIDITY, which says what the UIDs count in); the webhook
forwarder keeps the last outbox sequence number it delivered and its retry
state. A cursor is written in the same unit of work as what it covers (the
stored raw mail, the delivery), so the two never disagree after a crash.
Every method runs inside the unit of work's transaction and sees that
transaction's own earlier writes.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Cursor", "CursorStore"]


@attrs.frozen
class Cursor:
    """A reader's position: *position* is the last item taken (an IMAP UID, an outbox
    sequence number); *epoch* what positions count in (an IMAP UIDVALIDITY; None when
    they never restart); *state* the reader's own JSON-compatible state (retries)."""

    name: str
    position: int
    epoch: str | None = None
    state: Mapping[str, Any] = attrs.Factory(dict)


class CursorStore(abc.ABC):
    """Cursors by name (one per reader: ``email:<mailbox>``, ``webhook-forward:<name>``)."""

    @abc.abstractmethod
    def get_cursor(self, name: str) -> Cursor | None:
        """The cursor called *name* (its state a copy), or None before the first put."""

    @abc.abstractmethod
    def put_cursor(self, cursor: Cursor) -> None:
        """Insert *cursor*, or replace the one with the same name (last write wins)."""
