"""The email channel on the channel port: IMAP in, SMTP out.

:class:`EmailChannel` is a :class:`~supportkit.ports.Channel`. Outbound, it
is called by the :class:`~supportkit.channels.OutboundDispatcher` like any
channel: :meth:`EmailChannel.deliver` turns an ``OutboundMessage`` (an
agent's ``desk.reply``, a :class:`~supportkit.channels.CustomerNotifier`
notification) into a threaded MIME mail and sends it; its receipt carries
the Message-ID, which the dispatcher records on the stored reply so the
customer's answer threads back by In-Reply-To. Retries and permanent
failures are the dispatcher's business, recorded the one way for every channel.

Attachments: given an :class:`~supportkit.ports.AttachmentStore`
(``attachments=``), the channel mails a reply's attachments with their bytes
from the store, and puts every inbound attachment's bytes into it before the
message is registered, so an agent can open them (``store.get(a.sha256)``).

Inbound, once bound to a desk (``SupportDesk(extensions=[..., channel])``
or :meth:`EmailChannel.bind`): each message the IMAP poller hands over is
stored raw first (with the poller's cursor, in one transaction), then
normalised and registered. A message that fails to parse or to register
stays stored as ``failed`` with its error, for :meth:`EmailChannel.reprocess`.
A second delivery of the same Message-ID stores and creates nothing.
Automatic mail (auto-replies, bounces, list mail) and mail from the desk's
own address never open a ticket: they are kept raw as ``ignored``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from supportkit.channels._dispatch import delivered_ticket_id
from supportkit.channels._inbound import Address, InboundMessage
from supportkit.channels._raw_store import (
    DEFAULT_LEASE,
    claim_stale,
    describe_error,
    failure_status,
    finish,
    store_and_claim,
)
from supportkit.channels._receive import receive_inbound
from supportkit.domain._errors import (
    ConfigurationError,
    MalformedMessage,
    NotFound,
    StorageError,
    ValidationError,
)
from supportkit.domain._model import Attachment
from supportkit.ports._attachments import AttachmentStore
from supportkit.ports._channel import Channel, DeliveryReceipt, OutboundMessage
from supportkit.ports._clock import Clock, SystemClock
from supportkit.ports._storage import Cursor, RawInbound

from ._compose import compose, message_id_for
from ._errors import PermanentChannelError, TransientChannelError
from ._imap import FetchedMail, ImapCursor, ImapPoller
from ._parse import ParseLimits, message_id_of, parse_email
from ._settings import address_from, poller_from, sender_from
from ._smtp import SmtpSender, build_message
from ._threading import SubjectToken, match_ticket

if TYPE_CHECKING:
    from supportkit.desk import SupportDesk
    from supportkit.typing import DeskContext

__all__ = ["EmailChannel", "InboundOutcome", "guess_language"]

_KV = "channels.email"
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")


def guess_language(message: InboundMessage) -> str | None:
    """``Content-Language`` if the sender set one, else ``"ru"`` for mostly Cyrillic text.

    None means "no idea": the desk then uses the customer's language.
    """
    declared = (message.header("Content-Language") or "").split(",")[0].strip().lower()
    if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", declared):
        return declared.split("-")[0]
    sample = f"{message.subject}\n{message.text}"[:4000]
    cyrillic = len(_CYRILLIC.findall(sample))
    if cyrillic and cyrillic >= len(_LATIN.findall(sample)):
        return "ru"
    return None


def _content_type(value: str) -> str:
    """*value* when a store accepts it as ``type/subtype``, else the generic binary type."""
    return (
        value
        if re.fullmatch(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*", value)
        else ("application/octet-stream")
    )


@attrs.frozen
class InboundOutcome:
    """What became of one raw message: ``processed``, ``duplicate``, ``ignored``, ``failed``,
    or ``pending`` (a transient failure: processed again once the lease runs out)."""

    raw_id: str | None
    status: str
    ticket_id: str | None = None
    error: str | None = None


class EmailChannel(Channel):
    """IMAP in, SMTP out, for one desk mailbox.

    Every argument is optional, so the ``supportkit.channels`` entry point
    builds it bare; a channel without ``sender`` or ``address`` refuses
    deliveries with a :class:`PermanentChannelError` saying what to set.
    ``poller`` and ``sender`` also take settings (a mapping or a URL, see
    :meth:`from_settings`). ``message_id_domain`` defaults to the domain of
    ``address``. The clock defaults to the bound desk's. ``attachments`` is
    the store attachment bytes are read from (outbound) and put into (inbound).

    >>> channel = EmailChannel.from_settings(
    ...     smtp="smtp+starttls://desk:secret@mail.example.com",
    ...     imap="imaps://desk:secret@mail.example.com/INBOX",
    ...     address="Example Support <support@example.com>",
    ... )
    >>> (channel.sender.port, channel.poller.port, channel.message_id_domain)
    (587, 993, 'example.com')
    """

    name = "email"

    def __init__(
        self,
        desk: SupportDesk | None = None,
        address: Address | str | None = None,
        *,
        poller: ImapPoller | Mapping[str, Any] | str | None = None,
        sender: SmtpSender | Mapping[str, Any] | str | None = None,
        message_id_domain: str | None = None,
        token: SubjectToken | None = None,
        limits: ParseLimits | None = None,
        clock: Clock | None = None,
        attachments: AttachmentStore | None = None,
        name: str = "email",
        aliases: tuple[str, ...] = (),
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.name = name
        self.lease = lease
        self.aliases = tuple(aliases)
        self.address: Address | None = address_from(address) if address is not None else None
        self.poller: ImapPoller | None = poller_from(poller) if poller is not None else None
        self.sender: SmtpSender | None = sender_from(sender) if sender is not None else None
        domain = message_id_domain
        if domain is None and self.address is not None:
            domain = self.address.address.rsplit("@", 1)[1].strip("[]") or None
        self.message_id_domain = domain or "supportkit.invalid"
        if not re.fullmatch(
            r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", self.message_id_domain
        ):
            raise ConfigurationError(
                f"message_id_domain {self.message_id_domain!r} is not a host name; "
                "pass message_id_domain='support.example.com'"
            )
        self.token = token or SubjectToken()
        self.limits = limits or ParseLimits()
        self._clock = clock
        self.attachments = attachments
        self._desk: SupportDesk | None = None
        if desk is not None:
            self.bind(desk)

    @classmethod
    def from_settings(
        cls,
        *,
        address: Address | str,
        smtp: SmtpSender | Mapping[str, Any] | str | None = None,
        imap: ImapPoller | Mapping[str, Any] | str | None = None,
        **options: Any,
    ) -> EmailChannel:
        """Build from settings: URLs (``imaps://user:pass@host/INBOX``,
        ``smtp+starttls://user:pass@host``) or mappings of ImapPoller/SmtpSender fields."""
        return cls(address=address, poller=imap, sender=smtp, **options)

    # ------------------------------------------------------------------ wiring
    def bind(self, desk: SupportDesk) -> EmailChannel:
        """Attach the desk inbound mail is registered on (one desk per channel)."""
        if self._desk is not None and self._desk is not desk:
            raise ConfigurationError("this EmailChannel is bound to another desk already")
        self._desk = desk
        return self

    install = bind  # so it can be listed in SupportDesk(extensions=[...])

    @property
    def desk(self) -> SupportDesk:
        if self._desk is None:
            raise ConfigurationError(
                "this EmailChannel has no desk for inbound mail; pass it in "
                "SupportDesk(extensions=[...]) or call channel.bind(desk)"
            )
        return self._desk

    @property
    def clock(self) -> Clock:
        if self._clock is not None:
            return self._clock
        return self._desk.clock if self._desk is not None else SystemClock()

    def close(self) -> None:
        """Nothing to release: the poller and the sender connect per call."""

    def __repr__(self) -> str:
        return f"<EmailChannel {self.name!r} {self.address or '(no address)'}>"

    # ------------------------------------------------------------------ the port
    def normalise(self, payload: Any, *, received_at: datetime) -> InboundMessage:
        """Raw RFC 5322 bytes (or a str of them) → InboundMessage; MalformedMessage
        when it is not mail or names no sender."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8", "surrogateescape")
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise MalformedMessage(
                f"the {self.name} channel normalises raw mail (bytes), got "
                f"{type(payload).__name__}; pass the message as received from IMAP or the MTA"
            )
        msg = parse_email(
            bytes(payload), channel=self.name, received_at=received_at, limits=self.limits
        )
        if not msg.sender.address.strip():
            raise MalformedMessage(
                f"mail {msg.external_id} names no sender (From, Sender, Reply-To and "
                "Return-Path are empty): there is nobody to open a ticket for"
            )
        return msg

    def deliver(self, outbound: OutboundMessage) -> DeliveryReceipt:
        """Mail *outbound* to its recipient, threaded; the receipt carries the Message-ID."""
        if self.sender is None or self.address is None:
            missing = (
                "sender (an SmtpSender or smtp settings)" if self.sender is None else "address"
            )
            raise PermanentChannelError(
                f"the {self.name} channel cannot send delivery {outbound.delivery_id}: it has "
                f"no {missing}; build it with EmailChannel.from_settings(smtp=..., address=...)"
            )
        message_id = message_id_for(outbound, self.message_id_domain)
        now = self.clock.now()
        files = self._attachment_bytes(outbound)
        try:
            mail = compose(
                outbound,
                sender=self.address,
                message_id=message_id,
                token=self.token,
                attachments=files,
            )
            message = build_message(mail, now)
        except ValidationError as exc:
            raise PermanentChannelError(
                f"delivery {outbound.delivery_id} of ticket #{outbound.ticket_number} cannot "
                f"be mailed to {outbound.recipient!r}: {exc}"
            ) from exc
        refused = self.sender.send(message)
        if refused:  # only with several recipients; ours is one, but say so if it happens
            raise PermanentChannelError(f"the SMTP server refused {refused}")
        return DeliveryReceipt(
            outbound.delivery_id,
            self.name,
            now,
            external_id=message_id,
            detail=f"accepted by SMTP {self.sender.host}:{self.sender.port}",
        )

    def _attachment_bytes(self, outbound: OutboundMessage) -> list[tuple[Attachment, bytes]]:
        """Each of *outbound*'s attachments with its bytes from the attachment store."""
        if not outbound.attachments:
            return []
        where = f"delivery {outbound.delivery_id} of ticket #{outbound.ticket_number}"
        if self.attachments is None:
            raise PermanentChannelError(
                f"{where} has {len(outbound.attachments)} attachment(s) but the {self.name} "
                "channel has no attachment store to read them from; build it with "
                "EmailChannel(..., attachments=FileAttachmentStore(...))"
            )
        files = []
        for a in outbound.attachments:
            if a.sha256 is None:
                raise PermanentChannelError(
                    f"{where}: attachment {a.filename!r} has no sha256, so its bytes cannot be "
                    "found; attach what AttachmentStore.put() returned"
                )
            try:
                files.append((a, self.attachments.get(a.sha256)))
            except (NotFound, ValidationError) as exc:
                raise PermanentChannelError(f"{where}: attachment {a.filename!r}: {exc}") from exc
            except StorageError as exc:  # a disk or network error: it may come back
                raise TransientChannelError(f"{where}: attachment {a.filename!r}: {exc}") from exc
        return files

    def _keep_attachments(self, msg: InboundMessage) -> None:
        """Put the bytes of *msg*'s attachments into the store (once per content)."""
        if self.attachments is None:
            return
        for a in msg.attachments:
            if a.sha256 is not None and a.sha256 in msg.attachment_data:
                self.attachments.put(
                    msg.attachment_data[a.sha256],
                    filename=a.filename,
                    content_type=_content_type(a.content_type),
                )

    # ------------------------------------------------------------------ inbound
    @property
    def _cursor_key(self) -> str:
        if self.poller is None:
            return "cursor"
        p = self.poller
        return f"cursor:{p.username}@{p.host}:{p.port}/{p.folder}"

    def cursor(self) -> ImapCursor:
        """The persisted IMAP position (UIDVALIDITY, last UID)."""
        with self.desk.storage.unit_of_work() as uow:
            found = uow.get_cursor(f"{_KV}:{self._cursor_key}")
        if found is None:
            return ImapCursor()
        return ImapCursor(None if found.epoch is None else int(found.epoch), found.position)

    def poll(self) -> list[InboundOutcome]:
        """Fetch new mail, store each raw message with the cursor, then register it."""
        return list(self.poll_each())

    def poll_each(self) -> Iterator[InboundOutcome]:
        """:meth:`poll`, yielding each message's outcome as soon as it is registered."""
        if self.poller is None:
            raise ConfigurationError(
                f"the {self.name} channel has no IMAP poller; pass poller=ImapPoller(...) "
                "or imap settings to EmailChannel.from_settings"
            )
        for mail in self.poller.fetch_new(self.cursor()):
            yield self._take(mail.raw, mail.internal_date, mail)

    def ingest(self, raw: bytes, received_at: datetime | None = None) -> InboundOutcome:
        """Store one raw message (from any source: a pipe, an MTA hook) and register it.

        Once this returns, the message is durable: if the process dies while
        registering it, the same mail ingested again, or :meth:`reprocess`
        after the lease, finishes the job (exactly once).
        """
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise MalformedMessage(f"ingest takes the raw mail as bytes, got {type(raw).__name__}")
        return self._take(bytes(raw), received_at, None)

    def reprocess(self, limit: int = 100) -> list[InboundOutcome]:
        """Process the raw messages left ``pending`` past their lease (a process died)
        or ``failed`` before; safe to call from several workers at once."""
        return list(self.reprocess_each(limit))

    def reprocess_each(self, limit: int = 100) -> Iterator[InboundOutcome]:
        """:meth:`reprocess`, yielding each message's outcome as soon as it is processed."""
        taken = claim_stale(self.desk, self.name, self.lease, limit, exact=self.name)
        for item in taken:
            yield self._process(item.id, item.raw, item.received_at)

    def _take(
        self, raw: bytes, received_at: datetime | None, mail: FetchedMail | None
    ) -> InboundOutcome:
        def cursor(uow: Any) -> None:
            if mail is not None:
                epoch = mail.cursor.uidvalidity
                uow.put_cursor(
                    Cursor(
                        f"{_KV}:{self._cursor_key}",
                        mail.cursor.last_uid,
                        None if epoch is None else str(epoch),
                    )
                )

        row = RawInbound(
            id=self.desk.new_id(),
            channel=self.name,
            received_at=received_at or self.clock.now(),
            raw=raw,
            external_id=message_id_of(raw),
        )
        claim = store_and_claim(self.desk, row, self.lease, also=cursor)
        if not claim.ours:
            raw_id = claim.raw.id if claim.raw is not None else None
            return InboundOutcome(raw_id, "duplicate")
        assert claim.raw is not None
        return self._process(claim.raw.id, claim.raw.raw, claim.raw.received_at)

    def _process(self, raw_id: str, raw: bytes, received_at: datetime | None) -> InboundOutcome:
        try:
            msg = self.normalise(raw, received_at=received_at or self.clock.now())
            reason = None
            if msg.is_automated:
                reason = "automatic mail (auto-reply, bounce or list): no ticket, no answer"
            elif self.address and msg.sender.address.lower() == self.address.address.lower():
                reason = f"sent by the desk's own address {self.address.address}: a loop"
            if reason is not None:
                finish(self.desk, raw_id, "ignored", error=reason)
                return InboundOutcome(raw_id, "ignored", error=reason)
            self._keep_attachments(msg)
            ticket = receive_inbound(
                self.desk,
                msg,
                ticket_id=self.desk.run(lambda ctx: self._thread(ctx, msg)),
                language=guess_language(msg),
                meta={"raw_id": raw_id},
            )
        except Exception as exc:  # the boundary: every failure is kept with the raw mail
            error = describe_error(exc)
            status = failure_status(exc, f"{self.name} raw message {raw_id}")
            if status == "failed":
                finish(self.desk, raw_id, "failed", error=error)
            return InboundOutcome(raw_id, status, error=error)
        finish(self.desk, raw_id, "processed", ticket.id)
        return InboundOutcome(raw_id, "processed", ticket.id)

    def _thread(self, ctx: DeskContext, msg: InboundMessage) -> str | None:
        """The ticket *msg* continues: by In-Reply-To/References (stored messages, incl.
        delivered replies, then notifications' Message-IDs), then by the subject token."""

        def by_message_id(ref: str) -> str | None:
            return delivered_ticket_id(ctx.messages, ctx.deliveries, ref)

        def by_number(number: int) -> str | None:
            try:
                return ctx.tickets.get_ticket_by_number(number).id
            except NotFound:
                return None

        return match_ticket(msg, by_message_id, by_number, self.token)
