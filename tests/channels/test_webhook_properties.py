"""Properties of the webhook parser and signatures: any input gives a payload or a clear
MalformedMessage; a signature verifies only its own body, secret and time."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit import MalformedMessage, SupportDesk
from supportkit.channels import Address, InboundMessage, receive_inbound
from supportkit.channels.webhook import (
    SignatureError,
    WebhookPayload,
    parse_payload,
    signature_headers,
    verify,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
fields = st.sampled_from(
    [
        "sender",
        "name",
        "text",
        "html",
        "subject",
        "external_id",
        "in_reply_to",
        "thread_id",
        "ticket_number",
        "language",
        "sent_at",
        "attachments",
        "auto_submitted",
        "meta",
    ]
)


@given(st.dictionaries(fields, json_values, max_size=8))
def test_any_json_object_gives_a_payload_or_a_malformed_message(data: dict[str, object]) -> None:
    try:
        payload = parse_payload(json.dumps(data).encode(), "application/json")
    except MalformedMessage as exc:
        message = str(exc)
        assert message
    else:
        assert isinstance(payload, WebhookPayload)
        assert payload.sender.strip()
        assert payload.text.strip() or payload.html or payload.attachments


@given(st.binary(max_size=200))
def test_any_bytes_give_a_payload_or_a_malformed_message(body: bytes) -> None:
    for ctype in ("application/json", "application/x-www-form-urlencoded"):
        with contextlib.suppress(MalformedMessage):
            parse_payload(body, ctype)


@given(st.binary(max_size=300), st.text(min_size=1, max_size=20))
def test_a_signature_verifies_its_own_body_only(body: bytes, secret: str) -> None:
    headers = signature_headers(secret, body, NOW)
    verify([secret], body, headers, NOW)
    with pytest.raises(SignatureError):
        verify([secret], body + b"x", headers, NOW)
    with pytest.raises(SignatureError):
        verify([secret + "x"], body, headers, NOW)
    with pytest.raises(SignatureError):
        verify([secret], body, headers, NOW + timedelta(minutes=6))


def test_a_rotated_secret_still_verifies() -> None:
    headers = signature_headers("old", b"{}", NOW)
    verify(["new", "old"], b"{}", headers, NOW)


def test_receive_inbound_keeps_what_the_desk_has_no_field_for() -> None:
    desk = SupportDesk()
    message = InboundMessage(
        channel="email",
        external_id="<m1@x>",
        sender=Address("ann@example.com", "Ann"),
        subject="Invoice",
        text="It is wrong",
        full_text="It is wrong\n\n> quoted history",
        sent_at=NOW,
        is_bounce=True,
        notes=("charset guessed",),
    )
    ticket = receive_inbound(desk, message)
    [stored] = desk.messages(ticket.id)
    assert (stored.text, stored.external_id) == ("It is wrong", "<m1@x>")
    assert stored.meta["auto_submitted"] == "bounce"
    assert stored.meta["full_text"].endswith("quoted history")
    assert stored.meta["notes"] == ["charset guessed"]
    assert desk.get_customer(ticket.customer_id).name == "Ann"
