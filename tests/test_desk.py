"""SupportDesk use cases: receiving, threading, the agent's use cases, tracking, customers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportkit import (
    Agent,
    Direction,
    DuplicateError,
    FakeClock,
    GuardRejected,
    InvalidTransition,
    MalformedMessage,
    NotFound,
    Priority,
    SupportDesk,
    Team,
    TicketNotFound,
    ValidationError,
)
from supportkit.domain import TicketEscalated


def _count_everything(desk: SupportDesk) -> tuple[int, int]:
    with desk.storage.unit_of_work() as uow:
        return len(desk.find_tickets(limit=10_000)), len(uow.events_since(0, limit=10**6))


# -- receiving ------------------------------------------------------------------------------
def test_new_message_registers_a_ticket(desk: SupportDesk, fake_clock: FakeClock) -> None:
    t = desk.receive("email", "Ann@Example.com", "My invoice is wrong", subject="Invoice")
    assert (t.number, t.status, t.version) == (1, "registered", 1)
    assert t.subject == "Invoice"
    assert t.received_at == t.registered_at == fake_clock.now()
    (msg,) = desk.messages(t.id)
    assert (msg.direction, msg.author, msg.text) == (Direction.INBOUND, "Ann@Example.com", msg.text)
    customer = desk.find_customer("email", "ann@example.com")
    assert customer is not None
    assert customer.id == t.customer_id
    assert [type(e).__name__ for e in desk.events(t.id)] == [
        "TicketReceived",
        "MessageAdded",
        "StatusChanged",
    ]


def test_subject_defaults_to_the_first_line_of_the_text(desk: SupportDesk) -> None:
    t = desk.receive("chat", "user-1", "Cannot log in\nsince this morning")
    assert t.subject == "Cannot log in"


def test_the_same_sender_is_one_customer(desk: SupportDesk) -> None:
    a = desk.receive("email", "ann@example.com", "one")
    b = desk.receive("email", "ANN@example.com", "two")
    assert a.id != b.id
    assert a.customer_id == b.customer_id


def test_reply_threads_by_in_reply_to(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help", external_id="<1@mail>")
    again = desk.receive("email", "ann@example.com", "more", in_reply_to="<1@mail>")
    assert again.id == t.id
    assert len(desk.messages(t.id)) == 2


def test_reply_to_the_agents_answer_threads_by_its_message_id(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help", external_id="<1@mail>")
    desk.reply(t.id, "agent", "Try this", external_id="<answer@desk>")
    again = desk.receive("email", "ann@example.com", "did not work", in_reply_to="<answer@desk>")
    assert again.id == t.id


def test_reply_threads_by_references_when_in_reply_to_is_unknown(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help", external_id="<1@mail>")
    again = desk.receive(
        "email",
        "ann@example.com",
        "more",
        in_reply_to="<lost@elsewhere>",
        references=["<1@mail>", "<other@elsewhere>"],
    )
    assert again.id == t.id
    assert desk.messages(t.id)[-1].meta["references"] == ["<1@mail>", "<other@elsewhere>"]


@pytest.mark.parametrize("subject", ["Re: [#1] Invoice", "RE: Invoice [Ticket#1]"])
def test_reply_threads_by_the_ticket_token_in_the_subject(desk: SupportDesk, subject: str) -> None:
    t = desk.receive("email", "ann@example.com", "help", subject="Invoice")
    again = desk.receive("email", "ann@example.com", "more", subject=subject)
    assert again.id == t.id


def test_a_token_for_an_unknown_ticket_opens_a_new_one(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help", subject="Re: [#77] Invoice")
    assert t.number == 1


def test_duplicate_delivery_creates_nothing(desk: SupportDesk) -> None:
    seen = []
    desk.signals.event.connect(lambda sender, event: seen.append(event), weak=False)
    t = desk.receive("email", "ann@example.com", "help", external_id="<1@mail>")
    before = _count_everything(desk)
    published = len(seen)
    again = desk.receive("email", "ann@example.com", "help", external_id="<1@mail>")
    assert again.id == t.id
    assert again.version == t.version
    assert _count_everything(desk) == before
    assert len(desk.messages(t.id)) == 1
    assert len(seen) == published


def test_reply_to_a_closed_ticket_opens_a_linked_new_ticket(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help", external_id="<1@mail>")
    desk.resolve(t.id, actor="agent", resolution="fixed")
    closed = desk.close(t.id, actor="agent")
    new = desk.receive("email", "ann@example.com", "it broke again", in_reply_to="<1@mail>")
    assert new.id != t.id
    assert new.status == "registered"
    assert new.custom_fields["follow_up_of"] == t.number
    assert new.customer_id == t.customer_id
    assert desk.get_ticket(t.id) == closed
    assert len(desk.messages(t.id)) == 1


def test_resolved_ticket_reopens_on_customer_reply(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help", external_id="<1@mail>")
    desk.resolve(t.id, actor="agent", resolution="restarted the router")
    again = desk.receive("email", "ann@example.com", "still broken", in_reply_to="<1@mail>")
    assert again.id == t.id
    assert again.status == "diagnosing"
    assert again.reopen_count == 1
    assert again.resolved_at is None
    assert desk.history(t.id)[-1].event == "reopen"


def test_waiting_on_customer_resumes_on_reply(desk: SupportDesk) -> None:
    t = desk.receive("chat", "user-1", "help")
    desk.wait_on_customer(t.id, actor="agent", reason="asked for a screenshot")
    again = desk.receive("chat", "user-1", "here it is", ticket_id=t.id)
    assert again.status == "diagnosing"
    assert desk.history(t.id)[-1].event == "customer_replied"


def test_reply_while_diagnosing_keeps_the_status(desk: SupportDesk) -> None:
    t = desk.receive("chat", "user-1", "help")
    desk.start_diagnosis(t.id, actor="agent")
    again = desk.receive("chat", "user-1", "any news?", ticket_id=t.id)
    assert again.status == "diagnosing"
    assert again.last_customer_message_at is not None


# -- malformed input -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("channel", "sender", "text"),
    [
        ("email", "", "hello"),
        ("email", "   ", "hello"),
        ("", "ann@x.org", "hi"),
        ("chat", "u", "  "),
    ],
)
def test_malformed_inbound_raises_and_stores_nothing(
    desk: SupportDesk, channel: str, sender: str, text: str
) -> None:
    with pytest.raises(MalformedMessage):
        desk.receive(channel, sender, text)
    assert _count_everything(desk) == (0, 0)
    assert desk.find_customer("email", "ann@x.org") is None


def test_oversized_body_raises_and_stores_nothing(make_desk: object) -> None:
    desk = make_desk(max_text_chars=100)  # type: ignore[operator]
    with pytest.raises(MalformedMessage, match="above this desk's limit of 100"):
        desk.receive("email", "ann@example.com", "x" * 101)
    assert _count_everything(desk) == (0, 0)
    t = desk.receive("email", "ann@example.com", "short")
    with pytest.raises(MalformedMessage):
        desk.reply(t.id, "agent", "y" * 101)
    assert len(desk.messages(t.id)) == 1


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_reply_and_note_raise_and_store_nothing(desk: SupportDesk, text: str) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    with pytest.raises(MalformedMessage):
        desk.reply(t.id, "agent", text)
    with pytest.raises(MalformedMessage):
        desk.add_note(t.id, "agent", text)
    assert desk.get_ticket(t.id) == t
    assert len(desk.messages(t.id)) == 1


def test_unknown_ticket_raises_ticket_not_found(desk: SupportDesk) -> None:
    with pytest.raises(TicketNotFound):
        desk.reply("nope", "agent", "hello")
    with pytest.raises(TicketNotFound):
        desk.get_ticket_by_number(5)


# -- agents' use cases ----------------------------------------------------------------------------
def test_first_reply_sets_the_first_response_time(desk: SupportDesk, fake_clock: FakeClock) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    fake_clock.advance(minutes=12)
    desk.reply(t.id, "agent", "On it")
    fake_clock.advance(minutes=5)
    desk.reply(t.id, "agent", "Done")
    stored = desk.get_ticket(t.id)
    assert stored.response_time() == timedelta(minutes=12)
    assert stored.version == 3


def test_notes_are_internal_and_allowed_on_closed_tickets(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    desk.close_as_spam(t.id, actor="agent", reason="advert")
    note = desk.add_note(t.id, "agent", "sender is a known spammer")
    assert note.direction is Direction.NOTE
    assert desk.get_ticket(t.id).first_response_at is None
    with pytest.raises(InvalidTransition, match="closed"):
        desk.reply(t.id, "agent", "hello?")


def test_assign_sets_the_assignee_and_the_agents_team(desk: SupportDesk) -> None:
    desk.add_team(Team("billing", "Billing"))
    desk.add_agent(Agent("a1", "Ann", teams=("billing",)))
    t = desk.receive("email", "bob@example.com", "help")
    assigned = desk.assign(t.id, "a1", actor="lead")
    assert (assigned.assignee_id, assigned.team_id) == ("a1", "billing")
    assert desk.find_tickets(assignee_id="a1") == [assigned]
    with pytest.raises(NotFound, match="agent"):
        desk.assign(t.id, "ghost")
    unassigned = desk.assign(t.id, None)
    assert unassigned.assignee_id is None


def test_resolve_without_summary_is_refused_and_changes_nothing(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    with pytest.raises(GuardRejected, match="resolution"):
        desk.resolve(t.id, actor="agent", resolution="  ")
    assert desk.get_ticket(t.id) == t
    assert len(desk.history(t.id)) == 1


def test_resolve_then_close_records_history(desk: SupportDesk, fake_clock: FakeClock) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    desk.start_diagnosis(t.id, actor="a1")
    fake_clock.advance(hours=2)
    resolved = desk.resolve(t.id, actor="a1", resolution=" replaced the cable ")
    assert resolved.resolution == "replaced the cable"
    assert resolved.resolved_at == fake_clock.now()
    closed = desk.close(t.id, actor="system", reason="no reply in 7 days")
    assert closed.closed_at == fake_clock.now()
    assert [(h.event, h.from_status, h.to_status) for h in desk.history(t.id)] == [
        ("register", "received", "registered"),
        ("start_diagnosis", "registered", "diagnosing"),
        ("resolve", "diagnosing", "resolved"),
        ("close", "resolved", "closed"),
    ]


def test_invalid_transition_through_the_desk_names_what_is_allowed(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    with pytest.raises(InvalidTransition) as info:
        desk.close(t.id, actor="agent")
    assert info.value.ticket == t.id
    assert "start_diagnosis" in info.value.allowed


def test_manual_reopen_counts(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    desk.resolve(t.id, actor="a", resolution="done")
    reopened = desk.reopen(t.id, actor="lead", reason="customer called")
    assert (reopened.status, reopened.reopen_count) == ("diagnosing", 1)


def test_close_as_spam_needs_a_reason(desk: SupportDesk) -> None:
    t = desk.receive("email", "spam@example.com", "cheap watches")
    with pytest.raises(GuardRejected, match="reason"):
        desk.close_as_spam(t.id, actor="agent", reason="")
    closed = desk.close_as_spam(t.id, actor="agent", reason="advertising")
    assert (closed.status, closed.close_reason) == ("closed", "advertising")


def test_close_as_duplicate_links_the_original(desk: SupportDesk) -> None:
    first = desk.receive("email", "ann@example.com", "invoice wrong")
    second = desk.receive("chat", "ann-chat", "invoice wrong")
    with pytest.raises(ValidationError, match="itself"):
        desk.close_as_duplicate(second.id, actor="agent", duplicate_of=second.id)
    with pytest.raises(TicketNotFound):
        desk.close_as_duplicate(second.id, actor="agent", duplicate_of="nope")
    closed = desk.close_as_duplicate(second.id, actor="agent", duplicate_of=first.id)
    assert closed.status == "closed"
    assert closed.custom_fields["duplicate_of"] == first.number
    assert closed.close_reason == f"duplicate of {first.id}"


def test_escalate_moves_the_tier_and_records_it(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "kernel panic")
    desk.start_diagnosis(t.id, actor="a1")
    up = desk.escalate(t.id, "L2", actor="a1", reason="needs a network engineer")
    assert (up.tier, up.escalation_count, up.status) == ("L2", 1, "diagnosing")
    entry = desk.history(t.id)[-1]
    assert (entry.event, entry.from_status, entry.to_status) == (
        "escalate",
        "diagnosing",
        "diagnosing",
    )
    assert "L1 -> L2" in entry.reason
    (event,) = [e for e in desk.events(t.id) if isinstance(e, TicketEscalated)]
    assert (event.from_tier, event.to_tier, event.actor) == ("L1", "L2", "a1")
    assert desk.find_tickets(tier="L2") == [up]


def test_escalate_rejects_unknown_tiers_same_tier_and_blank_reasons(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    with pytest.raises(ValidationError, match=r"unknown tier 'L4'.*\['L1', 'L2', 'L3'\]"):
        desk.escalate(t.id, "L4", actor="a", reason="why not")
    with pytest.raises(ValidationError, match="already at tier"):
        desk.escalate(t.id, "L1", actor="a", reason="why not")
    with pytest.raises(ValidationError, match="reason"):
        desk.escalate(t.id, "L2", actor="a", reason=" ")
    assert desk.get_ticket(t.id) == t


def test_a_closed_ticket_cannot_be_escalated(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    desk.close_as_spam(t.id, actor="a", reason="spam")
    with pytest.raises(InvalidTransition):
        desk.escalate(t.id, "L2", actor="a", reason="x")


def test_update_changes_plain_fields_only(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    u = desk.update(t.id, actor="lead", priority=4, tags=["vip"])
    assert (u.priority, u.tags) == (Priority.URGENT, frozenset({"vip"}))
    with pytest.raises(ValidationError, match="cannot update"):
        desk.update(t.id, actor="lead", status="closed")


# -- tracking -----------------------------------------------------------------------------------
def test_tracking_hides_notes_and_shows_public_labels(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    desk.add_note(t.id, "agent", "customer is grumpy")
    desk.reply(t.id, "agent", "we are on it")  # the first reply starts the diagnosis
    desk.escalate(t.id, "L2", actor="agent", reason="hard")
    view = desk.track(t.number, customer_address="ANN@example.com")
    assert view.public_messages == 2
    assert view.status_label == "in progress"
    assert [label for _, label in view.timeline] == [
        "registered, waiting for an agent",
        "in progress",
    ]
    assert not view.resolved
    assert not view.closed
    assert "grumpy" not in repr(view)


def test_tracking_checks_the_customer(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    with pytest.raises(NotFound, match="no such ticket for this customer"):
        desk.track(t.number, customer_address="mallory@example.com")
    with pytest.raises(NotFound):
        desk.track(999)


# -- customers ----------------------------------------------------------------------------------
def test_customer_history_lists_tickets_newest_first(desk: SupportDesk) -> None:
    a = desk.receive("email", "ann@example.com", "one")
    b = desk.receive("email", "ann@example.com", "two")
    desk.reply(b.id, "agent", "answer")
    desk.resolve(a.id, actor="agent", resolution="done")
    desk.receive("email", "bob@example.com", "not ann")
    history = desk.customer_history(a.customer_id)
    assert [t.id for t in history.tickets] == [b.id, a.id]
    assert history.message_count == 3
    assert history.open_count == 1
    with pytest.raises(NotFound):
        desk.customer_history("nobody")


def test_merging_customers_keeps_all_tickets(desk: SupportDesk) -> None:
    mail = desk.receive("email", "ann@example.com", "by mail")
    chat = desk.receive("chat", "ann-chat", "by chat")
    chat2 = desk.receive("chat", "ann-chat", "again by chat")
    merged = desk.merge_customers(chat.customer_id, into=mail.customer_id)
    assert merged.id == mail.customer_id
    history = desk.customer_history(mail.customer_id)
    assert {t.id for t in history.tickets} == {mail.id, chat.id, chat2.id}
    assert desk.customer_history(chat.customer_id).customer.id == mail.customer_id
    found = desk.find_customer("chat", "ann-chat")
    assert found is not None
    assert found.id == mail.customer_id
    later = desk.receive("chat", "ann-chat", "after the merge")
    assert later.customer_id == mail.customer_id
    with pytest.raises(ValidationError):
        desk.merge_customers(mail.customer_id, into=mail.customer_id)


def test_an_identity_belongs_to_one_customer(desk: SupportDesk) -> None:
    a = desk.receive("email", "ann@example.com", "one")
    b = desk.receive("chat", "bob-chat", "two")
    with pytest.raises(DuplicateError, match="merge_customers"):
        desk.add_identity(b.customer_id, "email", "ann@example.com")
    c = desk.add_identity(a.customer_id, "phone", "+7 900 000 00 00")
    found = desk.find_customer("phone", "+7 900 000 00 00")
    assert found is not None
    assert found.id == c.id == a.customer_id


# -- finding tickets ------------------------------------------------------------------------------
def test_find_tickets_filters(desk: SupportDesk) -> None:
    desk.add_agent(Agent("a1", "Ann"))
    t1 = desk.receive("email", "ann@example.com", "Invoice wrong", priority=Priority.HIGH)
    t2 = desk.receive("chat", "bob", "Cannot log in")
    t3 = desk.receive("email", "cid@example.com", "Login page broken")
    desk.assign(t2.id, "a1")
    desk.start_diagnosis(t3.id, actor="a1")
    desk.escalate(t3.id, "L3", actor="a1", reason="bug")

    def ids(**q: object) -> list[int]:
        return [t.number for t in desk.find_tickets(**q)]  # type: ignore[arg-type]

    assert ids() == [3, 2, 1]
    assert ids(oldest_first=True, limit=2) == [1, 2]
    assert ids(offset=1) == [2, 1]
    assert ids(status="diagnosing") == [3]
    assert ids(status=["registered"]) == [2, 1]
    assert ids(customer_id=t1.customer_id) == [1]
    assert ids(assignee_id="a1") == [2]
    assert ids(tier="L3") == [3]
    assert ids(priority=3) == [1]
    assert ids(channel="chat") == [2]
    assert ids(text="LOG") == [3, 2]
    assert ids(text="log", channel="email") == [3]
    with pytest.raises(ValidationError, match="unknown tier"):
        desk.find_tickets(tier="L7")
    with pytest.raises(ValidationError, match="limit and offset"):
        desk.find_tickets(limit=-1)


def test_text_that_is_not_a_string_is_a_malformed_message(desk: SupportDesk) -> None:
    with pytest.raises(MalformedMessage, match="text must be str"):
        desk.receive("email", "ann@example.com", None)  # type: ignore[arg-type]
    assert _count_everything(desk) == (0, 0)


def test_attachment_only_messages_are_accepted(desk: SupportDesk) -> None:
    from supportkit import Attachment

    t = desk.receive(
        "email", "ann@example.com", "", attachments=[Attachment("shot.png", "image/png", 10)]
    )
    assert t.subject == "(no subject)"
    assert desk.messages(t.id)[0].attachments[0].filename == "shot.png"


def test_default_ids_are_unique_and_increase_with_time() -> None:
    from supportkit._ids import TimeOrderedIds

    ids = TimeOrderedIds()
    got = [ids() for _ in range(5000)]
    assert len(set(got)) == len(got)
    assert got == sorted(got)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in got)
    assert TimeOrderedIds()()[-16:] != ids()[-16:]  # two sources differ in their random part
