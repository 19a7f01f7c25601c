"""The complaint path: what a low feedback score does to the ticket.

:class:`ComplaintPolicy` says when an answer is a complaint (CSAT at or
below ``threshold``) and what happens then:

- ``reopen``: the resolved ticket goes back to work (``reopen``);
- ``supervisor``: reopened and escalated to a supervisor tier (the routing
  extension then gives it to that tier's team) and/or handed to a team;
- ``complaint_ticket``: a new ticket on the complaint lifecycle
  (received → registered → investigating → answered → closed), linked to
  the original both ways. :data:`COMPLAINT_LIFECYCLE` is the shipped
  example of a custom lifecycle; pass ``complaint_lifecycle()`` in
  ``SupportDesk(lifecycles=[...])``.

A ticket that is already closed cannot be reopened or escalated: the
``reopen`` and ``supervisor`` paths then leave a note for the team instead.
"""

from __future__ import annotations

import enum
import types
from typing import TYPE_CHECKING, Any

import attrs

from supportkit.domain._errors import ConfigurationError
from supportkit.domain._events import TicketReceived
from supportkit.domain._lifecycle import (
    Lifecycle,
    LifecycleDefinition,
    TransitionDef,
    requires,
)
from supportkit.domain._model import Direction, Priority, Ticket
from supportkit.policies._feedback import FeedbackResponse

if TYPE_CHECKING:
    from supportkit.typing import Desk, DeskContext

__all__ = [
    "COMPLAINT_LIFECYCLE",
    "ComplaintAction",
    "ComplaintPolicy",
    "complaint_lifecycle",
    "hand_to_supervisor",
    "open_complaint_ticket",
]

COMPLAINT_LIFECYCLE = LifecycleDefinition(
    name="complaint",
    states=("received", "registered", "investigating", "answered", "closed"),
    initial="received",
    final={"closed"},
    transitions=(
        TransitionDef("register", ("received",), "registered"),
        TransitionDef("investigate", ("registered",), "investigating"),
        TransitionDef(
            "answer",
            ("investigating",),
            "answered",
            guards=(requires("reason", "the answer given to the customer"),),
        ),
        TransitionDef("reinvestigate", ("answered",), "investigating"),
        TransitionDef("close", ("answered",), "closed"),
    ),
    public_labels={
        "received": "complaint received",
        "registered": "complaint registered",
        "investigating": "being investigated",
        "answered": "answered",
        "closed": "closed",
    },
)


def complaint_lifecycle() -> Lifecycle:
    """The complaint lifecycle, for ``SupportDesk(lifecycles=[complaint_lifecycle()])``."""
    return Lifecycle(COMPLAINT_LIFECYCLE)


class ComplaintAction(enum.StrEnum):
    REOPEN = "reopen"
    SUPERVISOR = "supervisor"
    COMPLAINT_TICKET = "complaint_ticket"


def _threshold(_: object, __: object, value: int) -> None:
    if not 1 <= value <= 5:
        raise ConfigurationError(f"complaint threshold is a CSAT score 1-5, got {value!r}")


