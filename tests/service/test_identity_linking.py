"""One customer across channels: verified matches link, unverified ones are proposed, splits undo."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest

from supportkit import (
    CustomerLinked,
    CustomerSplit,
    FakeClock,
    Identity,
    IdentityMatchProposed,
    NotFound,
    SupportDesk,
    ValidationError,
)
from supportkit.channels.chat import ChatChannel, ChatEndpoint
from supportkit.channels.phone import PhoneChannel
from supportkit.channels.webhook import WebhookInbound, signature_headers
from supportkit.policies import IdentityLinking
from tests.channels.test_chat import until
from tests.service.conftest import desk_with_events

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def _desk(storage: Any, **kw: Any) -> tuple[SupportDesk, list[Any]]:
    return desk_with_events(storage, START, **kw)


def test_an_email_given_in_chat_links_to_the_customer_who_wrote_from_it(storage: Any) -> None:
    desk, seen = _desk(storage)
    mail = desk.receive("email", "Ann@Example.com", "Invoice is wrong", subject="Invoice")
    ann = mail.customer_id
    chat = desk.receive(
        "chat", "visitor-1", "About my invoice", contacts={"email": "ann@example.com"}
    )
    assert chat.customer_id == ann
    customer = desk.get_customer(ann)
    assert Identity("chat", "visitor-1") in customer.identities
    assert Identity("email", "ann@example.com") in customer.verified
    [linked] = [e for e in seen if isinstance(e, CustomerLinked)]
    assert linked.target_customer_id == ann
    assert "email:ann@example.com given on chat is a verified identity" in linked.reason
    assert desk.customer_history(ann).ticket_count == 2
    # the chat visitor is known from now on: no contact needed
    assert desk.receive("chat", "visitor-1", "one more thing").customer_id == ann


def test_a_phone_number_known_from_a_call_links_a_web_form(storage: Any) -> None:
    desk, _ = _desk(storage)
    phone = PhoneChannel(desk)
    call = phone.log(
        {"id": "c1", "from": "+7 495 123-45-67", "direction": "in", "duration": 90,
         "start_time": "2026-01-05T09:00:00Z", "notes": "asked about delivery"}
    )  # fmt: skip
    form = desk.receive(
        "web", "bob@example.com", "Delivery is late", contacts={"phone": "+7 (495) 123 45 67"}
    )
    assert form.customer_id == call.customer_id
    bob = desk.get_customer(call.customer_id)
    assert Identity("phone", "+74951234567") in bob.verified
    assert Identity("email", "bob@example.com") in bob.identities
    assert Identity("email", "bob@example.com") not in bob.verified  # a web form proves nothing


def test_an_unverified_match_is_proposed_to_an_agent_not_merged(storage: Any) -> None:
    desk, seen = _desk(storage)
    form = desk.receive("web", "cat@example.com", "Where is my order?")
    chat = desk.receive("chat", "visitor-2", "Hello", contacts={"email": "cat@example.com"})
    assert chat.customer_id != form.customer_id
    [proposal] = desk.identity_proposals()
    assert (proposal.customer_id, proposal.candidate_customer_id) == (
        chat.customer_id,
        form.customer_id,
    )
    assert proposal.identity == Identity("email", "cat@example.com")
    assert "not verified" in proposal.reason
    assert any(isinstance(e, IdentityMatchProposed) for e in seen)
    # the same message again proposes nothing new
    desk.receive("chat", "visitor-2", "Hello?", contacts={"email": "cat@example.com"})
    assert len(desk.identity_proposals(status=None)) == 1
    merged = desk.accept_identity_match(proposal.id, actor="kate")
    assert merged.id == form.customer_id
    assert desk.get_ticket(chat.id).customer_id == form.customer_id
    assert desk.identity_proposals() == []
    [decided] = desk.identity_proposals(status="accepted")
    assert decided.decided_by == "kate"
    with pytest.raises(ValidationError, match="cannot be decided again"):
        desk.reject_identity_match(proposal.id, actor="kate")
    with pytest.raises(NotFound):
        desk.accept_identity_match("nope", actor="kate")


def test_a_rejected_proposal_keeps_two_customers(storage: Any) -> None:
    desk, _ = _desk(storage)
    form = desk.receive("web", "dan@example.com", "Hi")
    chat = desk.receive("chat", "visitor-3", "Hi", contacts={"email": "dan@example.com"})
    [proposal] = desk.identity_proposals()
    assert desk.reject_identity_match(proposal.id, actor="kate").status == "rejected"
    assert desk.get_ticket(chat.id).customer_id != form.customer_id
    desk.receive("chat", "visitor-3", "Hi again", contacts={"email": "dan@example.com"})
    assert desk.identity_proposals() == []  # not proposed again after a rejection


def test_a_merge_is_split_back_with_history_kept(storage: Any) -> None:
    desk, seen = _desk(storage)
    mail = desk.receive("email", "eve@example.com", "Invoice", subject="Invoice")
    chat = desk.receive("chat", "visitor-4", "Hello")
    desk.merge_customers(chat.customer_id, into=mail.customer_id, actor="kate", reason="same")
    assert desk.get_ticket(chat.id).customer_id == mail.customer_id
    later = desk.receive("chat", "visitor-4", "after the merge")
    assert later.customer_id == mail.customer_id
    src = desk.split_customer(chat.customer_id, actor="lead", reason="two different people")
    assert src.merged_into is None
    assert src.identities == [Identity("chat", "visitor-4")]
    assert desk.get_ticket(chat.id).customer_id == src.id  # the merge moved it: back it goes
    assert desk.get_ticket(later.id).customer_id == mail.customer_id  # written after: stays
    dst = desk.get_customer(mail.customer_id)
    assert Identity("chat", "visitor-4") not in dst.identities
    assert [
        h.get("merged_from") or h.get("split_from") for h in dst.attributes["merge_history"]
    ] == [
        src.id,
        src.id,
    ]
    assert [h["reason"] for h in src.attributes["merge_history"]] == [
        "same",
        "two different people",
    ]
    assert any(isinstance(e, CustomerSplit) for e in seen)
    assert desk.receive("chat", "visitor-4", "me again").customer_id == src.id
    with pytest.raises(ValidationError, match="not merged"):
        desk.split_customer(src.id, actor="lead", reason="again")


def test_linking_can_be_switched_off_and_a_host_can_verify_a_sender(storage: Any) -> None:
    desk, _ = _desk(storage, identity_linking=IdentityLinking(enabled=False))
    mail = desk.receive("email", "fay@example.com", "Hi", subject="Hi")
    chat = desk.receive("chat", "visitor-5", "Hi", contacts={"email": "fay@example.com"})
    assert chat.customer_id != mail.customer_id
    desk2, _ = _desk(None)
    user = desk2.receive("chat", "user-42", "Hi", sender_verified=True)
    assert Identity("chat", "user-42") in desk2.get_customer(user.customer_id).verified


def test_a_webhook_message_with_contacts_in_meta_links(storage: Any) -> None:
    desk, _ = _desk(storage)
    mail = desk.receive("email", "gus@example.com", "Hi", subject="Hi")
    inbound = WebhookInbound(desk, secrets=["s"])
    body = json.dumps(
        {
            "sender": "tg-777",
            "text": "It is me again",
            "meta": {"contacts": {"email": "GUS@example.com"}},
        }
    ).encode()
    headers = {**signature_headers("s", body, START), "Content-Type": "application/json"}
    response = TestClient(inbound.app).post("/inbound/telegram", content=body, headers=headers)
    assert response.status_code in (200, 201, 202), response.text
    [t] = [t for t in desk.find_tickets() if t.channel == "telegram"]
    assert t.customer_id == mail.customer_id


def test_the_email_typed_at_chat_start_links_the_chat_customer() -> None:
    clock = FakeClock(START)
    desk = SupportDesk(clock=clock)
    mail = desk.receive("email", "hal@example.com", "Hi", subject="Hi")
    endpoint = ChatEndpoint(desk, ChatChannel(clock=clock))
    with TestClient(endpoint.app).websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "name": "Hal", "email": "hal@example.com"})
        ws.send_json({"type": "message", "text": "Hello from the chat"})
        until(ws, "ticket")
    [chat] = [t for t in desk.find_tickets() if t.channel == "chat"]
    assert chat.customer_id == mail.customer_id


def test_bad_contacts_are_refused() -> None:
    desk = SupportDesk()
    with pytest.raises(ValidationError, match="contacts"):
        desk.receive("chat", "v", "x", contacts=["ann@example.com"])  # type: ignore[list-item]


def test_an_unknown_contact_is_noted_but_never_becomes_an_identity(storage: Any) -> None:
    desk, _ = _desk(storage)
    chat = desk.receive("chat", "visitor-9", "Hi", contacts={"email": "ivy@example.com"})
    customer = desk.get_customer(chat.customer_id)
    assert customer.attributes["contacts"] == ["email:ivy@example.com"]
    assert desk.find_customer("email", "ivy@example.com") is None
    # the real mailbox owner writing later is a profile of their own
    assert desk.receive("email", "ivy@example.com", "Hi", subject="Hi").customer_id != customer.id


def test_a_contact_typed_before_its_owner_wrote_is_proposed_once_the_owner_writes(
    storage: Any,
) -> None:
    desk, seen = _desk(storage)
    chat = desk.receive("chat", "visitor-9", "Hi", contacts={"email": "Ivy@Example.com"})
    other = desk.receive("chat", "visitor-10", "Hey", contacts={"email": "ivy@example.com"})
    assert desk.identity_proposals() == []  # nobody owns the address yet
    mail = desk.receive("email", "ivy@example.com", "Hi", subject="Hi")
    proposals = desk.identity_proposals()
    assert sorted((p.customer_id, p.candidate_customer_id) for p in proposals) == sorted(
        [(chat.customer_id, mail.customer_id), (other.customer_id, mail.customer_id)]
    )
    assert all(p.identity == Identity("email", "ivy@example.com") for p in proposals)
    assert all("before customer" in p.reason for p in proposals)
    assert sum(isinstance(e, IdentityMatchProposed) for e in seen) == 2
    # nothing merged by itself; the owner writing again proposes nothing new
    assert mail.customer_id not in (chat.customer_id, other.customer_id)
    desk.receive("email", "ivy@example.com", "Hello again", subject="Hi")
    assert len(desk.identity_proposals(status=None)) == 2
    first = next(p for p in proposals if p.customer_id == chat.customer_id)
    assert desk.accept_identity_match(first.id, actor="kate").id == mail.customer_id
    assert desk.get_ticket(chat.id).customer_id == mail.customer_id


def test_an_agent_verifies_an_identity_and_it_links_from_then_on(storage: Any) -> None:
    desk, _ = _desk(storage)
    form = desk.receive("web", "joe@example.com", "Hi")
    desk.verify_identity(form.customer_id, "email", "JOE@example.com", actor="kate")
    chat = desk.receive("chat", "visitor-6", "Hi", contacts={"email": "joe@example.com"})
    assert chat.customer_id == form.customer_id
    with pytest.raises(ValidationError, match="not an identity"):
        desk.verify_identity(form.customer_id, "phone", "+1 555", actor="kate")
