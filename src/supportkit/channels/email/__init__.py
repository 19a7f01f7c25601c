"""supportkit.channels.email: the email channel (IMAP in, SMTP out).

Parsing (:func:`parse_email`) is pure and never raises on real-world mail;
loop safety (:func:`classify_loop`, :class:`AutoAckLimiter`) and threading
helpers are pure too. :class:`ImapPoller` and :class:`SmtpSender` do the I/O.
"""

from supportkit.channels._inbound import Address, InboundMessage

from ._channel import EmailChannel, InboundOutcome
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
    "build_message",
    "classify_loop",
    "format_addresses",
    "html_to_text",
    "make_message_id",
    "match_ticket",
    "message_id_of",
    "parse_addresses",
    "parse_email",
    "reply_references",
    "sanitise_html",
    "strip_reply_prefixes",
    "visible_reply",
]
