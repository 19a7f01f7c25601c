"""Raw RFC 822 bytes → :class:`~supportkit.channels._inbound.InboundMessage`.

The parser never raises on real-world mail except :class:`MalformedMessage`. It uses the
stdlib parser in its tolerant ``compat32`` mode for structure and transfer encodings, and
decodes headers and text itself, because the modern policy raises on some broken headers.
Whatever had to be repaired or dropped is written to ``InboundMessage.notes``.

The work is split by concern: ``_headers`` (the header block, raw values, ids, dates),
``_addresses`` (mailbox lists, whom to answer), ``_charset`` (bytes to text), ``_parts``
(one part's type, name, payload), ``_mime`` (the walk: body parts and attachments),
``_body`` (which parts make the body, the visible reply) and ``_quote`` (quotes and
signatures). This module ties them together.
"""

from __future__ import annotations

import email
import email.message
import email.policy
from datetime import datetime

from supportkit.channels._inbound import InboundMessage
from supportkit.domain._errors import MalformedMessage, SupportKitError

from ._addresses import _sender, format_addresses, parse_addresses
from ._body import select_body
from ._charset import decode_header_value
from ._headers import (
    _BODY_SPLIT,
    _charset_hint,
    _date,
    _generated_id,
    _header_pairs,
    _message_ids,
    _raw_header,
    _repair_header_block,
    _strip_mbox_envelope,
)
from ._loop import classify_loop
from ._mime import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    ParseLimits,
    _Collected,
    _drop_oversized_parts,
    _walk,
)
from ._parts import _content_type
from ._structure import MAX_MIME_DEPTH, mime_depth

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "ParseLimits",
    "format_addresses",
    "message_id_of",
    "parse_addresses",
    "parse_email",
]


def message_id_of(raw: bytes) -> str:
    """The Message-ID of *raw*, read without a full parse (for store-raw-first).

    Same value as ``parse_email(raw).external_id``, generated from the bytes
    when the message has none. Never raises.
    """
    try:
        head = _repair_header_block(_strip_mbox_envelope(raw))
        split = _BODY_SPLIT.search(head)
        block = head[: split.start()] if split else head
        msg = email.message_from_bytes(block + b"\n\n", policy=email.policy.compat32)
        found = _message_ids(_raw_header(msg, "Message-ID"))
    except Exception:
        found = ()
    return found[0] if found else _generated_id(raw)


def parse_email(
    raw: bytes,
    *,
    channel: str = "email",
    received_at: datetime | None = None,
    limits: ParseLimits | None = None,
) -> InboundMessage:
    """Parse one raw message; malformed mail is repaired (see ``notes``), never refused,
    except a MIME structure nested deeper than ``MAX_MIME_DEPTH`` (MalformedMessage).

    Raises only :class:`~supportkit.MalformedMessage`: anything else going wrong
    inside is a parser bug, reported as MalformedMessage ``from`` it.

    >>> msg = parse_email(b"From: Ann <ann@example.com>\\r\\nSubject: Hi\\r\\n\\r\\nHello")
    >>> (msg.sender.address, msg.subject, msg.text)
    ('ann@example.com', 'Hi', 'Hello')
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedMessage(f"parse_email takes raw bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    depth = mime_depth(raw)
    if depth > MAX_MIME_DEPTH:
        raise MalformedMessage(
            f"the MIME structure nests {depth} multipart levels; at most {MAX_MIME_DEPTH} are "
            "read. The message is not parsed (a hostile or broken message): keep it raw"
        )
    try:
        return _parse(raw, channel, received_at, limits or ParseLimits())
    except SupportKitError:
        raise
    except Exception as exc:  # the parser's boundary: one error family out
        raise MalformedMessage(
            f"the mail could not be parsed ({type(exc).__name__}); it is kept raw"
        ) from exc


def _parse(
    raw: bytes, channel: str, received_at: datetime | None, limits: ParseLimits
) -> InboundMessage:
    acc = _Collected()
    body = _drop_oversized_parts(_strip_mbox_envelope(raw), limits, acc.notes)
    body = _repair_header_block(body)
    msg = email.message_from_bytes(body, policy=email.policy.compat32)
    for defect in getattr(msg, "defects", [])[:5]:
        acc.notes.append(f"MIME defect: {type(defect).__name__}")
    try:
        _walk(msg, acc, limits)
    except Exception as exc:  # defence in depth: keep what was found, say what failed
        acc.notes.append(f"MIME structure partly unreadable: {type(exc).__name__}: {exc}")

    hint = _charset_hint(msg)
    headers = tuple(_header_pairs(msg, hint))
    full_text, html, text = select_body(
        acc.plain, acc.html, acc.forwarded_text, limits.max_text_chars, acc.notes
    )

    sender = _sender(msg, hint)
    subject = decode_header_value(_raw_header(msg, "Subject"), hint)
    message_ids = _message_ids(_raw_header(msg, "Message-ID"))
    if not message_ids:
        message_ids = (_generated_id(raw),)
        acc.notes.append("no Message-ID: generated one from the raw bytes")
    in_reply = _message_ids(_raw_header(msg, "In-Reply-To"))
    references = _message_ids(_raw_header(msg, "References"))
    try:
        report_type = str(msg.get_param("report-type") or "")
    except Exception:
        report_type = ""
    loop = classify_loop(
        headers,
        sender=sender.address,
        content_type=_content_type(msg),
        report_type=report_type,
        subject=subject,
    )
    return InboundMessage(
        channel=channel,
        external_id=message_ids[0] if message_ids else None,
        sender=sender,
        subject=subject,
        text=text,
        full_text=full_text,
        html=html,
        to=parse_addresses(_raw_header(msg, "To"), hint),
        cc=parse_addresses(_raw_header(msg, "Cc"), hint),
        reply_to=parse_addresses(_raw_header(msg, "Reply-To"), hint),
        attachments=tuple(acc.attachments),
        attachment_data=acc.data,
        in_reply_to=in_reply[0] if in_reply else None,
        references=references,
        sent_at=_date(_raw_header(msg, "Date")),
        received_at=received_at,
        is_auto_reply=loop.auto_reply,
        is_bounce=loop.bounce,
        is_bulk=loop.bulk,
        headers=headers,
        notes=tuple(acc.notes),
        raw=raw,
    )
