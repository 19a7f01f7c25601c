"""Customer notifications: acknowledgement with number and tracking link, status changes, EN/RU,
never for automatic mail, rate-limited per sender."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportkit import ConfigurationError, FakeClock, SupportDesk
from supportkit.channels import (
    ChannelRegistry,
    CustomerNotifier,
    MemoryChannel,
    NotificationTemplate,
    OutboundDispatcher,
    TrackingLinks,
)

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LINKS = TrackingLinks("https://help.example.com/track/{number}?token={token}", "k")


def make(**kw: object) -> tuple[SupportDesk, MemoryChannel, FakeClock]:
    email = MemoryChannel("email")
    clock = FakeClock(START)
    dispatcher = OutboundDispatcher(ChannelRegistry([email]))
    notifier = CustomerNotifier(dispatcher, tracking=LINKS, **kw)  # type: ignore[arg-type]
    return SupportDesk(clock=clock, extensions=[dispatcher, notifier]), email, clock


def test_registration_is_acknowledged_with_number_and_tracking_link() -> None:
    desk, email, _ = make()
    t = desk.receive(
        "email",
        "ann@example.com",
        "Printer is on fire",
        subject="Printer",
        sender_name="Ann",
        external_id="<m1@x>",
    )
    [ack] = email.sent
    assert ack.subject == "[#1] We have received your request: Printer"
    assert "ticket #1" in ack.text
    assert LINKS.url(t.number) in ack.text
    assert ack.kind == "notification"
    assert ack.meta["auto_submitted"] == "auto-replied"
    assert ack.in_reply_to == "<m1@x>"
    assert ack.text.startswith("Hello Ann,")


def test_acknowledgement_is_in_russian_for_a_russian_ticket() -> None:
    desk, email, _ = make()
    desk.receive(
        "email", "ivan@example.ru", "Не работает принтер", subject="Принтер", language="ru"
    )
    [ack] = email.sent
    assert ack.subject == "[#1] Ваше обращение получено: Принтер"
    assert "Следить за статусом можно здесь" in ack.text
    assert ack.language == "ru"


def test_an_unknown_language_falls_back_to_english() -> None:
    desk, email, _ = make()
    desk.receive("email", "hans@example.de", "Hallo", language="de-AT")
    assert email.sent[0].subject.startswith("[#1] We have received")


def test_acknowledgement_does_not_count_as_first_response() -> None:
    desk, _, _ = make()
    t = desk.receive("email", "ann@example.com", "Hello")
    assert desk.get_ticket(t.id).first_response_at is None


@pytest.mark.parametrize("flag", ["auto-replied", "auto-generated", True])
def test_automatic_mail_is_never_acknowledged(flag: object) -> None:
    desk, email, _ = make()
    desk.receive("email", "robot@example.com", "Out of office", meta={"auto_submitted": flag})
    assert email.sent == []


def test_acknowledgements_are_rate_limited_per_sender() -> None:
    desk, email, clock = make(ack_limit=2, ack_window=timedelta(hours=1))
    for i in range(4):
        desk.receive("email", "loop@example.com", f"message {i}")
        clock.advance(minutes=1)
    desk.receive("email", "other@example.com", "hello")
    assert [m.recipient for m in email.sent] == [
        "loop@example.com",
        "loop@example.com",
        "other@example.com",
    ]
    clock.advance(hours=1)
    desk.receive("email", "loop@example.com", "later")
    assert email.sent[-1].recipient == "loop@example.com"


def test_status_changes_are_notified_resolved_waiting_closed() -> None:
    desk, email, _ = make(kinds=["resolved", "waiting_on_customer", "closed"])
    t = desk.receive("email", "ann@example.com", "Hello", subject="Login")
    desk.wait_on_customer(t.id, actor="agent-1")
    desk.receive("email", "ann@example.com", "here is the log", ticket_id=t.id)
    desk.resolve(t.id, actor="agent-1", resolution="reset password")
    desk.close(t.id, actor="agent-1")
    assert [m.meta["notification"] for m in email.sent] == [
        "waiting_on_customer",
        "resolved",
        "closed",
    ]
    assert email.sent[1].subject == "[#1] Your request is resolved: Login"


def test_closing_as_spam_tells_the_sender_nothing() -> None:
    desk, email, _ = make(kinds=["closed", "resolved"])
    t = desk.receive("email", "spam@example.com", "BUY NOW")
    desk.close_as_spam(t.id, actor="agent-1", reason="advert")
    assert email.sent == []


def test_tickets_on_channels_without_delivery_get_no_notifications() -> None:
    desk, email, _ = make()
    desk.receive("phone", "+7 495 000", "called about invoice")
    assert email.sent == []


def test_templates_must_cover_every_kind() -> None:
    dispatcher = OutboundDispatcher(ChannelRegistry([MemoryChannel("email")]))
    partial = {"en": {"acknowledgement": NotificationTemplate("s", "b")}}
    with pytest.raises(ConfigurationError, match="lack"):
        CustomerNotifier(dispatcher, templates=partial)
    with pytest.raises(ConfigurationError, match="default language"):
        CustomerNotifier(dispatcher, templates=partial, default_language="fr")


def test_tracking_tokens_verify_only_their_own_number() -> None:
    token = LINKS.token(7)
    assert LINKS.verify(7, token)
    assert not LINKS.verify(8, token)
    assert not LINKS.verify(7, "")
    with pytest.raises(ConfigurationError, match="number"):
        TrackingLinks("https://x/track", "k")
