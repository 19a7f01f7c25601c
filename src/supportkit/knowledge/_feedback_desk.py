"""Collecting customer feedback on the desk: :class:`FeedbackCollector`.

Install it as ``SupportDesk(extensions=[FeedbackCollector(signer, ...)])``:

- when a ticket is resolved (and has no answer yet) it issues a signed,
  expiring token, builds the link from the host's ``url_template`` and
  records :class:`FeedbackRequested` (the host's notifier sends the link,
  or the collector posts it as a message with ``message_template``);
- if the customer has not answered after ``reminder_after`` a timer asks
  again with a fresh link (``reminders`` times at most); an answer, or a
  reopened ticket, cancels it;
- :meth:`FeedbackCollector.submit` verifies the token, claims its nonce in
  the ``feedback-tokens`` namespace, stores the answer in ``feedback``
  (``{ticket_id, csat, nps, comment, at}``, the shape the metrics read),
  records :class:`FeedbackReceived` and, for a low score, opens the
  complaint path of the :class:`ComplaintPolicy`. All in one transaction:
  a forged, expired or reused token, or a second answer on the ticket, is
  refused with a :class:`~supportkit.policies.FeedbackTokenError` and
  records nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from supportkit.domain._errors import ConfigurationError
from supportkit.domain._events import DomainEvent, StatusChanged, register_event
from supportkit.domain._model import Direction, Ticket
from supportkit.policies._feedback import (
    FeedbackResponse,
    FeedbackTokenError,
    FeedbackTokenReused,
    FeedbackTokenSigner,
)
from supportkit.ports._storage import FeedbackAnswer, Timer, UnitOfWork

from ._complaints import ComplaintPolicy

if TYPE_CHECKING:
    from supportkit.typing import Desk, DeskContext

__all__ = [
    "FEEDBACK_NAMESPACE",
    "REMINDER_TIMER",
    "ComplaintOpened",
    "FeedbackAlreadyGiven",
    "FeedbackCollector",
    "FeedbackReceived",
    "FeedbackRequested",
    "KvFeedbackLedger",
]

#: the key-value namespace answers were kept in before core schema 4 moved them to the
#: typed FeedbackAnswerStore (``uow.get_feedback_answer``); kept for code that names it
FEEDBACK_NAMESPACE = "feedback"
REMINDER_TIMER = "feedback.reminder"


@register_event("feedback.requested")
@attrs.frozen
class FeedbackRequested(DomainEvent):
    """A feedback link was issued for the ticket (``reminder`` counts earlier requests)."""

    token_id: str
    url: str
    expires_at: datetime
    reminder: int = 0


@register_event("feedback.received")
@attrs.frozen
class FeedbackReceived(DomainEvent):
    """The customer answered: CSAT 1-5, optional NPS 0-10 and comment."""

    csat: int
    nps: int | None
    comment: str
    token_id: str
    complaint: bool = False


@register_event("feedback.complaint_opened")
@attrs.frozen
class ComplaintOpened(DomainEvent):
    """A low score opened the complaint path (``complaint_ticket_id`` for a new ticket)."""

    action: str
    csat: int
    complaint_ticket_id: str | None = None


class FeedbackAlreadyGiven(FeedbackTokenError):
    def __init__(self, ticket_id: str) -> None:
        self.ticket_id = ticket_id
        super().__init__(
            f"ticket {ticket_id!r} already has the customer's feedback; "
            "each ticket takes one answer"
        )


class KvFeedbackLedger:
    """The :class:`~supportkit.policies.FeedbackLedger` of a unit of work.

    Claims go through the storage's :class:`~supportkit.ports.FeedbackTokenStore`,
    so the database decides which of two concurrent answers with one link wins.
    """

    def __init__(self, uow: UnitOfWork, *, at: datetime, ticket_id: str) -> None:
        self.uow = uow
        self.at = at
        self.ticket_id = ticket_id

    def claim(self, token_id: str) -> None:
        if not self.uow.claim_feedback_token(token_id, self.ticket_id, self.at):
            raise FeedbackTokenReused(token_id)


class FeedbackCollector:
    """Ask for feedback after resolution and take the answer (a desk extension).

    *url_template* is formatted with ``token``, ``ticket_id`` and ``number``,
    e.g. ``"https://help.example.com/feedback?t={token}"``. With
    *message_template* (formatted with ``url`` and ``number``) the request is
    also posted to the customer as an outbound message on the ticket.
    """

    def __init__(
        self,
        signer: FeedbackTokenSigner,
        *,
        url_template: str = "{token}",
        reminder_after: timedelta | None = timedelta(days=3),
        reminders: int = 1,
        complaints: ComplaintPolicy | None = None,
        message_template: str | None = None,
        resolved_status: str = "resolved",
        actor: str = "feedback",
    ) -> None:
        if "{token}" not in url_template:
            raise ConfigurationError(
                f"url_template {url_template!r} must contain {{token}}, where the link "
                "carries the signed token"
            )
        if reminder_after is not None and reminder_after <= timedelta(0):
            raise ConfigurationError(f"reminder_after must be positive, got {reminder_after}")
        if reminders < 0:
            raise ConfigurationError(f"reminders must be >= 0, got {reminders}")
        self.signer = signer
        self.url_template = url_template
        self.reminder_after = reminder_after
        self.reminders = reminders
        self.complaints = complaints
        self.message_template = message_template
        self.resolved_status = resolved_status
        self.actor = actor
        self._desk: Desk | None = None

    # -- wiring ------------------------------------------------------------------------
    def install(self, desk: Desk) -> None:
        if self.complaints is not None:
            self.complaints.check(desk)
        self._desk = desk
        desk.on(StatusChanged, self._on_status)
        desk.on_timer(REMINDER_TIMER, self._on_reminder)

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            raise ConfigurationError(
                "FeedbackCollector is not installed; pass it in SupportDesk(extensions=[...])"
            )
        return self._desk

    @staticmethod
    def reminder_key(ticket_id: str) -> str:
        return f"{REMINDER_TIMER}:{ticket_id}"

    # -- asking ------------------------------------------------------------------------
    def _on_status(self, ctx: DeskContext, event: StatusChanged) -> None:
        if event.to_status == self.resolved_status:
            ticket = ctx.ticket(event.ticket_id)
            if ctx.uow.get_feedback_answer(ticket.id) is None:
                self._request(ctx, ticket, 0)
        elif event.from_status == self.resolved_status:
            ticket = ctx.ticket(event.ticket_id)
            if not ctx.desk.lifecycle_of(ticket).is_final(ticket.status):
                ctx.uow.cancel_timer(self.reminder_key(ticket.id))  # back at work

    def _request(self, ctx: DeskContext, ticket: Ticket, sent: int) -> None:
        token = self.signer.issue(ticket.id, ticket.customer_id, now=ctx.now)
        claim = self.signer.verify(token, now=ctx.now)
        url = self.url_template.format(token=token, ticket_id=ticket.id, number=ticket.number)
        ticket.record(
            FeedbackRequested(ticket.id, ctx.now, claim.token_id, url, claim.expires_at, sent)
        )
        final = ctx.desk.lifecycle_of(ticket).is_final(ticket.status)
        if self.message_template is not None and not final:
            ctx.add_message(
                ticket,
                Direction.OUTBOUND,
                self.actor,
                self.message_template.format(url=url, number=ticket.number),
                meta={"feedback_request": claim.token_id, "reminder": sent},
            )
        if self.reminder_after is not None and sent < self.reminders:
            ctx.uow.schedule_timer(
                Timer(
                    self.reminder_key(ticket.id),
                    ctx.now + self.reminder_after,
                    REMINDER_TIMER,
                    ticket.id,
                    {"sent": sent + 1},
                )
            )

    def _on_reminder(self, ctx: DeskContext, timer: Timer) -> None:
        ticket = ctx.ticket(timer.ticket_id)
        if ctx.uow.get_feedback_answer(ticket.id) is not None:
            return
        lifecycle = ctx.desk.lifecycle_of(ticket)
        if ticket.status != self.resolved_status and not lifecycle.is_final(ticket.status):
            return
        self._request(ctx, ticket, int(timer.payload.get("sent", 1)))

    # -- answering ---------------------------------------------------------------------
    def submit(
        self, token: str, csat: int, comment: str = "", *, nps: int | None = None
    ) -> FeedbackReceived:
        """Take the customer's answer from the feedback link.

        Raises :class:`~supportkit.policies.FeedbackTokenError` (malformed,
        forged, expired, reused, or the ticket already answered) or
        ``ValidationError`` for a bad score; nothing is recorded then.
        """
        response = FeedbackResponse(csat, comment, nps)

        def use_case(ctx: DeskContext) -> FeedbackReceived:
            claim = self.signer.verify(token, now=ctx.now)
            ticket = ctx.ticket(claim.ticket_id)
            KvFeedbackLedger(ctx.uow, at=ctx.now, ticket_id=ticket.id).claim(claim.token_id)
            answer = FeedbackAnswer(
                ticket.id, response.csat, response.nps, response.comment, ctx.now
            )
            if not ctx.uow.add_feedback_answer(answer):  # one answer per ticket, decided by a key
                raise FeedbackAlreadyGiven(ticket.id)
            ctx.uow.cancel_timer(self.reminder_key(ticket.id))
            policy = self.complaints
            complaint = policy is not None and policy.is_complaint(response)
            event = FeedbackReceived(
                ticket.id,
                ctx.now,
                response.csat,
                response.nps,
                response.comment,
                claim.token_id,
                complaint,
            )
            ticket.record(event)
            if policy is not None and complaint:
                opened = policy.open(ctx, ticket, response)
                ticket.record(
                    ComplaintOpened(
                        ticket.id,
                        ctx.now,
                        policy.action.value,
                        response.csat,
                        None if opened is None else opened.id,
                    )
                )
            return event

        return self.desk.run(use_case)

    def answer(self, ticket_id: str) -> dict[str, Any] | None:
        """The stored answer on a ticket (``{ticket_id, csat, nps, comment, at}``), or None."""
        with self.desk.storage.unit_of_work() as uow:
            found = uow.get_feedback_answer(ticket_id)
        if found is None:
            return None
        return {
            "ticket_id": found.ticket_id,
            "csat": found.csat,
            "nps": found.nps,
            "comment": found.comment,
            "at": found.at.isoformat(),
        }
