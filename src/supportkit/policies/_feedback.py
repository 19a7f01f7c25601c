"""Signed, expiring feedback links and the customer's answer (CSAT, NPS).

A feedback token binds one ticket, one customer and an expiry time, signed
with HMAC-SHA256 under the host's secret. Verification checks the
signature in constant time, then the expiry. Each token carries a
``token_id`` (the injected nonce) so storage can make it single-use: a
second answer is refused with :class:`FeedbackTokenReused`.

Token errors::

    ValidationError
     +-- FeedbackTokenError
          +-- MalformedFeedbackToken   not a token at all (truncated, mangled link)
          +-- ForgedFeedbackToken      signature does not match any known secret
          +-- ExpiredFeedbackToken     genuine but too old
          +-- FeedbackTokenReused      genuine, already answered
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import attrs

from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.domain._model import ensure_utc

__all__ = [
    "ExpiredFeedbackToken",
    "FeedbackClaim",
    "FeedbackLedger",
    "FeedbackResponse",
    "FeedbackTokenError",
    "FeedbackTokenReused",
    "FeedbackTokenSigner",
    "ForgedFeedbackToken",
    "MalformedFeedbackToken",
    "MemoryFeedbackLedger",
]

_VERSION = "v1"
MIN_SECRET_BYTES = 32
MAX_TOKEN_CHARS = 2_048
MAX_COMMENT_CHARS = 5_000


class FeedbackTokenError(ValidationError):
    """A feedback link that cannot be accepted; nothing was recorded."""


class MalformedFeedbackToken(FeedbackTokenError):
    pass


class ForgedFeedbackToken(FeedbackTokenError):
    pass


class ExpiredFeedbackToken(FeedbackTokenError):
    def __init__(self, token_id: str, expired_at: datetime) -> None:
        self.token_id = token_id
        self.expired_at = expired_at
        super().__init__(
            f"feedback token {token_id!r} expired at {expired_at.isoformat()}; "
            "ask the desk to send the customer a new feedback link"
        )


class FeedbackTokenReused(FeedbackTokenError):
    def __init__(self, token_id: str) -> None:
        self.token_id = token_id
        super().__init__(
            f"feedback token {token_id!r} was already used; each ticket takes one answer"
        )


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text or any(c not in _B64_CHARS for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@attrs.frozen
class FeedbackClaim:
    """What a verified token says: whose feedback on which ticket, valid until when."""

    ticket_id: str
    customer_id: str
    expires_at: datetime = attrs.field(converter=ensure_utc)
    token_id: str


class FeedbackTokenSigner:
    """Issue and verify feedback tokens.

    *secret* signs new tokens; *previous_secrets* are still accepted when
    verifying, so a host can rotate its key without breaking links already
    sent. *nonce_source* makes each token's id (e.g.
    ``lambda: secrets.token_urlsafe(16)``); it is injected to keep this pure.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        nonce_source: Callable[[], str],
        ttl: timedelta = timedelta(days=14),
        previous_secrets: Iterable[bytes] = (),
    ) -> None:
        keys = [secret, *previous_secrets]
        for key in keys:
            if not isinstance(key, bytes) or len(key) < MIN_SECRET_BYTES:
                raise ConfigurationError(
                    f"feedback token secrets must be at least {MIN_SECRET_BYTES} random bytes; "
                    "generate one with secrets.token_bytes(32)"
                )
        if ttl <= timedelta(0):
            raise ConfigurationError(f"feedback token ttl must be positive, got {ttl}")
        self._keys = keys
        self._nonce = nonce_source
        self.ttl = ttl

    @staticmethod
    def _sign(key: bytes, signed_part: str) -> bytes:
        return hmac.new(key, signed_part.encode("ascii"), hashlib.sha256).digest()

    def issue(self, ticket_id: str, customer_id: str, *, now: datetime) -> str:
        """A token for the customer's feedback link on *ticket_id*, valid for ``ttl``."""
        if not ticket_id or not customer_id:
            raise ValidationError("a feedback token needs a ticket id and a customer id")
        nonce = self._nonce()
        if not nonce:
            raise ConfigurationError("nonce_source returned an empty token id")
        expires = ensure_utc(now) + self.ttl
        payload = json.dumps(
            {"t": ticket_id, "c": customer_id, "e": int(expires.timestamp()), "n": nonce},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        signed_part = f"{_VERSION}.{_b64encode(payload)}"
        return f"{signed_part}.{_b64encode(self._sign(self._keys[0], signed_part))}"

    def verify(self, token: str, *, now: datetime, ticket_id: str | None = None) -> FeedbackClaim:
        """Check *token* and return its claim, or raise the specific FeedbackTokenError."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise MalformedFeedbackToken(
                "feedback token is not a string of a sane length; pass the token from the link"
            )
        parts = token.strip().split(".")
        if len(parts) != 3 or parts[0] != _VERSION:
            raise MalformedFeedbackToken(
                f"feedback token {_short(token)!r} is not a {_VERSION} token "
                "(expected three dot-separated parts); the link may be truncated"
            )
        try:
            signature = _b64decode(parts[2])
            payload_bytes = _b64decode(parts[1])
        except (ValueError, binascii.Error) as exc:
            raise MalformedFeedbackToken(
                f"feedback token {_short(token)!r} is not valid base64url; "
                "the link may have been mangled by an email client"
            ) from exc
        signed_part = f"{parts[0]}.{parts[1]}"
        if not any(hmac.compare_digest(self._sign(k, signed_part), signature) for k in self._keys):
            raise ForgedFeedbackToken(
                f"feedback token {_short(token)!r} has an invalid signature: it was not issued "
                "with this desk's secret, or it was altered"
            )
        claim = _claim(payload_bytes, token)
        if ticket_id is not None and claim.ticket_id != ticket_id:
            raise ForgedFeedbackToken(
                f"feedback token {claim.token_id!r} is for ticket {claim.ticket_id!r}, "
                f"not {ticket_id!r}"
            )
        if ensure_utc(now) >= claim.expires_at:
            raise ExpiredFeedbackToken(claim.token_id, claim.expires_at)
        return claim


def _short(token: str) -> str:
    return token if len(token) <= 24 else token[:20] + "..."


def _claim(payload_bytes: bytes, token: str) -> FeedbackClaim:
    try:
        data = json.loads(payload_bytes.decode("utf-8"))
        ticket, customer, expiry, nonce = data["t"], data["c"], data["e"], data["n"]
        if not (
            isinstance(ticket, str)
            and isinstance(customer, str)
            and isinstance(nonce, str)
            and isinstance(expiry, int)
        ):
            raise TypeError("wrong field types")
        expires_at = datetime.fromtimestamp(expiry, UTC)
    except (ValueError, KeyError, TypeError, OverflowError, OSError) as exc:
        raise MalformedFeedbackToken(
            f"feedback token {_short(token)!r} is signed but its content is unreadable"
        ) from exc
    return FeedbackClaim(ticket, customer, expires_at, nonce)


class FeedbackLedger(Protocol):
    """Remembers used token ids; storage implements it in the same transaction as the answer."""

    def claim(self, token_id: str) -> None:
        """Mark *token_id* used, or raise :class:`FeedbackTokenReused` if it already was."""


class MemoryFeedbackLedger:
    """A :class:`FeedbackLedger` in memory, for tests and the memory storage."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def claim(self, token_id: str) -> None:
        if token_id in self._used:
            raise FeedbackTokenReused(token_id)
        self._used.add(token_id)

    def __contains__(self, token_id: object) -> bool:
        return token_id in self._used


def _check_csat(_: object, __: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(f"CSAT score must be a whole number from 1 to 5, got {value!r}")


def _check_nps(_: object, __: object, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ValidationError(f"NPS score must be a whole number from 0 to 10, got {value!r}")


def _check_comment(_: object, __: object, value: str) -> None:
    if not isinstance(value, str):
        raise ValidationError(f"feedback comment must be text, got {type(value).__name__}")
    if len(value) > MAX_COMMENT_CHARS:
        raise ValidationError(
            f"feedback comment is {len(value)} characters; the limit is {MAX_COMMENT_CHARS}"
        )


@attrs.frozen
class FeedbackResponse:
    """The customer's answer: CSAT 1-5, an optional comment and an optional NPS 0-10."""

    csat: int = attrs.field(validator=_check_csat)
    comment: str = attrs.field(default="", validator=_check_comment)
    nps: int | None = attrs.field(default=None, validator=_check_nps)

    def is_low(self, threshold: int = 2) -> bool:
        """A score at or below *threshold* opens the complaint path (per the desk's policy)."""
        return self.csat <= threshold

    @property
    def nps_group(self) -> str | None:
        """``promoter`` (9-10), ``passive`` (7-8), ``detractor`` (0-6) or None."""
        if self.nps is None:
            return None
        return "promoter" if self.nps >= 9 else "passive" if self.nps >= 7 else "detractor"
