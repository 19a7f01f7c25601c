"""Customer history: one person across channels, merged profiles, notes, lookup by any identity."""

from __future__ import annotations

from typing import Any

import pytest

from supportkit.desk import SupportDesk
from supportkit.domain._events import CustomerMerged
from supportkit.domain._model import Direction
from supportkit.ports import FakeClock


@pytest.fixture
def desk(storage: Any) -> SupportDesk:
    return SupportDesk(storage, clock=FakeClock())


def test_the_same_person_by_email_and_chat_is_one_customer(desk: SupportDesk) -> None:
    by_mail = desk.receive("email", "Ann@Example.com", "Invoice is wrong", subject="Invoice")
    ann = by_mail.customer_id
    desk.add_identity(ann, "chat", "visitor-9")
    by_chat = desk.receive("chat", "visitor-9", "About my invoice again")
    assert by_chat.customer_id == ann
    history = desk.customer_history(ann)
    assert {t.id for t in history.tickets} == {by_mail.id, by_chat.id}
    assert history.message_count == 2
    assert history.open_count == 2


def test_lookup_by_any_identity(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "Hello")
    desk.add_identity(t.customer_id, "phone", "+15550100")
    for channel, address in [
        ("email", "ann@example.com"),
        ("email", "ANN@example.com"),
        ("phone", "+15550100"),
    ]:
        found = desk.find_customer(channel, address)
        assert found is not None, (channel, address)
        assert found.id == t.customer_id
    assert desk.find_customer("chat", "nobody") is None


def test_merging_two_profiles_keeps_all_their_tickets(desk: SupportDesk) -> None:
    mail = desk.receive("email", "ann@example.com", "First question")
    chat = desk.receive("chat", "visitor-7", "Second question")
    chat2 = desk.receive("chat", "visitor-7", "Third question", subject="[#999] new")
    assert mail.customer_id != chat.customer_id
    merged = desk.merge_customers(chat.customer_id, into=mail.customer_id)
    assert {(i.channel, i.address) for i in merged.identities} >= {
        ("email", "ann@example.com"),
        ("chat", "visitor-7"),
    }
    history = desk.customer_history(mail.customer_id)
    assert {t.id for t in history.tickets} == {mail.id, chat.id, chat2.id}
    assert all(t.customer_id == mail.customer_id for t in history.tickets)
    # the merged-away profile resolves to the one it was merged into
    assert desk.customer_history(chat.customer_id).customer.id == mail.customer_id
    assert any(isinstance(e, CustomerMerged) for e in desk.events(chat.id))
    # the old identity now leads to the surviving profile, and so do new messages
    found = desk.find_customer("chat", "visitor-7")
    assert found is not None
    assert found.id == mail.customer_id
    later = desk.receive("chat", "visitor-7", "One more")
    assert later.customer_id == mail.customer_id
    assert desk.get_customer(chat.customer_id).merged_into == mail.customer_id


def test_agents_notes_are_part_of_the_history(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "Where is my parcel?")
    desk.add_note(t.id, "agent-1", "Prefers a phone call; VIP since 2020")
    desk.reply(t.id, "agent-1", "It ships today")
    history = desk.customer_history(t.customer_id)
    assert history.message_count == 3
    notes = [
        m
        for ticket in history.tickets
        for m in desk.messages(ticket.id)
        if m.direction is Direction.NOTE
    ]
    assert [n.text for n in notes] == ["Prefers a phone call; VIP since 2020"]
    # notes stay internal: the customer's tracking page does not count them
    assert desk.track(t.number).public_messages == 2


def test_resolved_tickets_are_not_counted_open(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "Hello")
    desk.resolve(t.id, actor="agent-1", resolution="answered")
    assert desk.customer_history(t.customer_id).open_count == 0


def test_an_identity_of_another_customer_is_refused_with_the_merge_hint(
    desk: SupportDesk,
) -> None:
    a = desk.receive("email", "ann@example.com", "Hello")
    b = desk.receive("chat", "visitor-1", "Hi")
    with pytest.raises(Exception, match="merge_customers"):
        desk.add_identity(a.customer_id, "chat", "visitor-1")
    assert desk.customer_history(b.customer_id).tickets[0].id == b.id


def test_customer_profile_keeps_agents_notes_and_counts_every_ticket() -> None:
    from supportkit import FakeClock, SupportDesk

    desk = SupportDesk(clock=FakeClock())
    first = desk.receive("email", "ann@example.com", "one")
    for i in range(3):
        desk.receive("email", "ann@example.com", f"more {i}")
    desk.resolve(first.id, actor="sam", resolution="done")
    desk.add_customer_note(first.customer_id, "sam", "Prefers phone calls.")
    history = desk.customer_history(first.customer_id, limit=2)
    assert len(history.tickets) == 2
    assert history.ticket_count == 4
    assert history.open_count == 3
    assert [n.text for n in history.notes] == ["Prefers phone calls."]
    assert all(m.ticket_id in {t.id for t in history.tickets} for m in history.messages)


def test_history_of_a_merged_away_profile_is_the_merged_profile() -> None:
    from supportkit import FakeClock, SupportDesk

    desk = SupportDesk(clock=FakeClock())
    by_mail = desk.receive("email", "ann@example.com", "mail")
    by_chat = desk.receive("chat", "visitor-7", "chat")
    desk.merge_customers(by_chat.customer_id, into=by_mail.customer_id)
    history = desk.customer_history(by_chat.customer_id)
    assert history.customer.id == by_mail.customer_id
    assert {t.id for t in history.tickets} == {by_mail.id, by_chat.id}
