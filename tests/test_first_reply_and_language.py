"""What the customer sees: an agent's first reply means "in progress", in their language."""

from __future__ import annotations

import pytest

from supportkit import ConfigurationError, SupportDesk, detect_language
from supportkit.channels import ChannelRegistry, CustomerNotifier, MemoryChannel, OutboundDispatcher
from supportkit.domain import StaleVersion


def test_first_public_reply_moves_registered_to_diagnosing_and_tracking_says_in_progress() -> None:
    desk = SupportDesk()
    t = desk.receive("email", "ann@example.com", "My invoice is wrong")
    assert desk.track(t.number).status == "registered"
    desk.reply(t.id, "agent1", "Looking into it")
    after = desk.get_ticket(t.id)
    assert after.status == "diagnosing"
    assert desk.track(t.number).status_label != desk.lifecycle.definition.public_label("registered")
    assert [h.event for h in desk.history(t.id)][-1] == "start_diagnosis"


def test_bot_answers_and_notes_leave_the_status_alone() -> None:
    desk = SupportDesk()
    t = desk.receive("email", "ann@example.com", "My invoice is wrong")
    desk.reply(t.id, "bot", "Try the billing page", meta={"bot": True})
    desk.add_note(t.id, "agent1", "checking")
    assert desk.get_ticket(t.id).status == "registered"


def test_first_reply_event_is_configurable() -> None:
    desk = SupportDesk(first_reply_event=None)
    t = desk.receive("email", "ann@example.com", "My invoice is wrong")
    desk.reply(t.id, "agent1", "Looking into it")
    assert desk.get_ticket(t.id).status == "registered"
    with pytest.raises(ConfigurationError, match="not an event"):
        SupportDesk(first_reply_event="teleport")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Здравствуйте! Не могу войти в личный кабинет", "ru"),
        ("Добрий день, не можу увійти", "uk"),
        ("My invoice is wrong", None),
        ("Γεια σας, το τιμολόγιο είναι λάθος", "el"),
        ("請幫我", "zh"),
        ("ok 123 !!", None),
        ("Ça ne marche pas, l'écran reste noir", None),  # Latin beyond ASCII: no guess either
        ("Order #4411: Здравствуйте, не приходит счёт", "ru"),  # mostly Cyrillic letters
    ],
)
def test_detect_language_by_script(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


def test_a_russian_message_without_a_language_gets_a_russian_acknowledgement() -> None:
    sent = []
    chat = MemoryChannel("chat", handler=lambda o: sent.append(o))
    dispatcher = OutboundDispatcher(ChannelRegistry([chat]))
    desk = SupportDesk(extensions=[dispatcher, CustomerNotifier(dispatcher)])
    t = desk.receive("chat", "visitor-1", "Здравствуйте, не приходит счёт за май")
    assert t.language == "ru"
    en = desk.receive("chat", "visitor-2", "Hello, my invoice did not arrive")
    assert en.language == "en"
    given = desk.receive("chat", "visitor-3", "Здравствуйте", language="de")
    assert given.language == "de"  # the channel's word wins
    acks = {o.ticket_id: o.text for o in sent}
    assert any(ch in acks[t.id] for ch in "абвгдежзиклмнопрстуфхцчшщыэюя")
    assert not any(ch in acks[en.id] for ch in "абвгдежзиклмнопрстуфхцчшщыэюя")


def test_expect_version_refuses_a_change_based_on_a_stale_read() -> None:
    desk = SupportDesk()
    t = desk.receive("email", "ann@example.com", "My invoice is wrong")
    seen = desk.get_ticket(t.id).version
    desk.add_note(t.id, "agent2", "someone else wrote meanwhile")
    with pytest.raises(StaleVersion), desk.expect_version(t.id, seen):
        desk.reply(t.id, "agent1", "Based on what I saw")
    assert len(desk.messages(t.id)) == 2  # nothing written
    with desk.expect_version(t.id, desk.get_ticket(t.id).version):
        desk.reply(t.id, "agent1", "Now current")
    desk.reply(t.id, "agent1", "No expectation outside the block")
