"""HMAC-SHA256 signatures for webhooks, both ways.

The sender puts the Unix time in ``X-Supportkit-Timestamp`` and
``sha256=<hex>`` in ``X-Supportkit-Signature``, the HMAC of
``b"<timestamp>." + body`` under the shared secret. The receiver recomputes
it with a constant-time compare and refuses timestamps outside a tolerance,
so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from ..domain._errors import ChannelError, ConfigurationError

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignatureError",
    "sign",
    "signature_headers",
    "verify",
]

SIGNATURE_HEADER = "X-Supportkit-Signature"
_UNIX_SECONDS = re.compile(r"-?[0-9]{1,12}")
TIMESTAMP_HEADER = "X-Supportkit-Timestamp"


class SignatureError(ChannelError):
    """A webhook request whose signature is missing, wrong or too old."""


def _key(secret: str | bytes) -> bytes:
    if not secret:
        raise ConfigurationError("a webhook secret cannot be empty")
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The signature header value for *body* sent at *timestamp* (Unix seconds)."""
    mac = hmac.new(_key(secret), str(int(timestamp)).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signature_headers(secret: str | bytes, body: bytes, now: datetime) -> dict[str, str]:
    """Both headers a sender adds to a request carrying *body*."""
    ts = int(now.timestamp())
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, body, ts)}


def verify(
    secrets: Sequence[str | bytes],
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    tolerance: timedelta = timedelta(minutes=5),
) -> None:
    """Raise SignatureError unless *headers* sign *body* under one of *secrets*, recently.

    Several secrets allow rotating one without downtime.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    ts_text = lowered.get(TIMESTAMP_HEADER.lower(), "").strip()
    given = lowered.get(SIGNATURE_HEADER.lower(), "").strip()
    if not ts_text or not given:
        raise SignatureError(
            f"request is not signed: send {TIMESTAMP_HEADER} and "
            f"{SIGNATURE_HEADER}: sha256=<hex HMAC of '<timestamp>.' + body>"
        )
    if not _UNIX_SECONDS.fullmatch(ts_text):
        raise SignatureError(f"{TIMESTAMP_HEADER} {ts_text[:40]!r} is not Unix seconds")
    ts = int(ts_text)
    if not given.isascii() or len(given) > 200:
        raise SignatureError(f"{SIGNATURE_HEADER} is not sha256=<hex>: wrong format")
    skew = abs(now.timestamp() - ts)
    if skew > tolerance.total_seconds():
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is {int(skew)}s away from now (tolerance "
            f"{int(tolerance.total_seconds())}s): a replayed request, or the sender's clock is off"
        )
    for secret in secrets:
        if hmac.compare_digest(sign(secret, body, ts), given):
            return
    raise SignatureError("signature does not match the body: wrong secret, or the body changed")
