"""Inbound use cases: a customer's message becomes a ticket or joins the one it answers."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from ._context import DeskContext
from ._desk_core import DeskCore
from ._desk_identity import contacts_of, link_on_receive, propose_earlier_claims
from .domain._errors import (
    MalformedMessage,
    NotFound,
)
from .domain._events import (
    TicketReceived,
)
from .domain._language import detect_language
from .domain._model import (
    Attachment,
    Customer,
    Direction,
    Identity,
    Priority,
    Ticket,
    ensure_utc,
)

log = logging.getLogger("supportkit")
T = TypeVar("T")

_TOKEN_RE = re.compile(r"\[(?:ticket)?#(\d{1,12})\]", re.IGNORECASE)
_CTRL_RE = re.compile(r"[\r\n\x00]+")


class InboundUseCases(DeskCore):
    # ------------------------------------------------------------------ inbound
    def receive(
        self,
        channel: str,
        sender: str,
        text: str,
        *,
        subject: str = "",
        sender_name: str | None = None,
        html: str | None = None,
        attachments: Iterable[Attachment] = (),
        external_id: str | None = None,
        in_reply_to: str | None = None,
        references: Sequence[str] = (),
        ticket_id: str | None = None,
        received_at: datetime | None = None,
        priority: Priority | None = None,
        category: str | None = None,
        tags: Iterable[str] = (),
        language: str | None = None,
        meta: Mapping[str, Any] | None = None,
        contacts: Mapping[str, str] | Iterable[Identity] | None = None,
        sender_verified: bool | None = None,
    ) -> Ticket:
        """Take an inbound message: a new ticket, or a message threaded onto the one it answers.

        Threading, in order: ``ticket_id`` given; ``in_reply_to`` or
        ``references`` naming a stored message's external id; a ticket token
        like ``[#42]`` in the subject. A reply to a resolved ticket reopens
        it; a reply while waiting on the customer resumes it; a reply to a
        closed ticket opens a new one that links to it. A repeated
        ``external_id`` (duplicate delivery) changes nothing and returns the
        ticket it went to. New tickets are registered at once.

        The customer is found by the sender's identity. *contacts* (or
        ``meta["contacts"]``, e.g. ``{"email": "ann@example.com"}``) are the
        identities the customer gave in the message: one that is another
        profile's verified identity links the profiles, an unverified match
        is proposed to an agent (``desk.identity_proposals()``).
        *sender_verified* overrides the desk's rule of which channels' senders
        are verified (``IdentityLinking.verified_channels``).
        """
        if not isinstance(channel, str) or not channel.strip():
            raise MalformedMessage("channel is empty: name the channel the message came through")
        if not isinstance(sender, str) or not sender.strip():
            raise MalformedMessage(
                f"sender is empty on a {channel} message: a customer message needs a sender "
                "address (email, phone, chat user id)"
            )
        if not isinstance(text, str):
            raise MalformedMessage(
                f"a {channel} message: text must be str, got {type(text).__name__}"
            )
        if not text.strip() and not html and not attachments:
            raise MalformedMessage(
                f"a {channel} message has no text, html or attachment; nothing to register"
            )
        # errors name the channel, never the sender: they end up in logs and raw-inbound rows
        self.validate_text(text, html, what=f"a {channel} message")
        given = contacts_of(contacts)
        from_meta = (meta or {}).get("contacts")
        if isinstance(from_meta, Mapping):
            given += [i for i in contacts_of(from_meta) if i not in given]
        subject = _CTRL_RE.sub(" ", subject).strip()[:998]
        attachments = tuple(attachments)
        at = ensure_utc(received_at) if received_at else None
        # the channel's word first; else the message's script (a Russian chat is Russian)
        language = language or detect_language(f"{subject}\n{text}")

        def use_case(ctx: DeskContext) -> Ticket:
            if external_id is not None:
                dup = ctx.uow.find_message_by_external_id(external_id)
                if dup is not None:
                    return ctx.ticket(dup.ticket_id)
            customer = self._customer_for(
                ctx, channel, sender, sender_name, language, given, sender_verified
            )
            ticket = self._thread(ctx, ticket_id, in_reply_to, references, subject)
            when = at or ctx.now

            def add_inbound(ticket: Ticket) -> None:
                self._add_inbound(
                    ctx, ticket, channel, sender, text, html, attachments,
                    external_id, in_reply_to, references, meta, when,
                )  # fmt: skip

            if ticket is not None and self.lifecycle_of(ticket).is_final(ticket.status):
                follow_up_of = ticket.number
                ticket = None
            else:
                follow_up_of = None
            if ticket is None:
                ticket = Ticket(
                    id=self.new_id(),
                    number=ctx.uow.next_ticket_number(),
                    subject=subject or _subject_from(text),
                    customer_id=customer.id,
                    channel=channel,
                    status=self.lifecycle.initial,
                    received_at=when,
                    priority=priority or Priority.NORMAL,
                    category=category,
                    tier=self.tiers[0],
                    tags=frozenset(tags),
                    language=language or customer.language,
                    lifecycle=self.lifecycle.name,
                    updated_at=ctx.now,
                    custom_fields={"follow_up_of": follow_up_of} if follow_up_of else {},
                )
                ctx.adopt_new(ticket)
                ticket.record(
                    TicketReceived(
                        ticket.id, ctx.now, ticket.number, channel, customer.id, ticket.subject
                    )
                )
                add_inbound(ticket)
                if self.lifecycle.can_fire(ticket.status, "register"):
                    ctx.transition(ticket, "register", actor="system", reason="new request")
                    ticket.registered_at = ctx.now
                return ticket
            add_inbound(ticket)
            lc = self.lifecycle_of(ticket)
            if lc.can_fire(ticket.status, "reopen") and ticket.status == "resolved":
                ctx.transition(ticket, "reopen", actor=sender.strip(), reason="customer replied")
                ticket.reopen_count += 1
                ticket.resolved_at = None
            elif lc.can_fire(ticket.status, "customer_replied"):
                ctx.transition(
                    ticket, "customer_replied", actor=sender.strip(), reason="customer replied"
                )
            return ticket

        return self.run(use_case)

    def _add_inbound(
        self,
        ctx: DeskContext,
        ticket: Ticket,
        channel: str,
        sender: str,
        text: str,
        html: str | None,
        attachments: tuple[Attachment, ...],
        external_id: str | None,
        in_reply_to: str | None,
        references: Sequence[str],
        meta: Mapping[str, Any] | None,
        when: datetime,
    ) -> None:
        m = dict(meta or {})
        if references:
            m["references"] = list(references)
        ctx.add_message(
            ticket,
            Direction.INBOUND,
            sender.strip(),
            text,
            html=html,
            channel=channel,
            attachments=attachments,
            external_id=external_id,
            in_reply_to=in_reply_to,
            meta=m,
            created_at=when,
        )

    def _customer_for(
        self,
        ctx: DeskContext,
        channel: str,
        sender: str,
        name: str | None,
        language: str | None,
        contacts: list[Identity],
        sender_verified: bool | None,
    ) -> Customer:
        ident = Identity.of(_identity_channel(channel, sender), sender)
        linking = self.identity_linking
        verified = (
            sender_verified if sender_verified is not None else channel in linking.verified_channels
        )
        customer = ctx.uow.find_customer_by_identity(ident)
        fresh = customer is None
        if customer is not None:
            while customer.merged_into:
                customer = ctx.uow.get_customer(customer.merged_into)
            if verified and ident not in customer.verified and ident in customer.identities:
                customer.verified.append(ident)
                ctx.uow.save_customer(customer)
        else:
            customer = Customer(
                id=self.new_id(),
                name=(name or "").strip() or sender.strip(),
                identities=[ident],
                language=language or "en",
                created_at=ctx.now,
                verified=[ident] if verified else [],
            )
            ctx.uow.add_customer(customer)
            if linking.enabled:
                propose_earlier_claims(ctx, customer, ident)
        if linking.enabled and contacts:
            customer = link_on_receive(ctx, customer, contacts, channel=channel, fresh=fresh)
        return customer

    def _thread(
        self,
        ctx: DeskContext,
        ticket_id: str | None,
        in_reply_to: str | None,
        references: Sequence[str],
        subject: str,
    ) -> Ticket | None:
        if ticket_id is not None:
            return ctx.ticket(ticket_id)
        for ref in (in_reply_to, *reversed(references)):
            if ref:
                msg = ctx.uow.find_message_by_external_id(ref)
                if msg is not None:
                    return ctx.ticket(msg.ticket_id)
        m = _TOKEN_RE.search(subject)
        if m:
            try:
                return ctx.ticket_by_number(int(m.group(1)))
            except NotFound:
                return None
        return None


def _subject_from(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "(no subject)"
    return first[:80]


def _identity_channel(channel: str, sender: str) -> str:
    if "@" in sender and channel in ("email", "web", "webform", "form"):
        return "email"
    return channel
