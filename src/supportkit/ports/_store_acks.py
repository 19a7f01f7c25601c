"""The acknowledgement port: how many automatic acknowledgements a sender got lately.

A desk acknowledges a new request automatically, but never more than a few
times per sender within a window, so that two auto-responders cannot mail
each other forever. The decision is taken in the database: concurrent claims
for the same sender are serialised, so the limit holds across processes.
Every method runs inside the unit of work's transaction and sees that
transaction's own earlier writes.
"""

from __future__ import annotations

import abc
from datetime import datetime, timedelta

__all__ = ["AcknowledgementStore"]


class AcknowledgementStore(abc.ABC):
    """The instants automatic acknowledgements went to each sender."""

    @abc.abstractmethod
    def claim_acknowledgement(
        self, sender: str, at: datetime, *, window: timedelta, limit: int
    ) -> bool:
        """Record an acknowledgement to *sender* at *at* and return True, unless *sender*
        got *limit* or more in the *window* before *at* (then False, writing nothing).

        *sender* is compared exactly (the caller normalises it). A concurrent
        claim for the same sender in another unit of work waits for that one
        to finish and counts its acknowledgement if it committed. Instants
        older than the window may be forgotten.
        """

    @abc.abstractmethod
    def acknowledgements_since(self, sender: str, since: datetime) -> list[datetime]:
        """The instants after *since* at which *sender* was acknowledged, oldest first."""
