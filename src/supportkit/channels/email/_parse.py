"""Raw RFC 822 bytes → :class:`~supportkit.channels._inbound.InboundMessage`.

The parser never raises on real-world mail. It uses the stdlib parser in
its tolerant ``compat32`` mode for structure and transfer encodings, and
decodes headers and text itself (see ``_charset``), because the modern
policy raises on some broken headers. Whatever had to be repaired or
dropped is written to ``InboundMessage.notes``.

Body choice: text/plain and text/html parts that are not attachments form
the body (several inline parts are joined in order). ``html`` is the
sanitised HTML when there was any; ``full_text`` is the plain text, or the
HTML flattened to text when the mail was HTML-only; ``text`` is the visible
reply within it. Everything else, forwarded ``message/rfc822`` parts
included, becomes an attachment, subject to ``max_attachment_bytes``.
"""

from __future__ import annotations

import binascii
import email
import email.generator
import email.message
import email.policy
import email.utils
import hashlib
import io
import mimetypes
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from supportkit.channels._inbound import Address, InboundMessage
from supportkit.domain._errors import MalformedMessage, SupportKitError
from supportkit.domain._model import Attachment

from ._charset import ENCODED_WORD_RUN, decode_bytes, decode_header_value
from ._html import html_to_text, sanitise_html
from ._loop import classify_loop
from ._quote import visible_reply
from ._structure import MAX_MIME_DEPTH, mime_depth

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "ParseLimits",
    "format_addresses",
    "parse_addresses",
    "parse_email",
]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024

_MSGID = re.compile(r"<[^<>\s]+>")


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


_HEADER_START = re.compile(rb"^[!-9;-~]{1,76}[ \t]*:")
_BODY_SPLIT = re.compile(rb"\r?\n\r?\n")


def _strip_mbox_envelope(raw: bytes) -> bytes:
    if raw.startswith(b"From "):
        nl = raw.find(b"\n")
        return raw[nl + 1 :] if nl >= 0 else b""
    return raw


def _repair_header_block(raw: bytes) -> bytes:
    """Re-join header lines that lost their folding whitespace.

    Some gateways break long headers without indenting the continuation, and
    some prepend a banner line; the stdlib would then take the rest of the
    header block for the body. A line in the header block that is neither a
    header nor indented becomes a continuation of the previous header.
    """
    split = _BODY_SPLIT.search(raw)
    end = split.start() if split else len(raw)
    block = raw[:end]
    lines = block.splitlines(keepends=True)
    if not lines or all(_HEADER_START.match(x) or x[:1] in (b" ", b"\t") for x in lines):
        return raw
    if sum(1 for x in lines if _HEADER_START.match(x)) < 2:
        return raw
    last = max(i for i, x in enumerate(lines) if _HEADER_START.match(x))
    while last + 1 < len(lines) and lines[last + 1][:1] in (b" ", b"\t"):
        last += 1  # the last header's own folded lines
    out: list[bytes] = []
    for line in lines[: last + 1]:
        if _HEADER_START.match(line) or line[:1] in (b" ", b"\t"):
            out.append(line)
        elif out:
            out.append(b" " + line)
    if last + 1 == len(lines):
        return b"".join(out) + raw[end:]
    # no header after this line: the blank line was missing and the body starts here (RFC 5322
    # has no other reading; CPython's parser does the same)
    eol = b"\r\n" if lines[last].endswith(b"\r\n") else b"\n"
    return b"".join(out) + eol + b"".join(lines[last + 1 :]) + raw[end:]


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


