"""Setting the kind of support of a ticket: the one way triage and agents do it."""

from __future__ import annotations

from .domain._model import Ticket
from .domain._service_events import KindSet
from .policies._kinds import check_kind
from .typing import DeskContext

__all__ = ["set_kind_in"]


def set_kind_in(ctx: DeskContext, ticket: Ticket, kind: str, *, actor: str) -> None:
    """Set *ticket*'s kind inside a use case; records ``KindSet`` (nothing when unchanged)."""
    check_kind(kind, ctx.desk.kinds)
    previous = ticket.kind
    if previous == kind:
        return
    ctx.update(ticket, actor, custom_fields={**ticket.custom_fields, "kind": kind})
    ticket.record(KindSet(ticket.id, ctx.now, kind, previous, actor))
