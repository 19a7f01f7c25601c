"""Customer notifications by email (CustomerNotifier + EmailChannel) on real servers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from supportkit.channels import TrackingLinks

from .conftest import EmailDesk, customer_sends

pytestmark = pytest.mark.email_servers

LINKS = TrackingLinks("https://help.example.com/track/{number}?token={token}", b"k")


def _mail(n: int, subject: str, body: str, extra: str = "") -> str:
    return (
        f"From: Ann Lee <ann@customer.example>\r\nTo: desk@support.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: <n{n}@customer.example>\r\n{extra}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    )


def test_a_new_ticket_is_acknowledged_in_english_with_number_and_tracking_link(
    mailboxes: Any,
) -> None:
    dovecot, smtp = mailboxes
    kit = EmailDesk(dovecot, smtp.port, notifier={"tracking": LINKS})
    customer_sends(smtp.port, _mail(1, "Printer on fire", "My printer is on fire."))
    [outcome] = kit.channel.poll()
    ticket = kit.desk.get_ticket(outcome.ticket_id)  # type: ignore[arg-type]

    [ack] = kit.read_box(dovecot, "ann")
    assert ack.subject == f"[Ticket#{ticket.number}] We have received your request: Printer on fire"
    assert f"ticket #{ticket.number}" in ack.text
    assert LINKS.url(ticket.number) in ack.text
    assert ack.header("Auto-Submitted") == "auto-replied"
    assert ack.is_auto_reply  # so the customer's own auto-responder stays quiet
    assert ack.in_reply_to == "<n1@customer.example>"

    # the customer answers the acknowledgement: it lands on the same ticket
    customer_sends(
        smtp.port,
        _mail(2, "Re: thanks", "One more detail.", f"In-Reply-To: {ack.external_id}\r\n"),
    )
    [second] = kit.channel.poll()
    assert second.ticket_id == ticket.id


def test_a_russian_request_is_acknowledged_in_russian(mailboxes: Any) -> None:
    dovecot, smtp = mailboxes
    kit = EmailDesk(dovecot, smtp.port, notifier={"tracking": LINKS})
    customer_sends(
        smtp.port,
        _mail(
            1,
            "=?utf-8?b?0J3QtSDQv9GA0LjRhdC+0LTQuNGCINGB0YfRkdGC?=",
            "Добрый день! Не приходит счёт.",
        ),
    )
    [outcome] = kit.channel.poll()
    ticket = kit.desk.get_ticket(outcome.ticket_id)  # type: ignore[arg-type]
    assert ticket.language == "ru"
    [ack] = kit.read_box(dovecot, "ann")
    assert ack.subject == f"[Ticket#{ticket.number}] Ваше обращение получено: Не приходит счёт"
    assert f"номером #{ticket.number}" in ack.text
    assert "Следить за статусом можно здесь: " + LINKS.url(ticket.number) in ack.text


def test_acknowledgements_are_rate_limited_per_sender(mailboxes: Any) -> None:
    dovecot, smtp = mailboxes
    kit = EmailDesk(dovecot, smtp.port, notifier={"ack_limit": 2, "ack_window": timedelta(hours=1)})
    for n in range(3):
        customer_sends(smtp.port, _mail(n, f"Request {n}", f"Help {n}"))
    assert [o.status for o in kit.channel.poll()] == ["processed"] * 3
    assert len(kit.desk.find_tickets()) == 3
    acks = kit.read_box(dovecot, "ann")
    assert [a.subject.split("] ", 1)[1] for a in acks] == [
        "We have received your request: Request 0",
        "We have received your request: Request 1",
    ]
    # an hour later the window has passed: the next new ticket is acknowledged again
    kit.clock.advance(timedelta(hours=1, minutes=1))
    customer_sends(smtp.port, _mail(9, "Request 9", "Help 9"))
    kit.channel.poll()
    assert len(kit.read_box(dovecot, "ann")) == 3


def test_auto_replies_and_bounces_are_never_acknowledged(mailboxes: Any) -> None:
    dovecot, smtp = mailboxes
    kit = EmailDesk(dovecot, smtp.port, notifier={})
    customer_sends(
        smtp.port,
        _mail(1, "Automatic reply: away", "I am away", "Auto-Submitted: auto-replied\r\n"),
    )
    customer_sends(smtp.port, _mail(2, "Weekly news", "News", "Precedence: bulk\r\n"))
    customer_sends(
        smtp.port,
        "From: MAILER-DAEMON@customer.example\r\nTo: desk@support.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b1@customer.example>\r\n"
        "\r\nYour mail bounced.\r\n",
    )
    assert [o.status for o in kit.channel.poll()] == ["ignored"] * 3
    assert kit.read_box(dovecot, "ann") == []
    assert len(smtp.received) == 3  # only what came in


def test_resolving_the_ticket_mails_the_customer(mailboxes: Any) -> None:
    dovecot, smtp = mailboxes
    kit = EmailDesk(dovecot, smtp.port, notifier={"kinds": ("resolved",)})
    customer_sends(smtp.port, _mail(1, "Invoice wrong", "My invoice is wrong."))
    [outcome] = kit.channel.poll()
    ticket_id = outcome.ticket_id
    assert ticket_id is not None
    kit.desk.start_diagnosis(ticket_id, actor="agent-1")
    kit.desk.resolve(ticket_id, actor="agent-1", resolution="credited")
    [note] = kit.read_box(dovecot, "ann")
    assert "resolved your request" in note.text
    assert note.header("Auto-Submitted") == "auto-replied"
