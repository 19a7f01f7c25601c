"""Walking the MIME tree: body parts collected, everything else an attachment.

Text/plain and text/html parts that are not attachments form the body (several inline
parts joined in order; in ``multipart/alternative`` one plain and one HTML rendering).
Everything else, forwarded ``message/rfc822`` parts included, becomes an attachment,
subject to :class:`ParseLimits`. Parts far over the limit are cut at the byte level
before the stdlib parser sees them.
"""

from __future__ import annotations

import email
import email.generator
import email.message
import hashlib
import io
import mimetypes
import re
from collections.abc import Sequence

import attrs

from supportkit.domain._model import Attachment

from ._body import _part_text
from ._charset import decode_header_value
from ._headers import _BODY_SPLIT, _charset_hint, _raw_header
from ._html import html_to_text
from ._parts import (
    _content_type,
    _described,
    _disposition,
    _estimated_size,
    _filename,
    _payload_bytes,
    _raw_payload,
)

__all__ = ["DEFAULT_MAX_ATTACHMENT_BYTES", "ParseLimits"]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


@attrs.frozen
class ParseLimits:
    """Limits applied while parsing; oversized parts are dropped with a note."""

    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    max_attachments: int = 100
    max_text_chars: int = 1_000_000


@attrs.define
class _Collected:
    plain: list[str] = attrs.Factory(list)
    html: list[str] = attrs.Factory(list)
    attachments: list[Attachment] = attrs.Factory(list)
    data: dict[str, bytes] = attrs.Factory(dict)
    notes: list[str] = attrs.Factory(list)
    forwarded_text: list[str] = attrs.Factory(list)


_BOUNDARY_LINE = re.compile(rb"^--[^\r\n]*\r?\n", re.MULTILINE)


_NAME_PARAM = re.compile(rb'(?i)\bname\*?=\s*"?([^";\r\n]{1,200})')


_DROPPED = "application/x-supportkit-dropped"


def _drop_oversized_parts(raw: bytes, limits: ParseLimits, notes: list[str]) -> bytes:
    """Cut MIME parts far over the attachment limit *before* the stdlib parser sees them.

    The stdlib parser holds a part as a list of lines and then joins it:
    several times the part's size in memory. A part that will be dropped
    anyway is replaced, at the byte level, by an empty placeholder part, so a
    50 MB attachment costs one pass over the bytes. The raw message is kept
    unchanged by the caller.
    """
    threshold = int(limits.max_attachment_bytes * 1.4) + 65536
    if len(raw) <= threshold:
        return raw
    lines = list(_BOUNDARY_LINE.finditer(raw))
    if not lines:
        return raw
    starts = [m.end() for m in lines]
    ends = [*(m.start() for m in lines[1:]), len(raw)]
    out: list[bytes] = []
    done = 0
    for start, end in zip(starts, ends, strict=True):
        if end - start <= threshold:
            continue
        split = _BODY_SPLIT.search(raw, start, min(end, start + 16384))
        head = raw[start : split.start()] if split else b""
        found = _NAME_PARAM.search(head)
        name = found.group(1).decode("utf-8", "replace").strip() if found else "attachment"
        notes.append(
            f"attachment {name!r} (about {(end - start) * 3 // 4} bytes) dropped: over the "
            f"{limits.max_attachment_bytes}-byte limit"
        )
        out.append(raw[done:start])
        out.append(f"Content-Type: {_DROPPED}\r\n\r\n".encode())
        done = end
    if not out:
        return raw
    out.append(raw[done:])
    return b"".join(out)


def _add_attachment(
    part: email.message.Message,
    data: bytes,
    ctype: str,
    acc: _Collected,
    limits: ParseLimits,
    *,
    filename: str = "",
) -> None:
    index = len(acc.attachments) + 1
    cid_raw = part.get("Content-ID")
    cid = decode_header_value(str(cid_raw)).strip().strip("<>") if cid_raw else None
    if not filename and cid and re.fullmatch(r"[\w\-. ]+\.\w{2,5}", cid.split("@", 1)[0]):
        filename = cid.split("@", 1)[0]
    if not filename:
        filename = _described(part, mimetypes.guess_extension(ctype) or ".bin")
    if not filename:
        ext = mimetypes.guess_extension(ctype) or ".bin"
        filename = f"attachment-{index}{ext}"
    if len(acc.attachments) >= limits.max_attachments:
        acc.notes.append(f"attachment {filename!r} dropped: more than {limits.max_attachments}")
        return
    if len(data) > limits.max_attachment_bytes:
        acc.notes.append(
            f"attachment {filename!r} ({len(data)} bytes) dropped: over the "
            f"{limits.max_attachment_bytes}-byte limit"
        )
        return
    disposition = _disposition(part)
    inline = disposition == "inline" or (bool(cid) and disposition != "attachment")
    digest = hashlib.sha256(data).hexdigest()
    acc.data[digest] = data
    acc.attachments.append(
        Attachment(
            filename=filename,
            content_type=ctype,
            size=len(data),
            content_id=cid or None,
            inline=inline,
            sha256=digest,
        )
    )


