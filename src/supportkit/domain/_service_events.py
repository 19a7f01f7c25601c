"""Events of the service description's paths: channel hours, identities, complaints,
calls, kinds of support and training (issue 16).

Like every domain event they are recorded in the use case's transaction,
stored in the outbox and published after commit.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from ._events import DomainEvent, register_event

__all__ = [
    "CallLogged",
    "CallbackDue",
    "CallbackScheduled",
    "ComplaintRegistered",
    "CustomerLinked",
    "CustomerSplit",
    "IdentityMatchProposed",
    "KindSet",
    "ReceivedOutOfHours",
    "TrainingOffered",
    "TrainingSignedUp",
]


@register_event("ticket.out_of_hours")
@attrs.frozen
class ReceivedOutOfHours(DomainEvent):
    """The request came in while its channel was closed; ``next_open`` is when it opens.

    ``action`` is ``"queue"`` or ``"redirect"`` (then ``redirect_to`` names the channel).
    """

    channel: str
    next_open: datetime
    action: str
    redirect_to: str | None = None


@register_event("customer.linked")
@attrs.frozen
class CustomerLinked(DomainEvent):
    """Two profiles of one person were joined because an identity matched (``ticket_id``
    is the ticket whose message showed it, or empty). ``reason`` says which identity."""

    source_customer_id: str
    target_customer_id: str
    identity: str
    reason: str
    actor: str = "system"


@register_event("customer.match_proposed")
@attrs.frozen
class IdentityMatchProposed(DomainEvent):
    """An identity matched another profile's unverified identity: an agent decides."""

    proposal_id: str
    customer_id: str
    candidate_customer_id: str
    identity: str
    reason: str


@register_event("customer.split")
@attrs.frozen
class CustomerSplit(DomainEvent):
    """A merge was undone: the source profile got back its identities and tickets."""

    source_customer_id: str
    target_customer_id: str
    reason: str
    actor: str


@register_event("ticket.complaint")
@attrs.frozen
class ComplaintRegistered(DomainEvent):
    """The ticket is a complaint: ``how`` is ``"flag"``, ``"keywords"`` or ``"triage"``;
    ``converted`` when the ticket itself moved to the complaint lifecycle, else
    ``complaint_ticket_id`` names the complaint opened from it."""

    how: str
    reason: str
    converted: bool
    complaint_ticket_id: str | None = None


@register_event("ticket.call_logged")
@attrs.frozen
class CallLogged(DomainEvent):
    """A phone call was logged on the ticket (the call itself is the message's ``meta["call"]``)."""

    message_id: str
    call_id: str
    direction: str
    outcome: str
    duration_seconds: int
    recording: str | None = None


@register_event("ticket.callback_scheduled")
@attrs.frozen
class CallbackScheduled(DomainEvent):
    """The customer is to be called back by ``due_at`` (a phone request outside hours)."""

    number: str
    due_at: datetime
    reason: str


@register_event("ticket.callback_due")
@attrs.frozen
class CallbackDue(DomainEvent):
    """A scheduled callback is due now: an agent should call ``number``."""

    number: str
    due_at: datetime


@register_event("ticket.kind_set")
@attrs.frozen
class KindSet(DomainEvent):
    """The kind of support the ticket needs was set (by triage or an agent)."""

    kind: str
    previous: str | None
    actor: str


@register_event("ticket.training_offered")
@attrs.frozen
class TrainingOffered(DomainEvent):
    """Training was offered as the answer: a knowledge-base guide or a scheduled session."""

    offer: str  # "guide" | "session"
    title: str
    reference: str  # the article id, or the session id
    url: str
    starts_at: datetime | None = None


@register_event("ticket.training_signed_up")
@attrs.frozen
class TrainingSignedUp(DomainEvent):
    """The customer signed up for the offered session through their signed link."""

    session_id: str
