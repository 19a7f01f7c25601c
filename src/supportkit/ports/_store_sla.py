"""The SLA clock port: the clocks of :class:`~supportkit.extensions.SlaExtension`, typed.

A clock is stored as a :class:`SlaClockRecord`: its key, ticket, kind and
flags as columns, and the clock's own fields (``SlaClock.to_row()``) as
``data``. The live clock of a ticket and kind has the key
``"{ticket_id}:{kind}"`` and is replaced as it moves; a finished clock kept
for the reports (a past next-response clock) is *archived* under a key of
its own and never changes. Every method runs inside the unit of work's
transaction and sees that transaction's own earlier writes.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["SlaClockRecord", "SlaClockStore"]


@attrs.frozen
class SlaClockRecord:
    """One stored SLA clock; ``data`` is JSON-compatible (the clock's own row)."""

    key: str
    ticket_id: str
    kind: str
    data: Mapping[str, Any]
    archived: bool = False
    #: left out of compliance figures (a ticket closed as spam or duplicate)
    excluded: bool = False


class SlaClockStore(abc.ABC):
    """SLA clocks by key and by ticket, and a keyset scan over all of them for reports."""

    @abc.abstractmethod
    def get_sla_clock(self, key: str) -> SlaClockRecord | None:
        """The clock stored under *key*, or None."""

    @abc.abstractmethod
    def sla_clocks_for(self, ticket_id: str) -> list[SlaClockRecord]:
        """The ticket's live (not archived) clocks, ordered by key. One indexed lookup."""

    @abc.abstractmethod
    def put_sla_clock(self, record: SlaClockRecord) -> None:
        """Insert *record*, or replace the one with the same key (last write wins)."""

    @abc.abstractmethod
    def sla_clocks_after(self, key: str | None, limit: int = 500) -> list[SlaClockRecord]:
        """Every clock (live and archived) with a key above *key* (None: from the start),
        ordered by key, at most *limit*: page through all clocks without loading them all."""
