"""Must show: the bot answers one question from the knowledge base and hands another to L1,
where routing gives it to an L1 agent (KB and desk on one SQLite database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kb_testdata import key_source, seed

from supportkit.desk import SupportDesk
from supportkit.domain._events import TicketAssigned, TicketEscalated
from supportkit.domain._model import Agent, Direction, Team
from supportkit.extensions import DeskRouting
from supportkit.knowledge import (
    KNOWLEDGE_SCHEMA,
    BotOnInbound,
    FirstLineBot,
    KnowledgeBase,
    RetrievalAnswerer,
)
from supportkit.policies import HandOffToHuman, TierLadder
from supportkit.ports import FakeClock
from supportkit.storage.sqlite import SQLiteStorage

TIERS = ("bot", "L1", "L2", "L3")


@pytest.fixture
def desk(tmp_path: Path) -> SupportDesk:
    storage = SQLiteStorage(tmp_path / "desk.sqlite3", components=[KNOWLEDGE_SCHEMA])
    kb = seed(KnowledgeBase.on(storage, id_source=key_source()))
    routing = DeskRouting(
        teams=[Team("support", "Support", "L1")],
        agents=[Agent("ann", "Ann", teams=("support",), languages=frozenset({"en", "ru"}))],
        ladder=TierLadder(TIERS),
        escalation=HandOffToHuman(),
    )
    bot = BotOnInbound(FirstLineBot(RetrievalAnswerer(kb)), routing=routing)
    return SupportDesk(storage, clock=FakeClock(), tiers=TIERS, extensions=[routing, bot])


def test_bot_answers_from_the_kb_and_the_ticket_stays_with_the_bot(desk: SupportDesk) -> None:
    t = desk.receive("chat", "visitor-1", "I forgot my password and cannot sign in")
    messages = desk.messages(t.id)
    assert [m.direction for m in messages] == [Direction.INBOUND, Direction.OUTBOUND]
    assert messages[1].meta["bot"] is True
    assert messages[1].meta["article_ids"] == ["en-reset-password"]
    ticket = desk.get_ticket(t.id)
    assert (ticket.tier, ticket.assignee_id) == ("bot", None)
    assert ticket.first_response_at is None  # a bot's answer is not the first response


def test_customer_asking_for_a_person_is_handed_to_l1_and_assigned(desk: SupportDesk) -> None:
    t = desk.receive("chat", "visitor-2", "Please let me talk to a real person")
    ticket = desk.get_ticket(t.id)
    assert (ticket.tier, ticket.assignee_id) == ("L1", "ann")
    assert "bot-handover" in ticket.tags
    events = desk.events(t.id)
    (escalated,) = [e for e in events if isinstance(e, TicketEscalated)]
    assert (escalated.from_tier, escalated.to_tier, escalated.policy) == ("bot", "L1", "hand-off")
    assert [e.agent_id for e in events if isinstance(e, TicketAssigned)] == ["ann"]
    note = next(m for m in desk.messages(t.id) if m.direction is Direction.NOTE)
    assert note.meta["reason"] == "customer_asked"
    # the agent's reply is the first response; the bot is silent from now on
    desk.reply(t.id, "ann", "Hi, Ann here. How can I help?")
    desk.receive("chat", "visitor-2", "My password reset does not work", ticket_id=t.id)
    after = desk.get_ticket(t.id)
    assert after.first_response_at is not None
    assert [m.author for m in desk.messages(t.id)][-2:] == ["ann", "visitor-2"]


def test_a_question_the_bot_cannot_answer_is_handed_over_too(desk: SupportDesk) -> None:
    t = desk.receive("chat", "visitor-3", "zxqv wplk")
    ticket = desk.get_ticket(t.id)
    assert (ticket.tier, ticket.assignee_id) == ("L1", "ann")
    escalated = next(e for e in desk.events(t.id) if isinstance(e, TicketEscalated))
    assert escalated.reason == "the bot could not answer"
