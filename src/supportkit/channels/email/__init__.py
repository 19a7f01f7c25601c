"""supportkit.channels.email: the email channel (IMAP in, SMTP out).

Parsing (:func:`parse_email`) is pure and never raises on real-world mail;
loop safety (:func:`classify_loop`, :class:`AutoAckLimiter`) and threading
helpers are pure too. :class:`ImapPoller` and :class:`SmtpSender` do the I/O.
"""

from supportkit.channels._inbound import Address, InboundMessage

from ._html import html_to_text, sanitise_html
from ._loop import AutoAckLedger, AutoAckLimiter, LoopClass, classify_loop
from ._parse import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    ParseLimits,
    format_addresses,
    parse_addresses,
    parse_email,
)
from ._quote import visible_reply

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "Address",
    "AutoAckLedger",
    "AutoAckLimiter",
    "InboundMessage",
    "LoopClass",
    "ParseLimits",
    "classify_loop",
    "format_addresses",
    "html_to_text",
    "parse_addresses",
    "parse_email",
    "sanitise_html",
    "visible_reply",
]
