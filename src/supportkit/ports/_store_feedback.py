"""The feedback token port: a signed feedback link is good for one answer.

Claiming is decided in the database: two processes claiming the same token
at once get True once and False once (a unique key, never a read followed by
a write). Every method runs inside the unit of work's transaction and sees
that transaction's own earlier writes.
"""

from __future__ import annotations

import abc
from datetime import datetime

import attrs

__all__ = ["ClaimedFeedbackToken", "FeedbackTokenStore"]


@attrs.frozen
class ClaimedFeedbackToken:
    """A feedback token that has been used: for which ticket, and when."""

    token_id: str
    ticket_id: str
    used_at: datetime


class FeedbackTokenStore(abc.ABC):
    """Used feedback tokens."""

    @abc.abstractmethod
    def claim_feedback_token(self, token_id: str, ticket_id: str, at: datetime) -> bool:
        """Mark *token_id* used for *ticket_id* at *at*; False (writing nothing) if it was.

        A concurrent claim of the same token in another unit of work waits for
        that one to finish, then returns False if it committed.
        """

    @abc.abstractmethod
    def get_feedback_token(self, token_id: str) -> ClaimedFeedbackToken | None:
        """The claim of *token_id*, or None when it was never used."""
