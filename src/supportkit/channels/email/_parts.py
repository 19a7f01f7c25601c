"""One MIME part's facts: its type, disposition, file name and decoded payload bytes.

Every accessor is tolerant: a broken parameter or transfer encoding gives a default or
the bytes as stored, never an exception.
"""

from __future__ import annotations

import binascii
import email.message
import email.utils
import re
from typing import Any

from ._charset import decode_header_value


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
