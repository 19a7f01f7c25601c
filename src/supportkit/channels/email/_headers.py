"""Header-level reading of raw mail: the header block, raw header values, ids and dates.

Headers are read as the wire has them (``raw_items``: no policy parsing that could
raise) and decoded by ``_charset``. A header block that lost its folding whitespace or
its closing blank line is repaired here before the stdlib parser sees it.
"""

from __future__ import annotations

import email.message
import email.utils
import hashlib
import re
from datetime import UTC, datetime

from ._charset import decode_header_value

_MSGID = re.compile(r"<[^<>\s]+>")


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


def _generated_id(raw: bytes) -> str:
    return f"<gen-{hashlib.md5(raw, usedforsecurity=False).hexdigest()}@supportkit.generated>"
