"""The timers port: wake-ups (SLA warnings, breaches, reminders) found by due time.

Every method runs inside the unit of work's transaction and sees that
transaction's own earlier writes.
"""

from __future__ import annotations

import abc
from datetime import datetime

from ._storage_records import Timer

__all__ = ["TimerStore"]


class TimerStore(abc.ABC):
    """Timers keyed by a caller-chosen key, ordered by due time."""

    @abc.abstractmethod
    def schedule_timer(self, timer: Timer) -> None:
        """Insert the timer, or replace the one with the same key (last write wins)."""

    @abc.abstractmethod
    def cancel_timer(self, key: str) -> None:
        """Remove the timer with *key*; a missing key is not an error."""

    @abc.abstractmethod
    def due_timers(self, now: datetime, limit: int = 1000) -> list[Timer]:
        """Timers due at or before *now*, earliest first (ties by key), at most *limit*.

        An index range scan, never a scan of every timer.
        """

    @abc.abstractmethod
    def timers_for(self, ticket_id: str) -> list[Timer]:
        """The ticket's timers, earliest first (ties by key)."""
