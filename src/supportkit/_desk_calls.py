"""The desk's call use cases: log a call, read a ticket's calls, list callback tasks.

What a call keeps and how a callback works is described in :mod:`supportkit._calls`.
"""

from __future__ import annotations

from datetime import datetime

from ._calls import CALLBACKS_NAMESPACE, Callback, check_call, log_call_in
from ._context import DeskContext
from ._desk_core import DeskCore
from .domain._call import Call, CallOutcome, call_outcome
from .domain._errors import NotFound
from .domain._model import Attachment, Message

__all__ = ["CallUseCases"]


class CallUseCases(DeskCore):
    def log_call(
        self,
        ticket_id: str,
        author: str,
        *,
        direction: str,
        duration_seconds: int,
        notes: str,
        caller: str | None = None,
        outcome: str | CallOutcome | None = None,
        call_id: str | None = None,
        started_at: datetime | None = None,
        recording_url: str | None = None,
        recording: Attachment | None = None,
        transcript: str | None = None,
    ) -> Message:
        """Log a phone call on a ticket: a message (inbound or outbound) with the call's facts.

        *outcome* defaults to ``answered`` for a call that lasted, ``missed``
        otherwise. *recording_url* is where the telephony system keeps the
        recording; *recording* is one kept in an attachment store
        (``store.put(...)``), attached to the message. An outbound call
        completes a pending callback of the ticket.
        """
        check_call(direction, duration_seconds, notes, recording_url, recording)
        kept = call_outcome(outcome, duration_seconds)

        def use_case(ctx: DeskContext) -> Message:
            t = ctx.ticket(ticket_id)
            return log_call_in(
                ctx,
                t.id,
                author,
                direction=direction,
                duration_seconds=duration_seconds,
                notes=notes,
                caller=caller,
                outcome=kept,
                call_id=call_id,
                started_at=started_at,
                recording_url=recording_url,
                recording=recording,
                transcript=transcript,
            )

        return self.run(use_case)

    def calls(self, ticket_id: str) -> list[Call]:
        """The calls logged on a ticket, oldest first."""
        with self.storage.unit_of_work() as uow:
            messages = uow.messages_for(ticket_id)
        return [c for c in (Call.from_message(m) for m in messages) if c is not None]

    def callbacks(self, *, status: str | None = None) -> list[Callback]:
        """Callback tasks, earliest due first (``status``: scheduled, due or done)."""
        with self.storage.unit_of_work() as uow:
            rows = [row for _, row in uow.kv_items(CALLBACKS_NAMESPACE)]
        found = [Callback.from_row(r) for r in rows]
        return sorted(
            (c for c in found if status is None or c.status == status), key=lambda c: c.due_at
        )

    def callback_for(self, ticket_id: str) -> Callback:
        with self.storage.unit_of_work() as uow:
            row = uow.kv_get(CALLBACKS_NAMESPACE, ticket_id)
        if row is None:
            raise NotFound("callback", ticket_id)
        return Callback.from_row(row)
