"""The email channel wired to a SupportDesk, against real dovecot + SMTP servers."""

from __future__ import annotations

import itertools
import smtplib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supportkit import SupportDesk
from supportkit.channels.email import (
    Address,
    AutoAckLimiter,
    EmailChannel,
    ImapPoller,
    SmtpSender,
    parse_email,
)
from supportkit.domain._model import Direction
from supportkit.ports._clock import FakeClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DESK = Address("desk@support.example", "Example Support")


def _desk() -> SupportDesk:
    counter = itertools.count(1)
    return SupportDesk(clock=FakeClock(START), ids=lambda: f"id{next(counter)}")


def _channel(desk: SupportDesk, dovecot: Any, smtp: Any, **kw: Any) -> EmailChannel:
    return EmailChannel(
        desk,
        DESK,
        poller=ImapPoller("127.0.0.1", dovecot.port, dovecot.user, dovecot.password),
        sender=SmtpSender("127.0.0.1", smtp.port),
        message_id_domain="support.example",
        **kw,
    )


def _customer_sends(smtp: Any, raw: str) -> None:
    with smtplib.SMTP("127.0.0.1", smtp.port) as client:
        client.sendmail("ann@customer.example", [DESK.address], raw.encode("utf-8"))


FIRST = (
    "From: Ann Lee <ann@customer.example>\r\nTo: desk@support.example\r\n"
    "Subject: Printer on fire\r\nMessage-ID: <q1@customer.example>\r\n"
    "Date: Mon, 02 Mar 2026 08:55:00 +0000\r\n\r\nMy printer is on fire. Help!\r\n"
)


@pytest.mark.email_servers
def test_full_round_trip_mail_ticket_reply_mail_customer_reply_same_ticket(
    mail_servers: Any,
) -> None:
    dovecot, smtp = mail_servers
    desk = _desk()
    channel = _channel(desk, dovecot, smtp)

    _customer_sends(smtp, FIRST)
    [outcome] = channel.poll()
    assert outcome.status == "processed"
    assert outcome.ticket_id is not None
    ticket = desk.get_ticket(outcome.ticket_id)
    assert ticket.subject == "Printer on fire"

    channel.reply(ticket.id, "agent-1", "Please unplug it.\n\nBest, Support")
    sent = parse_email(smtp.received[-1])
    assert sent.subject == f"[Ticket#{ticket.number}] Re: Printer on fire"
    assert sent.in_reply_to == "<q1@customer.example>"
    assert sent.references == ("<q1@customer.example>",)
    assert sent.external_id
    assert sent.external_id.endswith("@support.example>")
    assert [a.address for a in sent.to] == ["ann@customer.example"]
    assert not sent.is_automated

    # the customer answers from their client: headers kept, quoted history below
    answer = (
        f"From: Ann Lee <ann@customer.example>\r\nTo: desk@support.example\r\n"
        f"Subject: Re: {sent.subject}\r\nMessage-ID: <q2@customer.example>\r\n"
        f"In-Reply-To: {sent.external_id}\r\n"
        f"References: <q1@customer.example> {sent.external_id}\r\n\r\n"
        "Done, the fire is out.\r\n\r\nOn Mon, 2 Mar 2026, Support wrote:\r\n"
        "> Please unplug it.\r\n"
    )
    _customer_sends(smtp, answer)
    own_copy, second = channel.poll()  # the test SMTP server delivers our reply here too
    assert own_copy.status == "ignored"
    assert "own address" in (own_copy.error or "")
    assert second.status == "processed"
    assert second.ticket_id == ticket.id
    inbound = [m for m in desk.messages(ticket.id) if m.direction is Direction.INBOUND]
    assert [m.text for m in inbound] == ["My printer is on fire. Help!", "Done, the fire is out."]


@pytest.mark.email_servers
def test_a_reply_without_headers_threads_by_the_subject_token(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    desk = _desk()
    channel = _channel(desk, dovecot, smtp)
    _customer_sends(smtp, FIRST)
    [first] = channel.poll()
    number = desk.get_ticket(first.ticket_id).number  # type: ignore[arg-type]
    _customer_sends(
        smtp,
        "From: ann@customer.example\r\nSubject: AW: [Ticket#"
        f"{number}] Printer\r\nMessage-ID: <q9@customer.example>\r\n\r\nStill burning\r\n",
    )
    [second] = channel.poll()
    assert second.ticket_id == first.ticket_id


@pytest.mark.email_servers
def test_duplicate_delivery_and_a_restart_create_nothing_new(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    desk = _desk()
    _customer_sends(smtp, FIRST)
    _customer_sends(smtp, FIRST)  # the same Message-ID delivered twice
    outcomes = _channel(desk, dovecot, smtp).poll()
    assert [o.status for o in outcomes] == ["processed", "duplicate"]
    # a new channel object over the same desk storage: the cursor was persisted
    assert _channel(desk, dovecot, smtp).poll() == []
    assert len(desk.find_tickets()) == 1


@pytest.mark.email_servers
def test_auto_replies_and_bounces_open_no_ticket_and_get_no_answer(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    desk = _desk()
    channel = _channel(desk, dovecot, smtp, auto_ack=AutoAckLimiter(limit=5))
    _customer_sends(
        smtp,
        "From: ann@customer.example\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n"
        "Message-ID: <ooo@customer.example>\r\n\r\nI am away.\r\n",
    )
    _customer_sends(
        smtp,
        "From: MAILER-DAEMON@customer.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <b1@customer.example>\r\n\r\nYour mail bounced.\r\n",
    )
    before = len(smtp.received)
    outcomes = channel.poll()
    assert [o.status for o in outcomes] == ["ignored", "ignored"]
    assert desk.find_tickets() == []
    assert len(smtp.received) == before  # nothing answered


@pytest.mark.email_servers
def test_acknowledgements_are_rate_limited_per_sender(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    desk = _desk()
    channel = _channel(desk, dovecot, smtp, auto_ack=AutoAckLimiter(2, timedelta(hours=1)))
    for n in range(3):
        _customer_sends(
            smtp,
            f"From: ann@customer.example\r\nSubject: Request {n}\r\n"
            f"Message-ID: <r{n}@customer.example>\r\n\r\nHelp {n}\r\n",
        )
    before = len(smtp.received)
    assert [o.status for o in channel.poll()] == ["processed"] * 3
    acks = [parse_email(raw) for raw in smtp.received[before:]]
    acks = [a for a in acks if a.sender.address == DESK.address]
    assert len(acks) == 2
    assert all(a.is_auto_reply for a in acks)  # Auto-Submitted: auto-replied
    assert all(o.status == "ignored" for o in channel.poll())  # acks come back: no loop


def test_a_message_that_fails_to_register_is_kept_and_can_be_reprocessed() -> None:
    desk = _desk()
    channel = EmailChannel(desk, DESK)
    raw = b"From: \r\nSubject: no sender at all\r\nMessage-ID: <x1@example>\r\n\r\nhello\r\n"
    outcome = channel.ingest(raw)
    assert outcome.status == "failed"
    assert "sender" in (outcome.error or "")
    assert [o.status for o in channel.reprocess()] == ["failed"]  # still kept, still failing
    assert channel.ingest(raw).status == "duplicate"
