"""Customer profiles: identities across channels, merging, notes, history."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TypeVar

import attrs

from ._context import DeskContext
from ._desk_core import DeskCore, require_text
from ._desk_identity import merge_customers_in
from .domain._errors import (
    DuplicateError,
    ValidationError,
)
from .domain._events import (
    CustomerUpdated,
)
from .domain._model import (
    Customer,
    Identity,
    Message,
    Ticket,
)
from .ports._storage import TicketQuery

log = logging.getLogger("supportkit")
T = TypeVar("T")


@attrs.frozen
class CustomerHistory:
    """A customer's profile as agents see it: every ticket, the messages on the
    listed tickets, the agents' notes on the customer, and how many tickets are open."""

    customer: Customer
    tickets: tuple[Ticket, ...]
    message_count: int
    open_count: int
    ticket_count: int = 0
    messages: tuple[Message, ...] = ()
    notes: tuple[CustomerNote, ...] = ()


@attrs.frozen
class CustomerNote:
    """An agent's note on a customer (not on a ticket): kept on the profile."""

    at: datetime
    author: str
    text: str


class CustomerUseCases(DeskCore):
    # ------------------------------------------------------------------ customers
    def add_identity(self, customer_id: str, channel: str, address: str) -> Customer:
        """Teach the desk that *address* on *channel* is this customer too."""
        ident = Identity.of(channel, address)

        def use_case(ctx: DeskContext) -> Customer:
            c = ctx.uow.get_customer(customer_id)
            owner = ctx.uow.find_customer_by_identity(ident)
            if owner is not None and owner.id != c.id:
                raise DuplicateError(
                    f"{channel}:{address} belongs to customer {owner.id!r}; "
                    f"use merge_customers({owner.id!r}, into={c.id!r})"
                )
            if ident not in c.identities:
                c.identities.append(ident)
                ctx.uow.save_customer(c)
                ctx.record(
                    CustomerUpdated("", ctx.now, c.id, f"identity {ident.channel}:{ident.address}")
                )
            return c

        return self.run(use_case)

    def merge_customers(
        self,
        source_id: str,
        *,
        into: str,
        actor: str = "system",
        reason: str = "merged by hand",
    ) -> Customer:
        """Merge two profiles of one person: identities and tickets move to *into*.

        The merge is remembered on the source profile, so
        ``desk.split_customer(source_id, ...)`` undoes it.
        """
        if source_id == into:
            raise ValidationError("cannot merge a customer into itself")

        def use_case(ctx: DeskContext) -> Customer:
            src = ctx.uow.get_customer(source_id)
            dst = ctx.uow.get_customer(into)
            return merge_customers_in(ctx, src, dst, reason=reason, actor=actor)

        return self.run(use_case)

    def get_customer(self, customer_id: str) -> Customer:
        with self.storage.unit_of_work() as uow:
            return uow.get_customer(customer_id)

    def find_customer(self, channel: str, address: str) -> Customer | None:
        """Look a customer up by any of their identities."""
        ident = Identity.of(channel, address)
        with self.storage.unit_of_work() as uow:
            c = uow.find_customer_by_identity(ident)
            while c is not None and c.merged_into:
                c = uow.get_customer(c.merged_into)
            return c

    def add_customer_note(self, customer_id: str, author: str, text: str) -> CustomerNote:
        """An agent's note on the customer's profile, shown with their history."""
        require_text(text, "customer note")

        def use_case(ctx: DeskContext) -> CustomerNote:
            c = ctx.uow.get_customer(customer_id)
            while c.merged_into:
                c = ctx.uow.get_customer(c.merged_into)
            note = CustomerNote(ctx.now, author, text)
            notes = list(c.attributes.get("notes", []))
            notes.append({"at": ctx.now.isoformat(), "author": author, "text": text})
            c.attributes = {**c.attributes, "notes": notes}
            ctx.uow.save_customer(c)
            ctx.record(CustomerUpdated("", ctx.now, c.id, f"note by {author}"))
            return note

        return self.run(use_case)

    def customer_history(self, customer_id: str, *, limit: int = 100) -> CustomerHistory:
        """The customer's profile: tickets (newest first, up to *limit*), their
        messages, agents' notes on the customer, and counts over all tickets.

        A profile merged into another resolves to the one it was merged into.
        """
        with self.storage.unit_of_work() as uow:
            customer = uow.get_customer(customer_id)
            while customer.merged_into:
                customer = uow.get_customer(customer.merged_into)
            tickets = uow.find_tickets(TicketQuery(customer_id=customer.id, limit=limit))
            messages = tuple(m for t in tickets for m in uow.messages_for(t.id))
            total = uow.count_tickets(TicketQuery(customer_id=customer.id))
            open_statuses = sorted(self.open_statuses())
            open_count = uow.count_tickets(
                TicketQuery(customer_id=customer.id, status=open_statuses)
            )
        notes = tuple(
            CustomerNote(datetime.fromisoformat(n["at"]), n["author"], n["text"])
            for n in customer.attributes.get("notes", [])
        )
        return CustomerHistory(
            customer,
            tuple(tickets),
            len(messages),
            open_count,
            ticket_count=total,
            messages=messages,
            notes=notes,
        )
