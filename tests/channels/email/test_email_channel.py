"""The email channel on a desk, through the dispatcher, against real dovecot + SMTP servers."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import mailservers
import pytest

from supportkit.channels import RetryPolicy
from supportkit.channels.email import EmailChannel, parse_email
from supportkit.domain._events import DeliveryFailed
from supportkit.domain._model import Direction
from supportkit.ports import MessageDelivered
from supportkit.storage.attachments import FileAttachmentStore

from .conftest import EmailDesk, customer_sends

FIRST = (
    "From: Ann Lee <ann@customer.example>\r\nTo: desk@support.example\r\n"
    "Subject: Printer on fire\r\nMessage-ID: <q1@customer.example>\r\n"
    "Date: Mon, 02 Mar 2026 08:55:00 +0000\r\n\r\nMy printer is on fire. Help!\r\n"
)


@pytest.mark.email_servers
def test_full_round_trip_mail_ticket_reply_mail_customer_reply_same_ticket(
    mailboxes: Any,
) -> None:
    dovecot, smtp = mailboxes
    kit = EmailDesk(dovecot, smtp.port)
    desk, dispatcher = kit.desk, kit.dispatcher

    customer_sends(smtp.port, FIRST)
    [outcome] = kit.channel.poll()
    assert outcome.status == "processed"
    ticket = desk.get_ticket(outcome.ticket_id)  # type: ignore[arg-type]
    assert ticket.subject == "Printer on fire"
    assert ticket.channel == "email"

    # the agent answers on the desk; the dispatcher mails it after commit
    reply = desk.reply(ticket.id, "agent-1", "Please unplug it.\n\nBest, Support")
    record = dispatcher.status(reply.id)
    assert record is not None
    assert record["status"] == "delivered", record
    message_id = record["receipt"]["external_id"]
    assert message_id == f"<t{ticket.number}.{reply.id}@support.example>"
    assert dispatcher.ticket_for_external_id(message_id) == ticket.id
    [stored] = [m for m in desk.messages(ticket.id) if m.id == reply.id]
    assert stored.external_id == message_id  # the reply itself carries its Message-ID
    delivered = [e for e in desk.events(ticket.id) if isinstance(e, MessageDelivered)]
    assert [(e.message_id, e.external_id) for e in delivered] == [(reply.id, message_id)]

    # the customer reads it in their own mailbox, over IMAP
    [sent] = kit.read_box(dovecot, "ann")
    assert sent.external_id == message_id
    assert sent.subject == f"[Ticket#{ticket.number}] Re: Printer on fire"
    assert sent.in_reply_to == "<q1@customer.example>"
    assert sent.references == ("<q1@customer.example>",)
    assert sent.sender.address == "desk@support.example"
    assert [a.address for a in sent.to] == ["ann@customer.example"]
    assert sent.text == "Please unplug it.\n\nBest, Support"
    assert not sent.is_automated  # a person wrote it: no Auto-Submitted
    assert sent.header("Auto-Submitted") is None

    # the customer answers from their client: In-Reply-To, a subject without the token
    answer = (
        "From: Ann Lee <ann@customer.example>\r\nTo: desk@support.example\r\n"
        "Subject: Re: Printer on fire\r\nMessage-ID: <q2@customer.example>\r\n"
        f"In-Reply-To: {sent.external_id}\r\n"
        f"References: <q1@customer.example> {sent.external_id}\r\n\r\n"
        "Done, the fire is out.\r\n\r\nOn Mon, 2 Mar 2026, Support wrote:\r\n"
        "> Please unplug it.\r\n"
    )
    customer_sends(smtp.port, answer)
    [second] = kit.channel.poll()
    assert second.status == "processed"
    assert second.ticket_id == ticket.id
    inbound = [m for m in desk.messages(ticket.id) if m.direction is Direction.INBOUND]
    assert [m.text for m in inbound] == ["My printer is on fire. Help!", "Done, the fire is out."]
    assert len(desk.find_tickets()) == 1

    # the next reply threads under everything the ticket said, the desk's Message-ID too
    desk.reply(ticket.id, "agent-1", "Glad to hear it.")
    second_reply = kit.read_box(dovecot, "ann")[-1]
    assert second_reply.in_reply_to == "<q2@customer.example>"
    assert second_reply.references == (
        "<q1@customer.example>",
        message_id,
        "<q2@customer.example>",
    )


def _mail_with_attachment(message_id: str, text: str, name: str, data: bytes, extra: str) -> str:
    body = base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")
    return (
        "From: Ann Lee <ann@customer.example>\r\nTo: desk@support.example\r\n"
        f"Subject: Re: Printer on fire\r\nMessage-ID: {message_id}\r\n{extra}"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        f"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        f'--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="{name}"'
        f"\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}--b1--\r\n"
    )


@pytest.mark.email_servers
def test_attachments_go_out_with_a_reply_and_come_back_into_the_store(
    mailboxes: Any, tmp_path: Any
) -> None:
    dovecot, smtp = mailboxes
    store = FileAttachmentStore(tmp_path / "attachments")
    kit = EmailDesk(dovecot, smtp.port, attachments=store)
    desk = kit.desk
    photo = bytes(range(256)) * 40  # binary, not valid UTF-8

    # inbound: the customer's attachment is kept in the store before the ticket is registered
    customer_sends(
        smtp.port,
        _mail_with_attachment("<q1@customer.example>", "See photo", "fire.pdf", photo, ""),
    )
    [outcome] = kit.channel.poll()
    assert outcome.status == "processed", outcome
    ticket_id = outcome.ticket_id
    assert ticket_id is not None
    [first] = desk.messages(ticket_id)
    [kept] = first.attachments
    assert (kept.filename, kept.content_type, kept.size) == ("fire.pdf", "application/pdf", 10240)
    assert kept.sha256 is not None
    assert store.get(kept.sha256) == photo  # what an agent opens

    # outbound: the agent attaches a stored file; the customer receives its bytes
    manual = "Руководство.pdf".encode() + b"\x00%PDF-1.7 manual"
    attachment = store.put(manual, filename="Руководство.pdf", content_type="application/pdf")
    reply = desk.reply(ticket_id, "agent-1", "The manual is attached.", attachments=[attachment])
    status = kit.dispatcher.status(reply.id)
    assert status is not None
    assert status["status"] == "delivered", status
    [sent] = kit.read_box(dovecot, "ann")
    [received] = sent.attachments
    assert (received.filename, received.content_type) == ("Руководство.pdf", "application/pdf")
    assert sent.data_of(received) == manual
    assert sent.text == "The manual is attached."

    # and back: the customer answers the reply, returning the file; same ticket, same content
    customer_sends(
        smtp.port,
        _mail_with_attachment(
            "<q2@customer.example>",
            "Signed and returned.",
            "Руководство.pdf",
            manual,
            f"In-Reply-To: {sent.external_id}\r\n",
        ),
    )
    [second] = kit.channel.poll()
    assert second.ticket_id == ticket_id
    answer = desk.messages(ticket_id)[-1]
    [returned] = answer.attachments
    assert returned.sha256 == attachment.sha256  # content-addressed: kept once
    assert store.get(attachment.sha256) == manual  # type: ignore[arg-type]


@pytest.mark.email_servers
def test_a_reply_with_attachments_but_no_store_fails_permanently_with_the_reason(
    mailboxes: Any, tmp_path: Any
) -> None:
    dovecot, smtp = mailboxes
    kit = EmailDesk(dovecot, smtp.port)  # no attachment store
    customer_sends(smtp.port, FIRST)
    [outcome] = kit.channel.poll()
    assert outcome.ticket_id is not None
    attachment = FileAttachmentStore(tmp_path).put(
        b"x", filename="x.txt", content_type="text/plain"
    )
    reply = kit.desk.reply(outcome.ticket_id, "agent-1", "Attached.", attachments=[attachment])
    status = kit.dispatcher.status(reply.id)
    assert status is not None
    assert status["status"] == "failed"
    assert "no attachment store" in status["errors"][-1]["error"]
    assert kit.read_box(dovecot, "ann") == []


@pytest.mark.email_servers
def test_an_answer_to_a_delivered_reply_threads_even_when_subject_and_references_are_gone(
    mailboxes: Any,
) -> None:
    dovecot, smtp = mailboxes
    kit = EmailDesk(dovecot, smtp.port)
    customer_sends(smtp.port, FIRST)
    [first] = kit.channel.poll()
    reply = kit.desk.reply(first.ticket_id, "agent-1", "Which model?")  # type: ignore[arg-type]
    message_id = kit.dispatcher.status(reply.id)["receipt"]["external_id"]  # type: ignore[index]
    customer_sends(
        smtp.port,
        "From: ann@customer.example\r\nSubject: model\r\n"
        f"Message-ID: <q3@customer.example>\r\nIn-Reply-To: {message_id}\r\n\r\nHP 1010\r\n",
    )
    [second] = kit.channel.poll()
    assert second.ticket_id == first.ticket_id


@pytest.mark.email_servers
def test_a_reply_without_headers_threads_by_the_subject_token(mailboxes: Any) -> None:
    dovecot, smtp = mailboxes
    kit = EmailDesk(dovecot, smtp.port)
    customer_sends(smtp.port, FIRST)
    [first] = kit.channel.poll()
    number = kit.desk.get_ticket(first.ticket_id).number  # type: ignore[arg-type]
    customer_sends(
        smtp.port,
        "From: ann@customer.example\r\nSubject: AW: [Ticket #"
        f"{number}] Printer\r\nMessage-ID: <q9@customer.example>\r\n\r\nStill burning\r\n",
    )
    [second] = kit.channel.poll()
    assert second.ticket_id == first.ticket_id


@pytest.mark.email_servers
def test_smtp_down_is_retried_by_tick_after_the_backoff_then_delivered(mailboxes: Any) -> None:
    dovecot, _ = mailboxes
    down_port = mailservers.free_port()  # nothing listens here yet
    kit = EmailDesk(
        dovecot, down_port, retry=RetryPolicy(base=timedelta(minutes=1), max_attempts=5)
    )
    ticket = kit.desk.receive("email", "ann@customer.example", "Help", subject="Printer")
    reply = kit.desk.reply(ticket.id, "agent-1", "On our way.")

    record = kit.dispatcher.status(reply.id)
    assert record is not None
    assert record["status"] == "pending"
    assert record["attempts"] == 1
    assert "retry later" in record["errors"][0]["error"]  # TransientChannelError
    failed = [e for e in kit.desk.events(ticket.id) if isinstance(e, DeliveryFailed)]
    assert [e.permanent for e in failed] == [False]

    assert kit.desk.tick(kit.START + timedelta(seconds=30)) == 0  # before the backoff
    up = mailservers.start_smtp(dovecot, port=down_port)  # the server comes back
    try:
        assert kit.desk.tick(kit.START + timedelta(minutes=1, seconds=1)) == 1
    finally:
        up.stop()
    record = kit.dispatcher.status(reply.id)
    assert record is not None
    assert record["status"] == "delivered"
    assert record["attempts"] == 2
    [mail] = kit.read_box(dovecot, "ann")
    assert mail.text == "On our way."
    assert mail.external_id == record["receipt"]["external_id"]
    assert kit.desk.get_ticket(ticket.id).custom_fields.get("delivery_failures") is None


@pytest.mark.email_servers
def test_a_5xx_recipient_refusal_is_stored_on_the_ticket_with_a_delivery_failed_event(
    mailboxes: Any,
) -> None:
    dovecot, _ = mailboxes
    refusing = mailservers.start_smtp(
        dovecot, reject={"gone@customer.example": "550 5.1.1 <gone@customer.example>: no such user"}
    )
    try:
        kit = EmailDesk(dovecot, refusing.port)
        ticket = kit.desk.receive("email", "gone@customer.example", "Help", subject="Printer")
        reply = kit.desk.reply(ticket.id, "agent-1", "Which model?")
    finally:
        refusing.stop()
    record = kit.dispatcher.status(reply.id)
    assert record is not None
    assert record["status"] == "failed"
    assert record["attempts"] == 1  # permanent: not retried
    [failure] = kit.desk.get_ticket(ticket.id).custom_fields["delivery_failures"]
    assert failure["delivery_id"] == reply.id
    assert failure["recipient"] == "gone@customer.example"
    assert "550" in failure["error"]
    assert "no such user" in failure["error"]
    [event] = [e for e in kit.desk.events(ticket.id) if isinstance(e, DeliveryFailed)]
    assert event.permanent
    assert event.message_id == reply.id
    assert kit.desk.tick(kit.START + timedelta(days=1)) == 0  # nothing left to retry
    assert refusing.received == []


@pytest.mark.email_servers
def test_duplicate_delivery_and_a_restart_create_nothing_new(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    kit = EmailDesk(dovecot, smtp.port)
    customer_sends(smtp.port, FIRST)
    customer_sends(smtp.port, FIRST)  # the same Message-ID delivered twice
    assert [o.status for o in kit.channel.poll()] == ["processed", "duplicate"]
    # a new channel object over the same desk storage: the cursor was persisted
    again = EmailChannel(kit.desk, EmailDesk.DESK, poller=kit.channel.poller)
    assert again.poll() == []
    assert len(kit.desk.find_tickets()) == 1


@pytest.mark.email_servers
def test_auto_replies_and_bounces_open_no_ticket_and_get_no_answer(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    kit = EmailDesk(dovecot, smtp.port, notifier={})
    customer_sends(
        smtp.port,
        "From: ann@customer.example\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n"
        "Message-ID: <ooo@customer.example>\r\n\r\nI am away.\r\n",
    )
    customer_sends(
        smtp.port,
        "From: MAILER-DAEMON@customer.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <b1@customer.example>\r\n\r\nYour mail bounced.\r\n",
    )
    before = len(smtp.received)
    outcomes = kit.channel.poll()
    assert [o.status for o in outcomes] == ["ignored", "ignored"]
    assert kit.desk.find_tickets() == []
    assert len(smtp.received) == before  # nothing answered


def test_a_message_that_fails_to_register_is_kept_and_can_be_reprocessed() -> None:
    from supportkit import FakeClock, SupportDesk

    clock = FakeClock()
    channel = EmailChannel(SupportDesk(clock=clock), EmailDesk.DESK)
    raw = b"From: \r\nSubject: no sender at all\r\nMessage-ID: <x1@example>\r\n\r\nhello\r\n"
    outcome = channel.ingest(raw)
    assert outcome.status == "failed"
    assert "sender" in (outcome.error or "")
    assert channel.reprocess() == []  # a failed mail is retried once per lease, not every pass
    clock.advance(channel.lease)
    assert [o.status for o in channel.reprocess()] == ["failed"]  # still kept, still failing
    assert channel.ingest(raw).status == "failed"  # the same mail again: tried again, not lost
    with channel.desk.storage.unit_of_work() as uow:
        (kept,) = uow.list_raw_inbound()
    assert (kept.status, kept.raw) == ("failed", raw)
    assert "sender" in (kept.error or "")


def test_mail_from_the_desks_own_address_is_ignored_as_a_loop() -> None:
    from supportkit import SupportDesk

    channel = EmailChannel(SupportDesk(), EmailDesk.DESK)
    outcome = channel.ingest(
        b"From: desk@support.example\r\nSubject: Re: x\r\nMessage-ID: <own@x>\r\n\r\nhi\r\n"
    )
    assert outcome.status == "ignored"
    assert "own address" in (outcome.error or "")


def test_a_sent_mail_parses_back_to_what_was_delivered() -> None:
    """deliver() builds mail the parser reads back: token, threading, text."""
    from supportkit.channels.email import Address, build_message, compose, message_id_for
    from supportkit.ports import OutboundMessage

    out = OutboundMessage(
        "m1",
        "t1",
        7,
        "email",
        "ann@customer.example",
        "Hi Ann",
        subject="Printer",
        in_reply_to="<q1@c>",
        references=("<q1@c>",),
    )
    mail = compose(
        out,
        sender=Address("desk@support.example"),
        message_id=message_id_for(out, "support.example"),
    )
    back = parse_email(bytes(build_message(mail, EmailDesk.START)))
    assert back.subject == "[Ticket#7] Re: Printer"
    assert back.external_id == "<t7.m1@support.example>"
    assert back.in_reply_to == "<q1@c>"
