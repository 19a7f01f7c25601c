"""Hostile requests to the webhook and tracking endpoints: a 4xx that stores nothing, never a 500.

Each case is one the issue found answering 500, dropping the connection, or
keeping a raw body that could never succeed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportkit.channels import TrackingLinks
from supportkit.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

from .test_webhook_inbound import SECRET, Env


def _deep(n: int) -> Any:
    value: Any = "leaf"
    for _ in range(n):
        value = {"k": value}
    return value


@pytest.fixture
def env() -> Env:
    big = Env(tracking=TrackingLinks("https://x.example/t/{number}?t={token}", "tracking-secret"))
    big.inbound.max_body_bytes = 256 * 1024
    return big


def _signed_raw(env: Env, body: bytes, **headers: Any) -> Any:
    ts = int(env.clock.now().timestamp())
    h: dict[str, Any] = {
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: sign(SECRET, body, ts),
        "Content-Type": "application/json",
    }
    h.update(headers)
    return env.client.post("/inbound/telegram", content=body, headers=h)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"[" * 100_000, "nests deeper"),
        (json.dumps({"sender": "x", "text": "a", "meta": {"a": [[[[[[]]]]]] * 1}}).encode(), ""),
        (b'{"sender": "x", "text": "\\ud800 lone"}', "surrogate"),
        (b'{"sender": "\\udfff", "text": "a"}', "surrogate"),
        (b'{"sender": "x", "text": "a", "ticket_number": ' + b"1" + b"0" * 30 + b"}", "ticket"),
        (b'{"sender": "x", "text": "a", "ticket_number": "' + b"9" * 400 + b'"}', "ticket"),
        (b'{"sender": "x", "text": "a", "sent_at": "9999-12-31T23:59:59+00:00"}', "sent_at"),
        (b'{"sender": "x", "text": "a", "sent_at": "0001-01-01T00:00:00+05:00"}', "sent_at"),
        (b'{"sender": "x", "text": "a", "n": ' + b"9" * 5000 + b"}", "JSON"),
        (json.dumps({"sender": "x", "text": "a", "meta": _deep(40)}).encode(), "nests deeper"),
    ],
    ids=[
        "100k-brackets",
        "shallow-meta-ok",
        "lone-surrogate-text",
        "lone-surrogate-sender",
        "ticket-number-10e30",
        "ticket-number-400-digits",
        "sent-at-9999",
        "sent-at-year-1",
        "5000-digit-number",
        "meta-40-deep",
    ],
)
def test_hostile_bodies_get_a_4xx_and_store_nothing(env: Env, body: bytes, fragment: str) -> None:
    r = _signed_raw(env, body)
    if not fragment:
        assert r.status_code == 200, r.text
        return
    assert r.status_code == 422, r.text
    assert fragment.lower() in r.json()["detail"].lower()
    assert env.stored() == (0, 0)


@pytest.mark.parametrize(
    "headers",
    [
        {SIGNATURE_HEADER: "sha256=\xe9" + "0" * 63},
        {TIMESTAMP_HEADER: "1" * 400},
        {TIMESTAMP_HEADER: "-" + "9" * 30},
        {TIMESTAMP_HEADER: "１２３"},  # fullwidth digits: int() would take them
        {SIGNATURE_HEADER: "x" * 10_000},
    ],
    ids=["non-ascii-signature", "400-digit-timestamp", "huge-negative", "fullwidth", "long"],
)
def test_hostile_signature_headers_are_401(env: Env, headers: dict[str, str]) -> None:
    body = b'{"sender": "x", "text": "a"}'
    encoded = {k: v.encode("utf-8") for k, v in headers.items()}  # raw bytes on the wire
    r = _signed_raw(env, body, **encoded)
    assert r.status_code == 401, r.text
    assert env.stored() == (0, 0)


@pytest.mark.parametrize(
    "path",
    [
        "/track/1?token=%C3%A9",
        "/track/1?token=%00",
        "/track/1?token=%ED%A0%80",
        "/track/" + "9" * 40 + "?token=x",
        "/track/99999999999999999999",
    ],
)
def test_hostile_tracking_links_are_404(env: Env, path: str) -> None:
    env.post("telegram", {"sender": "tg-1", "text": "hello"})
    r = env.client.get(path)
    assert r.status_code == 404, r.text


def test_a_replayed_signed_request_without_keys_is_stored_once(env: Env) -> None:
    """Captured within the tolerance window and sent again (from any process): one message."""
    body = b'{"sender": "tg-1", "text": "pay me twice"}'
    first = _signed_raw(env, body)
    env.clock.advance(timedelta(minutes=2))
    ts = int((env.clock.now() - timedelta(minutes=2)).timestamp())
    replay = env.client.post(
        "/inbound/telegram",
        content=body,
        headers={
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(SECRET, body, ts),
            "Content-Type": "application/json",
        },
    )
    assert first.status_code == 200
    assert replay.status_code == 200
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json()
    assert env.stored() == (1, 1)
    [ticket] = env.desk.find_tickets()
    assert len(env.desk.messages(ticket.id, include_notes=False)) == 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
_FIELDS = st.sampled_from(
    ["sender", "text", "html", "subject", "external_id", "ticket_number", "sent_at", "meta",
     "attachments", "thread_id", "language", "auto_submitted", "in_reply_to", "name"]
)  # fmt: skip
_ALLOWED = {200, 401, 404, 409, 413, 415, 422}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.dictionaries(_FIELDS, _JSON, max_size=8),
    raw=st.one_of(st.none(), st.binary(max_size=300)),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "a/b+json"]
    ),
    sign_it=st.booleans(),
)
def test_fuzzed_posts_never_answer_500(
    env: Env, payload: dict[str, Any], raw: bytes | None, content_type: str, sign_it: bool
) -> None:
    body = raw if raw is not None else json.dumps(payload).encode()
    if sign_it:
        r = _signed_raw(env, body, **{"Content-Type": content_type})
    else:
        r = env.client.post(
            "/inbound/telegram", content=body, headers={"Content-Type": content_type}
        )
    assert r.status_code in _ALLOWED, r.text
    if r.status_code != 200:
        assert r.json()["error"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.text(max_size=30), token=st.text(max_size=60))
def test_fuzzed_tracking_links_never_answer_500(env: Env, number: str, token: str) -> None:
    from urllib.parse import quote

    r = env.client.get(f"/track/{quote(number, safe='')}?token={quote(token, safe='')}")
    assert r.status_code in {400, 404, 405}, r.text
