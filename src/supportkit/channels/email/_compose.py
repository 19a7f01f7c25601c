"""An :class:`~supportkit.ports.OutboundMessage` → the :class:`OutboundEmail` that carries it.

Pure: the Message-ID is derived from the delivery id, so a retried delivery
(the dispatcher delivers at least once) goes out with the same Message-ID
and the customer's mail client shows it once. Every header value is made
single-line here: text that came from customers (a subject, a display name)
can carry CR/LF, and no CR/LF may reach an outgoing header.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import attrs

from supportkit.channels._inbound import Address
from supportkit.domain._model import Attachment
from supportkit.ports._channel import AUTO_SUBMITTED, OutboundMessage, is_automated_meta

from ._smtp import OutboundEmail
from ._threading import SubjectToken, make_message_id, reply_references

__all__ = ["compose", "header_safe", "message_id_for"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
_RFC3834 = ("auto-replied", "auto-generated", "auto-notified")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|ответ|отв)\s*:", re.IGNORECASE)


def header_safe(value: str, limit: int = 900) -> str:
    """*value* on one line: control characters (CR, LF, NUL, ...) become spaces.

    >>> header_safe("Printer\\r\\nBcc: victim@example.com")
    'Printer Bcc: victim@example.com'
    """
    return re.sub(r"\s{2,}", " ", _CONTROL.sub(" ", value)).strip()[:limit]


def message_id_for(outbound: OutboundMessage, domain: str) -> str:
    """The Message-ID of *outbound*: its own ``external_id``, else one derived from
    the ticket number and the delivery id (stable across retries).

    >>> from supportkit.ports import OutboundMessage
    >>> out = OutboundMessage("m-7", "t-1", 42, "email", "ann@example.com", "Hi")
    >>> message_id_for(out, "support.example.com")
    '<t42.m-7@support.example.com>'
    """
    if outbound.external_id and re.fullmatch(r"<[^<>\s]+@[^<>\s]+>", outbound.external_id):
        return outbound.external_id
    unique = re.sub(r"[^A-Za-z0-9.-]", "", outbound.delivery_id).strip(".")
    unique = re.sub(r"\.{2,}", ".", unique)
    if not unique or len(unique) > 120 or unique != outbound.delivery_id:
        digest = hashlib.sha256(outbound.delivery_id.encode("utf-8", "surrogatepass"))
        unique = f"{unique[:40].strip('.')}.{digest.hexdigest()[:24]}".lstrip(".")
    return make_message_id(f"t{outbound.ticket_number}.{unique}", domain)


def auto_submitted_for(outbound: OutboundMessage) -> str | None:
    """RFC 3834 ``Auto-Submitted`` for mail no person wrote, else None."""
    if is_automated_meta(outbound.meta):
        value = str(outbound.meta.get(AUTO_SUBMITTED)).strip().lower()
        return value if value in _RFC3834 else "auto-generated"
    if outbound.kind != "reply":
        return "auto-generated"
    return None


def compose(
    outbound: OutboundMessage,
    *,
    sender: Address,
    message_id: str,
    token: SubjectToken | None = None,
    attachments: Sequence[tuple[Attachment, bytes]] = (),
) -> OutboundEmail:
    """The mail for *outbound*: threaded, the ticket token in the subject, single-line headers.

    *attachments* are ``outbound.attachments`` with their bytes (the channel
    fetched them from its attachment store); filenames are made single-line.
    """
    token = token or SubjectToken()
    subject = token.remove(header_safe(outbound.subject))
    if outbound.kind == "reply" and not _REPLY_PREFIX.match(subject):
        subject = f"Re: {subject}".strip()
    in_reply_to, references = reply_references(
        outbound.in_reply_to, tuple(r for r in outbound.references if r != message_id)
    )
    return OutboundEmail(
        sender=sender,
        to=(Address(header_safe(outbound.recipient, 320), header_safe(outbound.recipient_name)),),
        subject=token.add(subject, outbound.ticket_number),
        text=outbound.text,
        html=outbound.html,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        auto_submitted=auto_submitted_for(outbound),
        attachments=tuple(
            (attrs.evolve(a, filename=header_safe(a.filename, 255) or "attachment"), data)
            for a, data in attachments
        ),
    )
