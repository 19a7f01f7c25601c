"""The email channel against real servers: aiosmtpd out, dovecot in."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from typing import Any

import pytest

from supportkit.channels.email import (
    Address,
    FetchedMail,
    ImapCursor,
    ImapPoller,
    OutboundEmail,
    PermanentChannelError,
    SmtpSender,
    TransientChannelError,
    build_message,
    parse_email,
)

pytestmark = pytest.mark.email_servers

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _poller(dovecot: Any, **kw: Any) -> ImapPoller:
    return ImapPoller("127.0.0.1", dovecot.port, dovecot.user, dovecot.password, **kw)


def _mail(n: int, subject: str = "Printer on fire") -> OutboundEmail:
    return OutboundEmail(
        sender=Address("ann@customer.example", "Ann Lee"),
        to=(Address("desk@support.example", "Support"),),
        subject=f"{subject} {n}",
        text=f"Hello, message {n}.\n\n-- \nAnn",
        html=f"<p>Hello, message {n}.</p><script>alert(1)</script>",
        message_id=f"<m{n}@customer.example>",
    )


def _send(smtp: Any, mail: OutboundEmail) -> None:
    SmtpSender("127.0.0.1", smtp.port).send(build_message(mail, NOW))


def test_mail_sent_over_smtp_is_read_back_over_imap_and_parsed(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    _send(smtp, _mail(1))
    fetched: list[FetchedMail] = []
    cursor = _poller(dovecot).poll(ImapCursor(), fetched.append)
    assert [m.uid for m in fetched] == [1]
    assert cursor.last_uid == 1
    assert cursor.uidvalidity is not None
    assert fetched[0].internal_date is not None
    assert fetched[0].internal_date.tzinfo is not None
    msg = parse_email(fetched[0].raw, received_at=fetched[0].internal_date)
    assert msg.external_id == "<m1@customer.example>"
    assert msg.sender == Address("ann@customer.example", "Ann Lee")
    assert msg.subject == "Printer on fire 1"
    assert msg.text == "Hello, message 1."
    assert msg.html is not None
    assert "script" not in msg.html


def test_a_restarted_poller_neither_reimports_nor_skips(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    for n in (1, 2):
        _send(smtp, _mail(n))
    seen: list[int] = []
    cursor = _poller(dovecot).poll(ImapCursor(), lambda m: seen.append(m.uid))
    # a new poller object, as after a process restart, with the persisted cursor
    cursor = _poller(dovecot).poll(cursor, lambda m: seen.append(m.uid))
    assert seen == [1, 2]
    _send(smtp, _mail(3))
    cursor = _poller(dovecot).poll(cursor, lambda m: seen.append(m.uid))
    assert seen == [1, 2, 3]
    assert cursor.last_uid == 3


def test_a_handler_failure_half_way_keeps_the_progress_already_persisted(
    mail_servers: Any,
) -> None:
    dovecot, smtp = mail_servers
    for n in (1, 2, 3):
        _send(smtp, _mail(n))
    persisted = ImapCursor()
    stored: list[int] = []
    for mail in _poller(dovecot).fetch_new(persisted):
        if mail.uid == 2:
            break  # the process dies while storing message 2
        stored.append(mail.uid)
        persisted = mail.cursor
    for mail in _poller(dovecot).fetch_new(persisted):
        stored.append(mail.uid)
    assert stored == [1, 2, 3]


def test_a_changed_uidvalidity_starts_over_from_the_first_message(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    _send(smtp, _mail(1))
    cursor = _poller(dovecot).poll(ImapCursor(), lambda m: None)
    dovecot.reset_mailbox()  # mailbox recreated: UIDs restart, UIDVALIDITY changes
    _send(smtp, _mail(2))
    seen: list[bytes] = []
    new_cursor = _poller(dovecot).poll(cursor, lambda m: seen.append(m.raw))
    assert new_cursor.uidvalidity != cursor.uidvalidity
    assert len(seen) == 1
    assert b"<m2@customer.example>" in seen[0]


def test_polling_does_not_mark_messages_seen(mail_servers: Any) -> None:
    dovecot, smtp = mail_servers
    _send(smtp, _mail(1))
    _poller(dovecot).poll(ImapCursor(), lambda m: None)
    from imapclient import IMAPClient

    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login(dovecot.user, dovecot.password)
        client.select_folder("INBOX", readonly=True)
        assert client.search(["UNSEEN"]) == [1]


def test_a_wrong_imap_password_is_a_permanent_channel_error(mail_servers: Any) -> None:
    dovecot, _ = mail_servers
    poller = ImapPoller("127.0.0.1", dovecot.port, dovecot.user, "wrong")
    with pytest.raises(PermanentChannelError, match="login"):
        poller.poll(ImapCursor(), lambda m: None)


def test_an_unreachable_imap_server_is_a_transient_channel_error() -> None:
    import mailservers

    poller = ImapPoller("127.0.0.1", mailservers.free_port(), "u", "p", timeout=2)
    with pytest.raises(TransientChannelError) as info:
        poller.poll(ImapCursor(), lambda m: None)
    assert info.value.retryable
    assert info.value.__cause__ is not None


def test_smtp_5xx_is_permanent_and_4xx_is_transient(mail_servers: Any) -> None:
    dovecot, _ = mail_servers
    import mailservers

    smtp = mailservers.start_smtp(
        dovecot,
        reject={
            "gone@support.example": "550 5.1.1 no such user",
            "busy@support.example": "451 4.3.0 try again later",
        },
    )
    try:
        sender = SmtpSender("127.0.0.1", smtp.port)
        gone = build_message(_mail(1), NOW)
        with pytest.raises(PermanentChannelError) as perm:
            sender.send(gone, ["gone@support.example"])
        assert perm.value.code == 550
        assert not perm.value.retryable
        assert isinstance(perm.value.__cause__, smtplib.SMTPRecipientsRefused)
        with pytest.raises(TransientChannelError) as temp:
            sender.send(gone, ["busy@support.example"])
        assert temp.value.code == 451
        assert temp.value.retryable
        refused = sender.send(gone, ["desk@support.example", "gone@support.example"])
        assert refused == {"gone@support.example": 550}
    finally:
        smtp.stop()


def test_a_refused_smtp_connection_is_transient() -> None:
    import mailservers

    with pytest.raises(TransientChannelError, match="retry later"):
        SmtpSender("127.0.0.1", mailservers.free_port(), timeout=2).send(
            build_message(_mail(1), NOW)
        )
