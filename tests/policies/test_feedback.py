from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.policies import (
    ExpiredFeedbackToken,
    FeedbackResponse,
    FeedbackTokenError,
    FeedbackTokenReused,
    FeedbackTokenSigner,
    ForgedFeedbackToken,
    MalformedFeedbackToken,
    MemoryFeedbackLedger,
)

SECRET = b"s" * 32
OTHER = b"o" * 32
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def signer(secret: bytes = SECRET, **kw: object) -> FeedbackTokenSigner:
    counter = itertools.count(1)
    return FeedbackTokenSigner(secret, nonce_source=lambda: f"n{next(counter)}", **kw)  # type: ignore[arg-type]


def test_issued_token_verifies_to_its_ticket_customer_expiry_and_id() -> None:
    s = signer(ttl=timedelta(days=7))
    claim = s.verify(s.issue("t-1", "c-9", now=NOW), now=NOW + timedelta(days=6))
    assert (claim.ticket_id, claim.customer_id, claim.token_id) == ("t-1", "c-9", "n1")
    assert claim.expires_at == NOW + timedelta(days=7)


def test_each_token_has_its_own_id_for_single_use() -> None:
    s = signer()
    a, b = s.issue("t-1", "c", now=NOW), s.issue("t-1", "c", now=NOW)
    assert s.verify(a, now=NOW).token_id != s.verify(b, now=NOW).token_id


def test_expired_token_is_refused_with_its_expiry_time() -> None:
    s = signer(ttl=timedelta(hours=1))
    token = s.issue("t-1", "c", now=NOW)
    with pytest.raises(ExpiredFeedbackToken, match=r"expired at 2026-03-01T13:00:00\+00:00"):
        s.verify(token, now=NOW + timedelta(hours=1))


def test_token_signed_with_another_secret_is_forged() -> None:
    token = signer(OTHER).issue("t-1", "c", now=NOW)
    with pytest.raises(ForgedFeedbackToken, match="invalid signature"):
        signer().verify(token, now=NOW)


def test_token_with_altered_content_is_forged() -> None:
    s = signer()
    version, payload, sig = s.issue("t-1", "c", now=NOW).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["t"] = "t-2"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(ForgedFeedbackToken):
        s.verify(f"{version}.{forged}.{sig}", now=NOW)


def test_a_forged_expiry_cannot_extend_a_token() -> None:
    s = signer(ttl=timedelta(hours=1))
    version, payload, sig = s.issue("t-1", "c", now=NOW).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["e"] += 86_400 * 365
    longer = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(ForgedFeedbackToken):
        s.verify(f"{version}.{longer}.{sig}", now=NOW + timedelta(days=2))


def test_token_for_another_ticket_is_refused() -> None:
    s = signer()
    with pytest.raises(ForgedFeedbackToken, match="is for ticket 't-1', not 't-2'"):
        s.verify(s.issue("t-1", "c", now=NOW), now=NOW, ticket_id="t-2")


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "v1.abc", "v2.abc.def", "v1.@@@.###", "v1..", "x" * 5000],
)
def test_malformed_tokens_are_refused_as_malformed(token: str) -> None:
    with pytest.raises(MalformedFeedbackToken):
        signer().verify(token, now=NOW)


def test_signed_but_unreadable_payload_is_malformed() -> None:
    import hashlib
    import hmac

    payload = base64.urlsafe_b64encode(b"not json").rstrip(b"=").decode()
    signed = f"v1.{payload}"
    sig = hmac.new(SECRET, signed.encode(), hashlib.sha256).digest()
    token = f"{signed}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"
    with pytest.raises(MalformedFeedbackToken, match="content is unreadable"):
        signer().verify(token, now=NOW)


def test_tokens_signed_with_a_previous_secret_still_verify_after_rotation() -> None:
    old_token = signer(OTHER).issue("t-1", "c", now=NOW)
    rotated = signer(SECRET, previous_secrets=[OTHER])
    assert rotated.verify(old_token, now=NOW).ticket_id == "t-1"


def test_reused_token_is_refused_by_the_ledger() -> None:
    s, ledger = signer(), MemoryFeedbackLedger()
    claim = s.verify(s.issue("t-1", "c", now=NOW), now=NOW)
    ledger.claim(claim.token_id)
    with pytest.raises(FeedbackTokenReused, match="already used"):
        ledger.claim(claim.token_id)
    assert claim.token_id in ledger


def test_every_token_error_is_a_validation_error() -> None:
    for cls in (
        MalformedFeedbackToken,
        ForgedFeedbackToken,
        ExpiredFeedbackToken,
        FeedbackTokenReused,
    ):
        assert issubclass(cls, FeedbackTokenError)
        assert issubclass(cls, ValidationError)


@pytest.mark.parametrize(
    ("secret", "kw", "message"),
    [
        (b"short", {}, "at least 32"),
        (SECRET, {"ttl": timedelta(0)}, "ttl must be positive"),
        (SECRET, {"previous_secrets": [b"x"]}, "at least 32"),
    ],
)
def test_signer_configuration_errors(secret: bytes, kw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        signer(secret, **kw)


@given(
    ticket=st.text(min_size=1, max_size=40),
    customer=st.text(min_size=1, max_size=40),
    ttl_s=st.integers(1, 10**8),
    flip=st.integers(0, 10_000),
)
def test_round_trip_and_any_single_character_change_is_refused(
    ticket: str, customer: str, ttl_s: int, flip: int
) -> None:
    s = signer(ttl=timedelta(seconds=ttl_s))
    token = s.issue(ticket, customer, now=NOW)
    claim = s.verify(token, now=NOW)
    assert (claim.ticket_id, claim.customer_id) == (ticket, customer)
    i = flip % len(token)
    replacement = "A" if token[i] != "A" else "B"
    tampered = token[:i] + replacement + token[i + 1 :]
    try:
        s.verify(tampered, now=NOW)
    except FeedbackTokenError:
        pass
    else:  # base64 padding bits can absorb a change of the last character only
        assert i == len(token) - 1 or tampered.split(".")[1] != token.split(".")[1]
        assert s.verify(tampered, now=NOW) == claim


# -- the customer's answer -----------------------------------------------------


def test_feedback_response_accepts_csat_comment_and_nps() -> None:
    r = FeedbackResponse(4, "Quick and kind", nps=9)
    assert (r.csat, r.comment, r.nps, r.nps_group) == (4, "Quick and kind", 9, "promoter")
    assert not r.is_low()
    assert FeedbackResponse(2).is_low()
    assert FeedbackResponse(5, nps=7).nps_group == "passive"
    assert FeedbackResponse(5, nps=0).nps_group == "detractor"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"csat": 0}, "CSAT score must be a whole number from 1 to 5, got 0"),
        ({"csat": 6}, "from 1 to 5"),
        ({"csat": True}, "from 1 to 5"),
        ({"csat": 4.5}, "from 1 to 5"),
        ({"csat": 3, "nps": 11}, "NPS score must be a whole number from 0 to 10, got 11"),
        ({"csat": 3, "nps": -1}, "from 0 to 10"),
        ({"csat": 3, "comment": "x" * 5001}, "limit is 5000"),
    ],
)
def test_out_of_range_feedback_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FeedbackResponse(**kwargs)  # type: ignore[arg-type]