def _header_pairs(msg: email.message.Message, hint: str | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in msg.raw_items():  # raw pairs: no policy parsing that could raise
        pairs.append((str(name), decode_header_value(str(value), hint)))
    return pairs


_SINGLE_BYTE = re.compile(r"^(iso-?8859|windows-|cp125|koi8|latin|us-ascii|ascii)", re.I)


def _charset_hint(msg: email.message.Message) -> str | None:
    """The charset to try for raw 8-bit header bytes: one declared in the body.

    Multi-byte charsets come first: a strict decode with them rarely succeeds
    by accident, while any byte string "decodes" as ISO-8859-1.
    """
    found: list[str] = []
    for part in msg.walk():
        try:
            charset = part.get_content_charset()
        except Exception:
            continue
        if charset and charset.lower() not in ("us-ascii", "ascii") and charset not in found:
            found.append(charset)
    found.sort(key=lambda c: bool(_SINGLE_BYTE.match(c)))
    return found[0] if found else None


def _raw_headers(msg: email.message.Message, name: str) -> list[str]:
    """Every value of header *name*, as on the wire, in order."""
    wanted = name.lower()
    return [
        value if isinstance(value, str) else str(value)
        for key, value in msg.raw_items()
        if key.lower() == wanted
    ]


def _raw_header(msg: email.message.Message, name: str) -> str:
    """The header as it was on the wire (8-bit bytes surrogate-escaped)."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return value if isinstance(value, str) else str(value)
    return ""


_STASHED = re.compile(r"skword\d+x")


def parse_addresses(raw_value: str, hint: str | None = None) -> tuple[Address, ...]:
    """The addresses in a raw address header (From, To, Cc, ...), decoded.

    >>> parse_addresses('"Lee, Ann" <ann@example.com>, bob@example.com')
    (Address(address='ann@example.com', name='Lee, Ann'), Address(address='bob@example.com', name=''))
    """
    if not raw_value.strip():
        return ()
    unfolded = re.sub(r"\r?\n[ \t]*", " ", raw_value)
    # encoded words are decoded first and stood in for by atoms, so what they hold (a comma,
    # two spaces, a quote) is content, never address syntax
    words: dict[str, str] = {}

    def stash(m: re.Match[str]) -> str:
        key = f"skword{len(words)}x"
        words[key] = decode_header_value(m.group(0), hint)
        return key

    unfolded = ENCODED_WORD_RUN.sub(stash, unfolded)
    if any("\udc80" <= ch <= "\udcff" for ch in unfolded) or "\x1b" in unfolded:
        unfolded = decode_header_value(unfolded, hint)

    def restore(text: str) -> str:
        return _STASHED.sub(lambda m: words.get(m.group(0), m.group(0)), text) if words else text

    try:
        pairs = email.utils.getaddresses([unfolded])
    except Exception:
        pairs = []
    out: list[Address] = []
    for name, addr in pairs:
        addr = restore(decode_header_value(addr, hint)).strip().strip("<>").strip()
        name = restore(decode_header_value(name, hint).strip().strip('"').strip())
        if "(" in name and not name.startswith("("):
            name = re.sub(r"\s*\([^()]*\)\s*", " ", name).strip() or name
        name = name.strip("()").strip()
        if not addr and not name:
            continue
        if "@" not in addr and "@" in name:
            addr, name = name, addr
        out.append(Address(addr, name))
    if not out:
        decoded = decode_header_value(raw_value, hint)
        match = re.search(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+", decoded)
        if match:
            name = decoded.replace(match.group(0), "").strip(" <>\"'()")
            out.append(Address(match.group(0), name))
    return tuple(out)


def format_addresses(addresses: tuple[Address, ...]) -> str:
    """Addresses as one header-style string; names quoted only when needed.

    >>> format_addresses((Address("ann@example.com", "Lee, Ann"),))
    '"Lee, Ann" <ann@example.com>'
    """
    out = []
    for item in addresses:
        if not item.name:
            out.append(item.address)
        elif _ATEXT_PHRASE.fullmatch(item.name):
            out.append(f"{item.name} <{item.address}>")
        else:
            escaped = item.name.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'"{escaped}" <{item.address}>')
    return ", ".join(out)


_ATEXT_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\- ]+")


def _message_ids(value: str) -> tuple[str, ...]:
    value = decode_header_value(value)
    found = _MSGID.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [f"<{value.strip().strip('<>')}>"]
    return tuple(found)


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(decode_header_value(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _content_type(part: email.message.Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _disposition(part: email.message.Message) -> str:
    value = part.get("Content-Disposition")
    if value is None:
        return ""
    return str(value).split(";", 1)[0].strip().lower()


def _filename(part: email.message.Message) -> str:
    name: object = None
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:
        name = None
    if isinstance(name, tuple):
        name = email.utils.collapse_rfc2231_value(name)
    text = decode_header_value(str(name)) if name else ""
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip().strip('"')
    return re.sub(r"[\x00-\x1f]", "", text)


def _described(part: email.message.Message, ext: str) -> str:
    """A filename from Content-Description, e.g. 'Delivery report' + '.txt'."""
    desc = decode_header_value(str(part.get("Content-Description") or ""))
    desc = re.sub(r"[\x00-\x1f/\\]", "_", desc).strip()
    if not desc or len(desc) > 100:
        return ""
    return desc if re.search(r"\.\w{2,5}$", desc) else desc + ext


def _raw_payload(part: email.message.Message) -> Any:
    """``part.get_payload()``, which decodes 8-bit text with the part's ``charset``
    parameter and raises ValueError on a NUL in it; then the payload as stored."""
    try:
        return part.get_payload()
    except (ValueError, LookupError):
        return getattr(part, "_payload", None)  # the stdlib's own storage, undecoded


def _payload_bytes(part: email.message.Message) -> bytes:
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    raw_payload = _raw_payload(part)
    if cte == "base64" and isinstance(raw_payload, str):
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", raw_payload.split("=", 1)[0])
        cleaned = cleaned[: len(cleaned) - len(cleaned) % 4 if len(cleaned) % 4 == 1 else None]
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return binascii.a2b_base64(cleaned)
        except (binascii.Error, ValueError):
            pass
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = _raw_payload(part)
    if isinstance(raw, str):
        return raw.encode("utf-8", errors="surrogateescape")
    return b""


def _estimated_size(part: email.message.Message) -> int:
    raw = _raw_payload(part)
    if not isinstance(raw, str):
        return 0
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    return len(raw) * 3 // 4 if cte == "base64" else len(raw)


def _part_text(part: email.message.Message, notes: list[str]) -> str:
    data = _payload_bytes(part)
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text, note = decode_bytes(data, charset)
    if note:
        notes.append(note)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fmt = str(part.get_param("format") or "").lower() if part.get("Content-Type") else ""
    if fmt == "flowed" and _content_type(part) == "text/plain":
        delsp = str(part.get_param("delsp") or "").lower() == "yes"
        text = _unflow(text, delsp)
    return text


def _unflow(text: str, delsp: bool) -> str:
    out: list[str] = []
    buf = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]
        if line.endswith(" ") and line != "-- ":
            buf += line[:-1] if delsp else line
        else:
            out.append(buf + line)
            buf = ""
    if buf:
        out.append(buf)
    return "\n".join(out)


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


_MAILBOX = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+")


def _usable(address: Address) -> bool:
    """A mailbox one can answer: ``local@domain``, nothing else in it."""
    return bool(_MAILBOX.fullmatch(address.address))


def _sender(msg: email.message.Message, hint: str | None) -> Address:
    """Who to answer: the first usable mailbox of every ``From`` header (there may be two),
    then ``Reply-To``, ``Sender``, ``Return-Path``. An empty (``"Name" <>``) or garbage
    address is skipped, its display name kept for the mailbox that is used instead."""
    name = ""
    for header in ("From", "Reply-To", "Sender", "Return-Path"):
        for value in _raw_headers(msg, header):
            for found in parse_addresses(value, hint):
                if _usable(found):
                    return Address(found.address, found.name or name)
                name = name or found.name
    return Address("", name)


def _generated_id(raw: bytes) -> str:
    return f"<gen-{hashlib.md5(raw, usedforsecurity=False).hexdigest()}@supportkit.generated>"


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
    html_src = "\n".join(h for h in acc.html if h.strip())
    html = sanitise_html(html_src) if html_src else None
    if acc.plain and any(p.strip() for p in acc.plain):
        full_text = "\n".join(acc.plain)
    elif html_src:
        full_text = html_to_text(html_src)
    else:
        full_text = "\n".join(acc.plain)
    if not full_text.strip() and acc.forwarded_text:
        full_text = "\n\n".join(acc.forwarded_text)
    if len(full_text) > limits.max_text_chars:
        acc.notes.append(f"text cut at {limits.max_text_chars} characters")
        full_text = full_text[: limits.max_text_chars]
    full_text = full_text.replace("\x00", "")
    text = visible_reply(full_text)

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
