"""End to end: the bot and triage installed on a SupportDesk (memory storage, fake clock)."""

from __future__ import annotations

import pytest

from supportkit.desk import SupportDesk
from supportkit.domain._model import Direction, Priority
from supportkit.knowledge import (
    BotOnInbound,
    FirstLineBot,
    KnowledgeBase,
    RetrievalAnswerer,
    TriageOnRegistration,
)
from supportkit.policies import Triage, TriageRule
from supportkit.ports import FakeClock


@pytest.fixture
def desk(memory_kb: KnowledgeBase) -> SupportDesk:
    bot = FirstLineBot(RetrievalAnswerer(memory_kb), max_turns=2)
    triage = Triage(
        [
            TriageRule("damage", keywords=("broken", "сломан"), category="delivery"),
            TriageRule("vip", segments={"vip"}, priority=Priority.HIGH, tags={"vip"}),
        ]
    )
    return SupportDesk(
        clock=FakeClock(), extensions=[TriageOnRegistration(triage), BotOnInbound(bot)]
    )


def bot_messages(desk: SupportDesk, ticket_id: str) -> list[tuple[Direction, object]]:
    return [(m.direction, m.meta.get("bot")) for m in desk.messages(ticket_id) if m.meta.get("bot")]


def test_bot_answers_a_chat_question_as_a_message_on_the_ticket(desk: SupportDesk) -> None:
    t = desk.receive("chat", "visitor-1", "I forgot my password and cannot sign in")
    messages = desk.messages(t.id)
    assert [m.direction for m in messages] == [Direction.INBOUND, Direction.OUTBOUND]
    answer = messages[1]
    assert answer.author == "bot"
    assert answer.meta["article_ids"] == ["en-reset-password"]
    assert "bot-handover" not in desk.get_ticket(t.id).tags


def test_customer_asking_for_a_person_is_handed_over_with_a_note_and_a_tag(
    desk: SupportDesk,
) -> None:
    t = desk.receive("chat", "visitor-2", "Позовите оператора, пожалуйста", language="ru")
    ticket = desk.get_ticket(t.id)
    assert "bot-handover" in ticket.tags
    note = next(m for m in desk.messages(t.id) if m.direction is Direction.NOTE)
    assert note.meta["reason"] == "customer_asked"
    reply = desk.messages(t.id)[-1]
    assert reply.direction is Direction.OUTBOUND
    assert reply.text.startswith("Передаю")


def test_after_a_handover_the_bot_stays_silent(desk: SupportDesk) -> None:
    t = desk.receive("chat", "visitor-3", "I want a human")
    before = len(desk.messages(t.id))
    desk.receive("chat", "visitor-3", "how do I reset my password?", ticket_id=t.id)
    assert len(desk.messages(t.id)) == before + 1


def test_unconfident_bot_hands_over(desk: SupportDesk) -> None:
    t = desk.receive("chat", "visitor-4", "my cat likes the weather in Paris")
    assert "bot-handover" in desk.get_ticket(t.id).tags
    assert ("note", "low_confidence") in {
        (m.direction.value, m.meta.get("reason")) for m in desk.messages(t.id)
    }


def test_bot_hands_over_after_the_turn_limit(desk: SupportDesk) -> None:
    t = desk.receive("chat", "visitor-5", "I forgot my password")
    desk.receive("chat", "visitor-5", "the reset link never arrived", ticket_id=t.id)
    desk.receive("chat", "visitor-5", "the password reset link is still missing", ticket_id=t.id)
    reasons = [m.meta.get("reason") for m in desk.messages(t.id) if m.direction is Direction.NOTE]
    assert reasons == ["turn_limit"]
    assert bot_messages(desk, t.id).count((Direction.OUTBOUND, True)) == 2


def test_bot_ignores_channels_it_is_not_installed_on(desk: SupportDesk) -> None:
    t = desk.receive("email", "ann@example.com", "I forgot my password")
    assert bot_messages(desk, t.id) == []


def test_triage_sets_category_priority_and_tags_on_registration(desk: SupportDesk) -> None:
    t = desk.receive("email", "bob@example.com", "The vase arrived broken", subject="Order 77")
    ticket = desk.get_ticket(t.id)
    assert ticket.category == "delivery"
    assert ticket.priority is Priority.NORMAL