@attrs.frozen
class ComplaintPolicy:
    """When a feedback answer is a complaint (CSAT <= *threshold*) and what it opens."""

    action: ComplaintAction = attrs.field(default=ComplaintAction.REOPEN, converter=ComplaintAction)
    threshold: int = attrs.field(default=2, validator=_threshold)
    supervisor_tier: str | None = None
    supervisor_team: str | None = None
    lifecycle: str = "complaint"
    tag: str = "complaint"
    actor: str = "feedback"

    def is_complaint(self, response: FeedbackResponse) -> bool:
        return response.is_low(self.threshold)

    def check(self, desk: Desk) -> None:
        """Refuse a policy the desk cannot carry out (unknown lifecycle or tier)."""
        if self.action is ComplaintAction.COMPLAINT_TICKET:
            probe = types.SimpleNamespace(id="(complaint)", lifecycle=self.lifecycle)
            desk.lifecycle_of(probe)  # type: ignore[arg-type]
        if self.action is ComplaintAction.SUPERVISOR:
            if self.supervisor_tier is None and self.supervisor_team is None:
                raise ConfigurationError(
                    "ComplaintPolicy(action='supervisor') needs supervisor_tier=... "
                    "or supervisor_team=..."
                )
            if self.supervisor_tier is not None:
                desk.check_tier(self.supervisor_tier)

    def open(self, ctx: DeskContext, ticket: Ticket, response: FeedbackResponse) -> Ticket | None:
        """Carry out the complaint path inside the feedback use case.

        Returns the complaint ticket when one was opened.
        """
        reason = f"low feedback score: CSAT {response.csat}/5"
        if response.comment.strip():
            reason += f": {response.comment.strip()[:200]}"
        ctx.update(ticket, self.actor, tags=ticket.tags | {self.tag})
        if self.action is ComplaintAction.COMPLAINT_TICKET:
            return self._complaint_ticket(ctx, ticket, response, reason)
        lifecycle = ctx.desk.lifecycle_of(ticket)
        if lifecycle.is_final(ticket.status):
            ctx.add_message(
                ticket,
                Direction.NOTE,
                self.actor,
                f"Complaint on a closed ticket ({reason}); it was not reopened.",
                meta={"complaint": True},
            )
            return None
        if ticket.status == "resolved" and lifecycle.can_fire(ticket.status, "reopen"):
            ctx.transition(ticket, "reopen", self.actor, reason)
            ticket.reopen_count += 1
            ticket.resolved_at = None
        if self.action is ComplaintAction.SUPERVISOR:
            hand_to_supervisor(
                ctx,
                ticket,
                team=self.supervisor_team,
                tier=self.supervisor_tier,
                actor=self.actor,
                reason=reason,
            )
        return None

    def _complaint_ticket(
        self, ctx: DeskContext, original: Ticket, response: FeedbackResponse, reason: str
    ) -> Ticket:
        complaint = open_complaint_ticket(
            ctx,
            original,
            text=response.comment.strip() or f"CSAT {response.csat}/5, no comment",
            reason=reason,
            lifecycle=self.lifecycle,
            tag=self.tag,
            channel="feedback",
            actor=self.actor,
            meta={"feedback": True, "csat": response.csat, "nps": response.nps},
            fields={"csat": response.csat},
        )
        return complaint


def open_complaint_ticket(
    ctx: DeskContext,
    original: Ticket,
    *,
    text: str,
    reason: str,
    lifecycle: str,
    tag: str,
    channel: str,
    actor: str,
    meta: dict[str, Any],
    fields: dict[str, Any] | None = None,
) -> Ticket:
    """A new ticket on the complaint *lifecycle* about *original*, linked both ways
    (``complaint_of`` on the complaint, ``complaint`` on the original); the one way
    every path (a low feedback score, a complaint written on a ticket) opens one."""
    desk = ctx.desk
    lc = desk.lifecycle_of(
        types.SimpleNamespace(id="(complaint)", lifecycle=lifecycle)  # type: ignore[arg-type]
    )
    complaint = Ticket(
        id=desk.new_id(),
        number=ctx.uow.next_ticket_number(),
        subject=f"Complaint about #{original.number}: {original.subject}"[:300],
        customer_id=original.customer_id,
        channel=channel,
        status=lc.initial,
        received_at=ctx.now,
        priority=Priority.HIGH,
        tier=original.tier,
        team_id=original.team_id,
        tags=frozenset({tag}),
        language=original.language,
        lifecycle=lc.name,
        updated_at=ctx.now,
        custom_fields={
            "complaint_of": original.id,
            "complaint_of_number": original.number,
            **(fields or {}),
        },
    )
    ctx.adopt_new(complaint)
    complaint.record(
        TicketReceived(
            complaint.id,
            ctx.now,
            complaint.number,
            complaint.channel,
            complaint.customer_id,
            complaint.subject,
        )
    )
    ctx.add_message(
        complaint, Direction.INBOUND, original.customer_id, text, channel=channel, meta=meta
    )
    if lc.can_fire(complaint.status, "register"):
        ctx.transition(complaint, "register", actor, reason)
        complaint.registered_at = ctx.now
    ctx.update(
        original,
        actor,
        custom_fields={**original.custom_fields, "complaint": complaint.number},
    )
    return complaint


def hand_to_supervisor(
    ctx: DeskContext,
    ticket: Ticket,
    *,
    team: str | None,
    tier: str | None,
    actor: str,
    reason: str,
) -> None:
    """Give a complaint to the supervisors: their team (unassigned from the agent) and tier."""
    if team is not None and ticket.team_id != team:
        if ticket.assignee_id is not None:
            ctx.assign(ticket, None, actor=actor, strategy="complaint")
        ctx.update(ticket, actor, team_id=team)
    if tier is not None and ticket.tier != tier:
        ctx.escalate(ticket, tier, actor=actor, reason=reason, policy="complaint")
