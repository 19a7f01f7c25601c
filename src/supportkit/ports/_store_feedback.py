"""The feedback ports: a signed feedback link is good for one answer, a ticket takes one.

Both are decided in the database: two processes claiming the same token, or
answering for the same ticket, at once get True once and False once (a
unique key, never a read followed by a write). Every method runs inside the
unit of work's transaction and sees that transaction's own earlier writes.
"""

from __future__ import annotations

import abc
from datetime import datetime

import attrs

__all__ = ["ClaimedFeedbackToken", "FeedbackAnswer", "FeedbackAnswerStore", "FeedbackTokenStore"]


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


@attrs.frozen
class FeedbackAnswer:
    """A customer's answer to the feedback request of a ticket (one per ticket)."""

    ticket_id: str
    csat: int
    nps: int | None
    comment: str
    at: datetime


class FeedbackAnswerStore(abc.ABC):
    """The customers' feedback answers, one per ticket."""

    @abc.abstractmethod
    def add_feedback_answer(self, answer: FeedbackAnswer) -> bool:
        """Store *answer*; False (writing nothing) if its ticket has an answer already.

        A concurrent answer for the same ticket in another unit of work waits
        for that one to finish, then returns False if it committed.
        """

    @abc.abstractmethod
    def get_feedback_answer(self, ticket_id: str) -> FeedbackAnswer | None:
        """The answer given on *ticket_id*, or None."""

    @abc.abstractmethod
    def feedback_answers_after(
        self, ticket_id: str | None, limit: int = 500
    ) -> list[FeedbackAnswer]:
        """Up to *limit* answers of tickets whose id sorts after *ticket_id* (None: from
        the first), ordered by ticket id: a keyset scan that reads all without loading all."""
