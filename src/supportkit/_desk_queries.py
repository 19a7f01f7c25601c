"""Reading the desk: tickets, messages, history, events, search and tracking."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

import attrs

from ._desk_core import DeskCore
from .domain._errors import (
    NotFound,
    ValidationError,
)
from .domain._events import (
    DomainEvent,
)
from .domain._model import (
    Direction,
    HistoryEntry,
    Message,
    Priority,
    Ticket,
)
from .ports._storage import TicketQuery

log = logging.getLogger("supportkit")
T = TypeVar("T")


@attrs.frozen
class TicketTracking:
    """A ticket as its customer sees it: no internal notes, no agent names."""

    number: int
    subject: str
    status: str
    status_label: str
    received_at: datetime
    updated_at: datetime | None
    resolved: bool
    closed: bool
    public_messages: int
    timeline: tuple[tuple[datetime, str], ...]


class TicketQueries(DeskCore):
    # ------------------------------------------------------------------ queries
    def get_ticket(self, ticket_id: str) -> Ticket:
        with self.storage.unit_of_work() as uow:
            return uow.get_ticket(ticket_id)

    def get_ticket_by_number(self, number: int) -> Ticket:
        with self.storage.unit_of_work() as uow:
            return uow.get_ticket_by_number(number)

    def messages(self, ticket_id: str, *, include_notes: bool = True) -> list[Message]:
        with self.storage.unit_of_work() as uow:
            uow.get_ticket(ticket_id)
            msgs = uow.messages_for(ticket_id)
        if not include_notes:
            msgs = [m for m in msgs if m.direction is not Direction.NOTE]
        return msgs

    def history(self, ticket_id: str) -> list[HistoryEntry]:
        with self.storage.unit_of_work() as uow:
            uow.get_ticket(ticket_id)
            return uow.history_for(ticket_id)

    def events(self, ticket_id: str) -> list[DomainEvent]:
        with self.storage.unit_of_work() as uow:
            return [se.event for se in uow.events_for(ticket_id)]

    def find_tickets(
        self,
        *,
        status: str | Sequence[str] | None = None,
        customer_id: str | None = None,
        assignee_id: str | None = None,
        team_id: str | None = None,
        tier: str | None = None,
        priority: Priority | int | None = None,
        channel: str | None = None,
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
        oldest_first: bool = False,
        team_ids: Sequence[str | None] | None = None,
        tag: str | None = None,
        before_number: int | None = None,
        after_number: int | None = None,
    ) -> list[Ticket]:
        """Tickets matching every given filter, newest first (unless ``oldest_first``).

        ``team_ids`` keeps tickets of any of those teams (``None``: no team yet);
        ``before_number``/``after_number`` page by ticket number (see :class:`TicketQuery`).
        """
        if limit < 0 or offset < 0:
            raise ValidationError(f"limit and offset must be >= 0 (got {limit}, {offset})")
        if tier is not None:
            self.check_tier(tier)
        q = TicketQuery(
            status=status,
            customer_id=customer_id,
            assignee_id=assignee_id,
            team_id=team_id,
            tier=tier,
            priority=Priority(priority) if priority is not None else None,
            channel=channel,
            text=text,
            limit=limit,
            offset=offset,
            oldest_first=oldest_first,
            team_ids=tuple(team_ids) if team_ids is not None else None,
            tag=tag,
            before_number=before_number,
            after_number=after_number,
        )
        with self.storage.unit_of_work() as uow:
            return uow.find_tickets(q)

    def track(self, number: int, *, customer_address: str | None = None) -> TicketTracking:
        """The ticket's status as its customer sees it (for a status-tracking page).

        With *customer_address*, the ticket is shown only if it belongs to
        that customer (else NotFound, never revealing it exists).
        """
        with self.storage.unit_of_work() as uow:
            t = uow.get_ticket_by_number(number)
            if customer_address is not None:
                c = uow.get_customer(t.customer_id)
                if all(
                    i.address != customer_address.strip().lower()
                    and i.address != customer_address.strip()
                    for i in c.identities
                ):
                    raise NotFound("ticket", f"#{number}", "no such ticket for this customer")
            msgs = uow.messages_for(t.id)
            hist = uow.history_for(t.id)
        lc = self.lifecycle_of(t)
        labels = lc.definition
        return TicketTracking(
            number=t.number,
            subject=t.subject,
            status=t.status,
            status_label=labels.public_label(t.status),
            received_at=t.received_at,
            updated_at=t.updated_at,
            resolved=t.status == "resolved",
            closed=lc.is_final(t.status),
            public_messages=sum(1 for m in msgs if m.direction is not Direction.NOTE),
            timeline=tuple(
                (h.at, labels.public_label(h.to_status))
                for h in hist
                if h.from_status != h.to_status
            ),
        )
