"""The email channel wired to a :class:`~supportkit.desk.SupportDesk`.

Inbound: each message the IMAP poller hands over is stored raw first (with
the poller's cursor, in one transaction), then parsed and given to
``desk.receive``. A message that fails to parse or to register stays stored
as ``failed`` with its error, for :meth:`EmailChannel.reprocess`. A second
delivery of the same Message-ID stores and creates nothing. Automatic mail
(auto-replies, bounces, list mail) never opens a ticket and is never
acknowledged: it is kept raw as ``ignored`` with the reason.

Outbound: :meth:`EmailChannel.reply` records the agent's reply on the ticket
with a generated Message-ID, then sends it threaded (In-Reply-To and
References to the customer's last message, the ticket token in the subject),
so the customer's answer lands on the same ticket by headers or by subject.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from supportkit.channels._inbound import Address
from supportkit.domain._errors import SupportKitError
from supportkit.domain._model import Direction, Message, Ticket
from supportkit.ports._storage import RawInbound

from ._imap import FetchedMail, ImapCursor, ImapPoller
from ._loop import AutoAckLimiter
from ._parse import ParseLimits, message_id_of, parse_email
from ._smtp import OutboundEmail, SmtpSender, build_message
from ._threading import SubjectToken, make_message_id, reply_references

if TYPE_CHECKING:
    from supportkit.desk import SupportDesk

__all__ = ["EmailChannel", "InboundOutcome"]

_KV = "channels.email"


@attrs.frozen
class InboundOutcome:
    """What became of one raw message: ``processed``, ``duplicate``, ``ignored`` or ``failed``."""

    raw_id: str | None
    status: str
    ticket_id: str | None = None
    error: str | None = None


@attrs.define
class EmailChannel:
    """IMAP in, SMTP out, for one desk mailbox."""

    desk: SupportDesk
    address: Address
    poller: ImapPoller | None = None
    sender: SmtpSender | None = None
    message_id_domain: str = "supportkit.invalid"
    token: SubjectToken = attrs.Factory(SubjectToken)
    limits: ParseLimits = attrs.Factory(ParseLimits)
    auto_ack: AutoAckLimiter | None = None
    ack_text: Callable[[Ticket], str] | None = None
    name: str = "email"

    # ------------------------------------------------------------------ inbound
    @property
    def _cursor_key(self) -> str:
        if self.poller is None:
            return "cursor"
        return f"cursor:{self.poller.username}@{self.poller.host}:{self.poller.port}/{self.poller.folder}"

    def cursor(self) -> ImapCursor:
        """The persisted IMAP position (UIDVALIDITY, last UID)."""

        def use_case(ctx: Any) -> ImapCursor:
            value = ctx.uow.kv_get(_KV, self._cursor_key)
            if not value:
                return ImapCursor()
            return ImapCursor(value.get("uidvalidity"), int(value.get("last_uid", 0)))

        return self.desk.run(use_case)

    def poll(self) -> list[InboundOutcome]:
        """Fetch new mail, store each raw message with the cursor, then register it."""
        if self.poller is None:
            raise SupportKitError("this EmailChannel has no ImapPoller; pass poller=...")
        outcomes = []
        for mail in self.poller.fetch_new(self.cursor()):
            raw_id = self._store_raw(mail.raw, mail.internal_date, mail)
            if raw_id is None:
                outcomes.append(InboundOutcome(None, "duplicate"))
                continue
            outcomes.append(self._process(raw_id, mail.raw, mail.internal_date))
        return outcomes

    def ingest(self, raw: bytes, received_at: datetime | None = None) -> InboundOutcome:
        """Store one raw message (from any source: a pipe, an MTA hook) and register it."""
        raw_id = self._store_raw(raw, received_at, None)
        if raw_id is None:
            return InboundOutcome(None, "duplicate")
        return self._process(raw_id, raw, received_at)

    def reprocess(self, limit: int = 100) -> list[InboundOutcome]:
        """Parse and register again every raw message that failed before."""

        def load(ctx: Any) -> list[RawInbound]:
            return list(ctx.uow.list_raw_inbound(status="failed", limit=limit))

        return [
            self._process(item.id, item.raw, item.received_at)
            for item in self.desk.run(load)
            if item.channel == self.name
        ]

    def _store_raw(
        self, raw: bytes, received_at: datetime | None, mail: FetchedMail | None
    ) -> str | None:
        raw_id = self.desk.new_id()
        external_id = message_id_of(raw)

        def use_case(ctx: Any) -> str | None:
            stored = ctx.uow.add_raw_inbound(
                RawInbound(
                    id=raw_id,
                    channel=self.name,
                    received_at=received_at or ctx.now,
                    raw=raw,
                    external_id=external_id,
                )
            )
            if mail is not None:
                ctx.uow.kv_put(
                    _KV,
                    self._cursor_key,
                    {"uidvalidity": mail.cursor.uidvalidity, "last_uid": mail.cursor.last_uid},
                )
            return raw_id if stored else None

        return self.desk.run(use_case)

    def _mark(
        self, raw_id: str, status: str, ticket_id: str | None = None, error: str | None = None
    ) -> None:
        self.desk.run(lambda ctx: ctx.uow.update_raw_inbound(raw_id, status, ticket_id, error))

    def _process(self, raw_id: str, raw: bytes, received_at: datetime | None) -> InboundOutcome:
        try:
            msg = parse_email(raw, channel=self.name, received_at=received_at, limits=self.limits)
            reason = None
            if msg.is_automated:
                reason = "automatic mail (auto-reply, bounce or list): no ticket, no answer"
            elif msg.sender.address.lower() == self.address.address.lower():
                reason = f"sent by the desk's own address {self.address.address}: a loop"
            if reason is not None:
                self._mark(raw_id, "ignored", error=reason)
                return InboundOutcome(raw_id, "ignored", error=reason)
            text = msg.text if msg.text.strip() else msg.full_text
            ticket = self.desk.receive(
                self.name,
                msg.sender.address,
                text,
                subject=msg.subject,
                sender_name=msg.sender.name or None,
                html=msg.html,
                attachments=msg.attachments,
                external_id=msg.external_id,
                in_reply_to=msg.in_reply_to,
                references=msg.references,
                received_at=msg.received_at or msg.sent_at,
                meta={"raw_id": raw_id, "full_text": msg.full_text, "notes": list(msg.notes)},
            )
        except SupportKitError as exc:
            error = f"{type(exc).__name__}: {exc}"
            self._mark(raw_id, "failed", error=error)
            return InboundOutcome(raw_id, "failed", error=error)
        self._mark(raw_id, "processed", ticket.id)
        if self.auto_ack is not None and self._is_new(ticket):
            self._acknowledge(ticket, msg.sender, msg.external_id, msg.references)
        return InboundOutcome(raw_id, "processed", ticket.id)

    def _is_new(self, ticket: Ticket) -> bool:
        inbound = [m for m in self.desk.messages(ticket.id) if m.direction is Direction.INBOUND]
        return len(inbound) == 1

    def _acknowledge(
        self, ticket: Ticket, to: Address, parent: str | None, refs: tuple[str, ...]
    ) -> None:
        assert self.auto_ack is not None
        key = f"ack:{to.address.lower()}"
        now = self.desk.clock.now()
        sent = self.desk.run(lambda ctx: ctx.uow.kv_get(_KV, key)) or []
        times = [datetime.fromisoformat(t) for t in sent]
        if not self.auto_ack.allows(times, now):
            return
        times = [t for t in times if now - self.auto_ack.window < t] + [now]
        self.desk.run(lambda ctx: ctx.uow.kv_put(_KV, key, [t.isoformat() for t in times]))
        text = (
            self.ack_text(ticket)
            if self.ack_text
            else f"We received your request and registered it as ticket {ticket.number}."
        )
        self._send(ticket, to, text, None, parent, refs, author="system", auto="auto-replied")

    # ------------------------------------------------------------------ outbound
    def reply(self, ticket_id: str, author: str, text: str, *, html: str | None = None) -> Message:
        """Record an agent's reply on the ticket and mail it to the customer, threaded."""
        ticket = self.desk.get_ticket(ticket_id)
        inbound = [m for m in self.desk.messages(ticket_id) if m.direction is Direction.INBOUND]
        if not inbound:
            raise SupportKitError(f"ticket {ticket.number} has no inbound email to reply to")
        last = inbound[-1]
        refs = tuple(last.meta.get("references", ()))
        return self._send(
            ticket, Address(last.author), text, html, last.external_id, refs, author=author
        )

    def _send(
        self,
        ticket: Ticket,
        to: Address,
        text: str,
        html: str | None,
        parent: str | None,
        parent_refs: tuple[str, ...],
        *,
        author: str,
        auto: str | None = None,
    ) -> Message:
        if self.sender is None:
            raise SupportKitError("this EmailChannel has no SmtpSender; pass sender=...")
        unique = re.sub(r"[^A-Za-z0-9.-]", "", f"t{ticket.number}.{self.desk.new_id()}")
        message_id = make_message_id(unique, self.message_id_domain)
        in_reply_to, references = reply_references(parent, parent_refs)
        subject = (
            ticket.subject if re.match(r"(?i)re:", ticket.subject) else f"Re: {ticket.subject}"
        )
        mail = OutboundEmail(
            sender=self.address,
            to=(to,),
            subject=self.token.add(subject, ticket.number),
            text=text,
            html=html,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            auto_submitted=auto,
        )
        message = self.desk.reply(
            ticket.id,
            author,
            text,
            html=html,
            external_id=message_id,
            meta={"to": to.address, "references": list(references), "auto_submitted": auto},
        )
        self.sender.send(build_message(mail, self.desk.clock.now()))
        return message
