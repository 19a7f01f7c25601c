"""The inbound webhook app: signed, size-limited, schema-checked, idempotent, raw stored first."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supportkit import FakeClock, SupportDesk
from supportkit.channels import (
    ChannelRegistry,
    CustomerNotifier,
    MemoryChannel,
    OutboundDispatcher,
    TrackingLinks,
)
from supportkit.channels.webhook import WebhookInbound, sign, signature_headers

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "whsec-test"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Env:
    def __init__(self, **kw: Any) -> None:
        self.clock = FakeClock(START)
        self.email = MemoryChannel("email")
        self.telegram = MemoryChannel("telegram")
        dispatcher = OutboundDispatcher(ChannelRegistry([self.email, self.telegram]))
        self.desk = SupportDesk(
            clock=self.clock, extensions=[dispatcher, CustomerNotifier(dispatcher)]
        )
        self.inbound = WebhookInbound(self.desk, secrets=[SECRET], max_body_bytes=4096, **kw)
        self.client = TestClient(self.inbound.app)

    def post(
        self,
        source: str,
        payload: Any,
        *,
        headers: dict[str, str] | None = None,
        secret: str = SECRET,
        at: datetime | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        body = raw if raw is not None else json.dumps(payload).encode()
        h = signature_headers(secret, body, at or self.clock.now())
        h["Content-Type"] = content_type
        h.update(headers or {})
        return self.client.post(f"/inbound/{source}", content=body, headers=h)

    def stored(self) -> tuple[int, int]:
        with self.desk.storage.unit_of_work() as uow:
            return len(uow.list_raw_inbound()), len(self.desk.find_tickets())


@pytest.fixture
def env() -> Env:
    return Env()


def test_a_messenger_message_opens_a_ticket_on_its_source_channel(env: Env) -> None:
    r = env.post(
        "telegram",
        {
            "sender": "tg-1001",
            "name": "Ann",
            "text": "Bot is down",
            "external_id": "m-1",
            "thread_id": "chat-7",
            "language": "ru",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    t = env.desk.get_ticket(body["ticket_id"])
    assert (t.channel, t.number, t.language, body["status"]) == ("telegram", 1, "ru", "registered")
    [msg] = [m for m in env.desk.messages(t.id) if m.direction.value == "inbound"]
    assert (msg.external_id, msg.meta["thread_id"], msg.meta["source"]) == (
        "telegram:m-1",
        "chat-7",
        "telegram",
    )
    with env.desk.storage.unit_of_work() as uow:
        [raw] = uow.list_raw_inbound()
    assert (raw.status, raw.ticket_id, raw.channel) == ("processed", t.id, "webhook:telegram")
    assert env.telegram.sent[0].recipient == "tg-1001"  # acknowledged in the messenger


def test_later_messages_of_a_thread_join_its_ticket(env: Env) -> None:
    first = env.post("forum", {"sender": "bob", "text": "Q", "thread_id": "topic-9"}).json()
    second = env.post("forum", {"sender": "bob", "text": "more", "thread_id": "topic-9"}).json()
    other = env.post("forum", {"sender": "bob", "text": "new", "thread_id": "topic-10"}).json()
    assert first["ticket_id"] == second["ticket_id"] != other["ticket_id"]


def test_in_reply_to_and_ticket_number_thread_too(env: Env) -> None:
    first = env.post("vk", {"sender": "u1", "text": "Q", "external_id": "p1"}).json()
    by_ref = env.post(
        "vk", {"sender": "u1", "text": "A", "external_id": "p2", "in_reply_to": "p1"}
    ).json()
    by_number = env.post("vk", {"sender": "u1", "text": "B", "ticket_number": "#1"}).json()
    assert first["ticket_id"] == by_ref["ticket_id"] == by_number["ticket_id"]


def test_a_web_form_submission_is_accepted_urlencoded(env: Env) -> None:
    r = env.post(
        "webform",
        None,
        raw=b"sender=ann%40example.com&name=Ann&subject=Refund&text=Please+refund",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 200, r.text
    t = env.desk.get_ticket(r.json()["ticket_id"])
    assert (t.subject, t.channel) == ("Refund", "webform")
    customer = env.desk.find_customer("email", "ann@example.com")
    assert customer is not None
    assert customer.id == t.customer_id


def test_html_is_sanitised_before_it_is_stored(env: Env) -> None:
    r = env.post(
        "webform",
        {"sender": "a@example.com", "text": "hi", "html": "<p>hi</p><script>alert(1)</script>"},
    )
    msg = env.desk.messages(r.json()["ticket_id"])[0]
    assert msg.html is not None
    assert "<script" not in msg.html
    assert "hi" in msg.html


def test_attachment_metadata_is_kept_with_urls(env: Env) -> None:
    r = env.post(
        "telegram",
        {
            "sender": "tg-1",
            "attachments": [
                {
                    "filename": "shot.png",
                    "content_type": "image/png",
                    "size": 1234,
                    "url": "https://cdn.example.com/shot.png",
                }
            ],
        },
    )
    assert r.status_code == 200, r.text
    msg = env.desk.messages(r.json()["ticket_id"])[0]
    assert [a.filename for a in msg.attachments] == ["shot.png"]
    assert msg.meta["attachment_urls"] == {"shot.png": "https://cdn.example.com/shot.png"}


def test_a_retried_delivery_gets_the_same_answer_and_stores_nothing_new(env: Env) -> None:
    payload = {"sender": "tg-1", "text": "hello"}
    first = env.post("telegram", payload, headers={"Idempotency-Key": "k-1"})
    again = env.post("telegram", payload, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert env.stored() == (1, 1)
    assert len(env.desk.messages(first.json()["ticket_id"])) == 1


def test_the_external_id_is_an_idempotency_key_too(env: Env) -> None:
    payload = {"sender": "tg-1", "text": "hello", "external_id": "m-5"}
    assert env.post("telegram", payload).json() == env.post("telegram", payload).json()
    assert env.stored() == (1, 1)


def test_an_idempotency_key_reused_for_another_body_is_refused(env: Env) -> None:
    env.post("telegram", {"sender": "tg-1", "text": "one"}, headers={"Idempotency-Key": "k"})
    r = env.post("telegram", {"sender": "tg-1", "text": "two"}, headers={"Idempotency-Key": "k"})
    assert r.status_code == 422
    assert r.json()["error"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"secret": "forged"}, "does not match"),
        ({"at": START - timedelta(minutes=6)}, "replayed"),
        ({"at": START + timedelta(minutes=6)}, "replayed"),
    ],
)
def test_forged_or_replayed_requests_are_refused_and_nothing_is_stored(
    env: Env, change: dict[str, Any], detail: str
) -> None:
    r = env.post("telegram", {"sender": "tg-1", "text": "hi"}, **change)
    assert r.status_code == 401
    assert r.json()["error"] == "bad_signature"
    assert detail in r.json()["detail"]
    assert env.stored() == (0, 0)


def test_an_unsigned_request_is_refused(env: Env) -> None:
    r = env.client.post("/inbound/telegram", json={"sender": "x", "text": "hi"})
    assert r.status_code == 401
    assert "not signed" in r.json()["detail"]
    assert env.stored() == (0, 0)


def test_a_body_signed_then_changed_is_refused(env: Env) -> None:
    body = json.dumps({"sender": "x", "text": "hi"}).encode()
    ts = int(START.timestamp())
    r = env.client.post(
        "/inbound/telegram",
        content=body.replace(b"hi", b"yo"),
        headers={
            "X-Supportkit-Timestamp": str(ts),
            "X-Supportkit-Signature": sign(SECRET, body, ts),
        },
    )
    assert r.status_code == 401


def test_an_oversized_body_is_refused_before_it_is_read(env: Env) -> None:
    r = env.post("telegram", {"sender": "x", "text": "a" * 5000})
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"
    assert "4096" in r.json()["detail"]
    assert env.stored() == (0, 0)


@pytest.mark.parametrize(
    ("raw", "status", "error", "detail"),
    [
        (b"{not json", 422, "malformed_payload", "not valid UTF-8 JSON"),
        (b"[1, 2]", 422, "malformed_payload", "must be a JSON object"),
        (b'{"text": "no sender"}', 422, "malformed_payload", "'sender' is required"),
        (b'{"sender": "x"}', 422, "malformed_payload", "no text, html or attachments"),
        (b'{"sender": "x", "txt": "typo"}', 422, "malformed_payload", "unknown fields ['txt']"),
        (
            b'{"sender": "x", "text": "a", "sent_at": "yesterday"}',
            422,
            "malformed_payload",
            "ISO 8601",
        ),
        (
            b'{"sender": "x", "text": "a", "attachments": [{"filename": ""}]}',
            422,
            "malformed_payload",
            "filename",
        ),
        (
            b'{"sender": "x", "text": "a", "ticket_number": "abc"}',
            422,
            "malformed_payload",
            "not a number",
        ),
        (b"\xff\xfe", 422, "malformed_payload", "UTF-8"),
    ],
)
def test_malformed_payloads_get_a_clear_error_and_store_nothing(
    env: Env, raw: bytes, status: int, error: str, detail: str
) -> None:
    r = env.post("telegram", None, raw=raw)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error
    assert detail in r.json()["detail"]
    assert env.stored() == (0, 0)


def test_an_unsupported_content_type_is_415(env: Env) -> None:
    r = env.post("telegram", None, raw=b"<xml/>", content_type="application/xml")
    assert r.status_code == 415
    assert env.stored() == (0, 0)


def test_an_unknown_source_is_404() -> None:
    env = Env(sources=["webform"])
    assert env.post("telegram", {"sender": "x", "text": "a"}).status_code == 404
    assert env.post("Bad Source!", {"sender": "x", "text": "a"}).status_code == 404


def test_a_processing_failure_keeps_the_raw_body_with_its_error(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_receive = env.desk.receive

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(env.desk, "receive", broken)
    r = env.post("telegram", {"sender": "tg-1", "text": "hello", "external_id": "m-9"})
    assert r.status_code == 503
    assert r.json()["error"] == "processing_failed"
    with env.desk.storage.unit_of_work() as uow:
        [raw] = uow.list_raw_inbound()
    assert raw.status == "failed"
    assert "RuntimeError: database went away" in (raw.error or "")
    assert json.loads(raw.raw)["text"] == "hello"
    retry = env.post("telegram", {"sender": "tg-1", "text": "hello", "external_id": "m-9"})
    assert retry.status_code == 503  # the kept body is tried again, not stored twice
    with env.desk.storage.unit_of_work() as uow:
        assert [r.id for r in uow.list_raw_inbound()] == [raw.id]

    monkeypatch.setattr(env.desk, "receive", real_receive)
    assert env.inbound.reprocess_failed() == 0  # retried once per lease, not on every pass
    env.clock.advance(env.inbound.lease)
    assert env.inbound.reprocess_failed() == 1
    [ticket] = env.desk.find_tickets()
    assert env.desk.messages(ticket.id)[0].text == "hello"
    again = env.post("telegram", {"sender": "tg-1", "text": "hello", "external_id": "m-9"})
    assert again.status_code == 200
    assert again.json()["ticket_id"] == ticket.id


def test_automatic_messages_are_kept_but_not_acknowledged(env: Env) -> None:
    r = env.post("telegram", {"sender": "tg-1", "text": "I am away", "auto_submitted": True})
    assert r.status_code == 200
    assert env.telegram.sent == []


def test_tracking_needs_the_customer_without_links(env: Env) -> None:
    env.post("webform", {"sender": "ann@example.com", "text": "hi", "subject": "Refund"})
    assert env.client.get("/track/1").status_code == 400
    assert env.client.get("/track/1?customer=eve@example.com").status_code == 404
    r = env.client.get("/track/1?customer=ann@example.com")
    assert r.status_code == 200
    assert (r.json()["subject"], r.json()["status_label"]) == (
        "Refund",
        "registered, waiting for an agent",
    )


def test_tracking_with_links_needs_the_token() -> None:
    links = TrackingLinks("https://h/track/{number}?token={token}", "k")
    env = Env(tracking=links)
    r = env.post("webform", {"sender": "ann@example.com", "text": "hi"})
    assert r.json()["tracking_url"] == links.url(1)
    assert env.client.get(f"/track/1?token={links.token(1)}").status_code == 200
    assert env.client.get(f"/track/2?token={links.token(1)}").status_code == 404
    assert env.client.get("/track/1?token=guess").status_code == 404


def test_unsigned_endpoints_must_be_asked_for() -> None:
    from supportkit import ConfigurationError

    with pytest.raises(ConfigurationError, match="allow_unsigned"):
        WebhookInbound(SupportDesk())
    app = WebhookInbound(SupportDesk(), allow_unsigned=True).app
    r = TestClient(app).post("/inbound/webform", json={"sender": "a@example.com", "text": "hi"})
    assert r.status_code == 200
