"""Complaints as a first-class path: an inbound complaint takes the complaint lifecycle.

Install :class:`ComplaintIntake` as ``SupportDesk(lifecycles=[complaint_lifecycle()],
extensions=[ComplaintIntake(...)])``. A customer message is a complaint when

- the host's form says so: ``meta["complaint"]`` is true (an explicit flag), or
- the host's triage tagged the new ticket with the complaint tag (``TriageRule(...,
  tags={"complaint"})`` through :class:`TriageOnRegistration`), or
- it contains one of the complaint keywords (English and Russian by default,
  matched on stems: "complaints", "жалобу", "претензию" ...).

A **new** ticket that is a complaint is converted at registration: it moves
to the complaint lifecycle (received → registered → investigating → answered
→ closed), is tagged, given a high priority, handed to the supervisor team
and/or escalated to the supervisor tier, so an SLA rule for that team or tier
is its own SLA. A complaint **written on an open ticket** opens a complaint
ticket linked to it both ways (as a low feedback score does). Each records
:class:`~supportkit.domain.ComplaintRegistered` (how it was recognised and why).

When a complaint is answered its ``resolved_at`` is set (and cleared if it is
reinvestigated), so resolution time is measured the same way for complaints
as for every ticket; :func:`supportkit.metrics.complaint_metrics` reports
their count, resolution time and share of tickets.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from supportkit.domain._errors import ConfigurationError
from supportkit.domain._events import MessageAdded, StatusChanged, TicketUpdated
from supportkit.domain._model import Direction, HistoryEntry, Priority, Ticket, is_complaint
from supportkit.domain._service_events import ComplaintRegistered
from supportkit.policies._triage import Triage, TriageRule

from ._complaints import hand_to_supervisor, open_complaint_ticket
from ._stem import Analyzer

if TYPE_CHECKING:
    from supportkit.typing import Desk, DeskContext

__all__ = ["DEFAULT_COMPLAINT_KEYWORDS", "ComplaintIntake"]

#: phrases that make a message a complaint, per language (matched on stems)
DEFAULT_COMPLAINT_KEYWORDS: Mapping[str, Sequence[str]] = {
    "en": ("complaint", "complain", "unacceptable", "outrageous"),
    "ru": ("жалоба", "пожаловаться", "претензия", "возмутительно"),
}

COMPLAINT_FIELD = "complaint"


class ComplaintIntake:
    """Recognise inbound complaints and put them on the complaint path (module docstring)."""

    def __init__(
        self,
        *,
        keywords: Mapping[str, Iterable[str]] | None = DEFAULT_COMPLAINT_KEYWORDS,
        tag: str = "complaint",
        flag: str = "complaint",
        lifecycle: str = "complaint",
        supervisor_tier: str | None = None,
        supervisor_team: str | None = None,
        priority: Priority | None = Priority.HIGH,
        actor: str = "complaints",
        analyzer: Analyzer | None = None,
    ) -> None:
        self.tag = tag
        self.flag = flag
        self.lifecycle = lifecycle
        self.supervisor_tier = supervisor_tier
        self.supervisor_team = supervisor_team
        self.priority = priority
        self.actor = actor
        words = [w for ws in (keywords or {}).values() for w in ws]
        self._triage = (
            Triage(
                [TriageRule("complaint-keywords", keywords=words, tags={tag})],
                terms=(analyzer or Analyzer()).terms,
            )
            if words
            else None
        )

    def install(self, desk: Desk) -> None:
        probe = types.SimpleNamespace(id="(complaint)", lifecycle=self.lifecycle)
        complaint = desk.lifecycle_of(probe)  # type: ignore[arg-type]
        if "registered" not in complaint.states:
            raise ConfigurationError(
                f"lifecycle {self.lifecycle!r} has no 'registered' state to convert "
                "new complaints into"
            )
        if self.supervisor_tier is not None:
            desk.check_tier(self.supervisor_tier)
        desk.on(StatusChanged, self._on_status)
        desk.on(MessageAdded, self._on_message)

    # -- recognising --------------------------------------------------------------------
    def recognise(
        self, ticket: Ticket, text: str, meta: Mapping[str, Any], *, by_tags: bool = True
    ) -> tuple[str, str] | None:
        """``(how, reason)`` when this message is a complaint, else None.

        *by_tags*: the ticket's complaint tag counts (at registration, where
        triage just set it; a later message is judged on its own words).
        """
        if meta.get(self.flag):
            return "flag", "the customer's form marked it as a complaint"
        if by_tags and self.tag in ticket.tags:
            return "triage", f"triage tagged it {self.tag!r}"
        if self._triage is not None:
            result = self._triage.classify(ticket.subject, text, channel=ticket.channel)
            if result.matched_rules:
                return "keywords", "the message uses complaint wording"
        return None

    # -- handlers -----------------------------------------------------------------------
    def _on_status(self, ctx: DeskContext, event: StatusChanged) -> None:
        ticket = ctx.ticket(event.ticket_id)
        if is_complaint(ticket, lifecycle=self.lifecycle):
            if event.to_status == "answered":
                ticket.resolved_at = event.at
            elif event.from_status == "answered" and event.to_status != "closed":
                ticket.resolved_at = None
            return
        if event.event != "register":
            return
        first = next(
            (m for m in ctx.uow.messages_for(ticket.id) if m.direction is Direction.INBOUND), None
        )
        found = self.recognise(ticket, first.text if first else "", first.meta if first else {})
        if found is not None:
            self._convert(ctx, ticket, *found)

    def _on_message(self, ctx: DeskContext, event: MessageAdded) -> None:
        if event.direction != Direction.INBOUND.value:
            return
        ticket = ctx.ticket(event.ticket_id)
        if (
            is_complaint(ticket, lifecycle=self.lifecycle)
            or ticket.registered_at is None
            or COMPLAINT_FIELD in ticket.custom_fields
        ):
            return
        inbound = [m for m in ctx.uow.messages_for(ticket.id) if m.direction is Direction.INBOUND]
        if len(inbound) < 2 or inbound[-1].id != event.message_id:
            return  # the first message: registration decides
        msg = inbound[-1]
        found = self.recognise(ticket, msg.text, msg.meta, by_tags=False)
        if found is None:
            return
        how, reason = found
        complaint = open_complaint_ticket(
            ctx,
            ticket,
            text=msg.text,
            reason=reason,
            lifecycle=self.lifecycle,
            tag=self.tag,
            channel=msg.channel,
            actor=self.actor,
            meta={"complaint": True},
        )
        ticket.record(ComplaintRegistered(ticket.id, ctx.now, how, reason, False, complaint.id))
        self._supervise(ctx, complaint, reason)

    # -- the path -----------------------------------------------------------------------
    def _convert(self, ctx: DeskContext, ticket: Ticket, how: str, reason: str) -> None:
        before = ticket.lifecycle
        ticket.lifecycle = self.lifecycle
        ctx.uow.add_history(
            HistoryEntry(
                ticket.id,
                ctx.now,
                self.actor,
                "convert_to_complaint",
                ticket.status,
                ticket.status,
                f"{before} -> {self.lifecycle}: {reason}",
            )
        )
        ticket.record(TicketUpdated(ticket.id, ctx.now, {"lifecycle": self.lifecycle}, self.actor))
        changes: dict[str, Any] = {"tags": ticket.tags | {self.tag}}
        if self.priority is not None and ticket.priority < self.priority:
            changes["priority"] = self.priority
        ctx.update(ticket, self.actor, **changes)
        ticket.record(ComplaintRegistered(ticket.id, ctx.now, how, reason, True))
        self._supervise(ctx, ticket, reason)

    def _supervise(self, ctx: DeskContext, ticket: Ticket, reason: str) -> None:
        hand_to_supervisor(
            ctx,
            ticket,
            team=self.supervisor_team,
            tier=self.supervisor_tier,
            actor=self.actor,
            reason=f"complaint: {reason}",
        )