def _walk(
    part: email.message.Message, acc: _Collected, limits: ParseLimits, depth: int = 0
) -> None:
    if depth > 40:
        acc.notes.append("MIME nesting deeper than 40 levels: the rest was ignored")
        return
    ctype = _content_type(part)
    maintype = ctype.split("/", 1)[0]
    if part.is_multipart() and maintype != "message":
        children = _raw_payload(part)
        if not isinstance(children, list):
            return
        if ctype == "multipart/alternative":
            _walk_alternative(children, acc, limits, depth)
        else:
            for child in children:
                if isinstance(child, email.message.Message):
                    _walk(child, acc, limits, depth + 1)
        return
    if ctype == _DROPPED:
        return  # cut before parsing; the note is written
    disposition = _disposition(part)
    filename = _filename(part)
    if maintype == "multipart":  # boundary missing: the parser kept the body as text
        acc.notes.append(f"{ctype} without its boundary: body read as text")
        acc.plain.append(_part_text(part, acc.notes))
        return
    if (
        ctype in ("text/plain", "text/html")
        and disposition != "attachment"
        and not filename
        and not (ctype == "text/html" and acc.html)
    ):
        text = _part_text(part, acc.notes)
        (acc.html if ctype == "text/html" else acc.plain).append(text)
        return
    if ctype in ("message/rfc822", "message/global"):
        _add_forward(part, acc, limits, filename or _described(part, ".eml"), depth)
        return
    if maintype == "message" and part.is_multipart():
        blocks = _raw_payload(part)
        data = b"\n".join(_as_bytes(b) for b in blocks if isinstance(b, email.message.Message))
        _add_attachment(
            part, data, ctype, acc, limits, filename=filename or _described(part, ".txt")
        )
        return
    if _estimated_size(part) > limits.max_attachment_bytes * 1.05 + 4096:
        name = filename or f"attachment-{len(acc.attachments) + 1}"
        acc.notes.append(
            f"attachment {name!r} (about {_estimated_size(part)} bytes) dropped: over the "
            f"{limits.max_attachment_bytes}-byte limit"
        )
        return
    data = _payload_bytes(part)
    if ctype.startswith("multipart/"):
        ctype = "application/octet-stream"
    _add_attachment(part, data, ctype, acc, limits, filename=filename)


def _walk_alternative(
    children: Sequence[object], acc: _Collected, limits: ParseLimits, depth: int
) -> None:
    sub_plain = _Collected(attachments=acc.attachments, data=acc.data, notes=acc.notes)
    sub_html = _Collected(attachments=acc.attachments, data=acc.data, notes=acc.notes)
    for child in children:
        if not isinstance(child, email.message.Message):
            continue
        ctype = _content_type(child)
        if ctype == "text/plain" and not _filename(child):
            sub_plain.plain.append(_part_text(child, acc.notes))
        elif ctype == "text/html" and not _filename(child):
            sub_html.html.append(_part_text(child, acc.notes))
        elif ctype.startswith("multipart/"):
            inner = _Collected(attachments=acc.attachments, data=acc.data, notes=acc.notes)
            _walk(child, inner, limits, depth + 1)
            if inner.html:
                sub_html.html = inner.html
                sub_html.plain = inner.plain
            elif inner.plain and not sub_plain.plain:
                sub_plain.plain = inner.plain
        else:
            _walk(child, acc, limits, depth + 1)
    if sub_plain.plain:
        # alternatives are one content rendered several ways (RFC 2046 5.1.4), never parts to
        # join: the first plain one is the plainest, which is what the text body is
        acc.plain.append(next((p for p in sub_plain.plain if p.strip()), sub_plain.plain[0]))
    elif sub_html.plain:
        acc.plain.extend(sub_html.plain)
    if sub_html.html:
        acc.html.extend(sub_html.html)


def _add_forward(
    part: email.message.Message, acc: _Collected, limits: ParseLimits, filename: str, depth: int
) -> None:
    payload = _raw_payload(part)
    inner: email.message.Message | None = None
    if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
        inner = payload[0]
    data: bytes
    if inner is not None:
        data = _as_bytes(inner)
        subject = decode_header_value(_raw_header(inner, "Subject"), _charset_hint(inner))
        if not filename:
            safe = re.sub(r"[\x00-\x1f/\\]", "_", subject).strip()
            filename = f"{safe[:120] or 'forwarded-message'}.eml"
        sub = _Collected(notes=acc.notes)
        _walk(inner, sub, limits, depth + 1)
        body = "\n".join(sub.plain) or html_to_text("\n".join(sub.html))
        if body.strip():
            acc.forwarded_text.append(body)
    else:
        data = _payload_bytes(part)
    _add_attachment(part, data, "message/rfc822", acc, limits, filename=filename)


def _as_bytes(msg: email.message.Message) -> bytes:
    """Serialise a parsed sub-message as close to its original bytes as we can."""
    buf = io.BytesIO()
    try:
        email.generator.BytesGenerator(buf, mangle_from_=False, maxheaderlen=0).flatten(msg)
        data = buf.getvalue()
    except Exception:
        try:
            data = msg.as_string().encode("utf-8", errors="surrogateescape")
        except Exception:
            data = b""
    if not data.strip():
        return b""
    data = _EMPTY_HEADER.sub(rb"\1:\n", data)
    return data.rstrip(b"\n") + b"\n"


_EMPTY_HEADER = re.compile(rb"^([!-9;-~]+): \n", re.MULTILINE)
