"""supportkit.channels.email: the email channel (IMAP in, SMTP out).

:class:`EmailChannel` is a :class:`~supportkit.ports.Channel` (the
``email`` plugin of the ``supportkit.channels`` entry points): replies and
notifications reach it through the :class:`~supportkit.channels.OutboundDispatcher`.
Parsing (:func:`parse_email`) is pure and never raises on real-world mail;
loop safety (:func:`classify_loop`, :class:`AutoAckLimiter`), threading
helpers and :func:`compose` are pure too. :class:`ImapPoller` and
:class:`SmtpSender` do the I/O.
"""

from supportkit.channels._inbound import Address, InboundMessage

from ._channel import EmailChannel, InboundOutcome, guess_language
from ._compose import compose, header_safe, message_id_for
from ._errors import PermanentChannelError, TransientChannelError
from ._html import html_to_text, sanitise_html
from ._imap import FetchedMail, ImapCursor, ImapPoller
from ._loop import AutoAckLedger, AutoAckLimiter, LoopClass, classify_loop
from ._parse import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    ParseLimits,
    format_addresses,
    message_id_of,
    parse_addresses,
    parse_email,
)
from ._quote import visible_reply
from ._settings import address_from, poller_from, sender_from
from ._smtp import OutboundEmail, SmtpSender, build_message
from ._threading import (
    SubjectToken,
    make_message_id,
    match_ticket,
    reply_references,
    strip_reply_prefixes,
)

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "Address",
    "AutoAckLedger",
    "AutoAckLimiter",
    "EmailChannel",
    "FetchedMail",
    "ImapCursor",
    "ImapPoller",
    "InboundMessage",
    "InboundOutcome",
    "LoopClass",
    "OutboundEmail",
    "ParseLimits",
    "PermanentChannelError",
    "SmtpSender",
    "SubjectToken",
    "TransientChannelError",
    "address_from",
    "build_message",
    "classify_loop",
    "compose",
    "format_addresses",
    "guess_language",
    "header_safe",
    "html_to_text",
    "make_message_id",
    "match_ticket",
    "message_id_for",
    "message_id_of",
    "parse_addresses",
    "parse_email",
    "poller_from",
    "reply_references",
    "sanitise_html",
    "sender_from",
    "strip_reply_prefixes",
    "visible_reply",
]
