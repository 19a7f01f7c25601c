"""The channel-neutral inbound message: what every channel hands to the desk.

A channel adapter (email, webhook, chat, ...) turns whatever arrived into one
:class:`InboundMessage`. It is a frozen value: the desk can store it, compare
it and thread it without knowing where it came from. Attachment metadata uses
the domain's :class:`~supportkit.domain._model.Attachment`; the bytes are kept
beside it (``attachment_data``, keyed by sha256) so a host can put them in its
blob store and keep only the metadata on the ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from supportkit.domain._model import Attachment, ensure_utc

__all__ = ["Address", "InboundMessage"]


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else ensure_utc(value)


@attrs.frozen
class Address:
    """One participant: ``Address("ann@example.com", "Ann Lee")``.

    ``address`` is the channel's handle (an email address, a chat user id);
    ``name`` is the display name as the sender wrote it, decoded, possibly empty.
    """

    address: str
    name: str = ""

    def __str__(self) -> str:
        if self.name:
            return f"{self.name} <{self.address}>"
        return self.address


@attrs.frozen
class InboundMessage:
    """A message as it arrived on a channel, normalised.

    ``text`` is the visible reply (quoted history and signature stripped);
    ``full_text`` keeps everything. ``html`` is already sanitised. ``raw`` is
    the original as received, byte for byte, so the message can be parsed
    again later. ``notes`` records what the parser had to repair or drop
    (an oversized attachment, an unknown charset) so nothing is lost silently.
    """

    channel: str
    external_id: str | None
    sender: Address
    subject: str = ""
    text: str = ""
    full_text: str = ""
    html: str | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    attachment_data: Mapping[str, bytes] = attrs.field(
        factory=dict, repr=False, eq=False, hash=False
    )
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    sent_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    received_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    is_auto_reply: bool = False
    is_bounce: bool = False
    is_bulk: bool = False
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)
    notes: tuple[str, ...] = ()
    raw: bytes = attrs.field(default=b"", repr=False, eq=False, hash=False)

    @property
    def is_automated(self) -> bool:
        """True for auto-replies, bounces and bulk/list mail: never open a ticket
        from it, never answer it automatically."""
        return self.is_auto_reply or self.is_bounce or self.is_bulk

    @property
    def body_type(self) -> str:
        """``text/html`` when the message came with HTML, else ``text/plain``."""
        return "text/html" if self.html is not None else "text/plain"

    def header(self, name: str) -> str | None:
        """The first decoded header called *name* (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def data_of(self, attachment: Attachment) -> bytes:
        """The bytes of one of this message's attachments."""
        if attachment.sha256 is None or attachment.sha256 not in self.attachment_data:
            raise KeyError(f"no data kept for attachment {attachment.filename!r}")
        return self.attachment_data[attachment.sha256]
