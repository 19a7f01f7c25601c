"""The in-transaction handler marking a request registered while its channel is closed."""

from __future__ import annotations

from .domain._events import TicketReceived
from .domain._service_events import ReceivedOutOfHours
from .typing import DeskContext

__all__ = ["OUT_OF_HOURS_FIELD", "mark_out_of_hours"]

#: the ticket field holding the out-of-hours facts of a request
OUT_OF_HOURS_FIELD = "out_of_hours"


def mark_out_of_hours(ctx: DeskContext, event: TicketReceived) -> None:
    """In-transaction handler: a new ticket on a closed channel records when it opens."""
    hours = ctx.desk.channel_hours
    if hours is None:
        return
    ticket = ctx.ticket(event.ticket_id)
    status = hours.status(ticket.channel, ticket.received_at)
    if status.open or status.next_open is None or status.action is None:
        return
    if status.next_open <= ctx.now:
        return  # received while closed, but registered after the opening: nothing to wait for
    ticket.custom_fields[OUT_OF_HOURS_FIELD] = {
        "next_open": status.next_open.isoformat(),
        "action": status.action.value,
        "redirect_to": status.redirect_to,
    }
    ticket.record(
        ReceivedOutOfHours(
            ticket.id,
            ctx.now,
            ticket.channel,
            status.next_open,
            status.action.value,
            status.redirect_to,
        )
    )
