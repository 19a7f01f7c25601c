"""Fixtures for the email channel: real dovecot IMAP + aiosmtpd SMTP on loopback."""

from __future__ import annotations

import itertools
import os
import smtplib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from supportkit import SupportDesk
from supportkit.channels import (
    ChannelRegistry,
    CustomerNotifier,
    InboundMessage,
    OutboundDispatcher,
    RetryPolicy,
)
from supportkit.channels.email import EmailChannel, ImapCursor, ImapPoller, parse_email
from supportkit.ports import FakeClock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "servers"))

import mailservers


def _need_dovecot() -> None:
    if mailservers.DOVECOT is None:
        reason = "dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def mail_servers() -> Iterator[tuple[Any, Any]]:
    """(dovecot, smtp): one mailbox, the desk's, gets every message."""
    _need_dovecot()
    with mailservers.running_servers() as servers:
        yield servers


@pytest.fixture
def mailboxes() -> Iterator[tuple[Any, Any]]:
    """(dovecot, smtp) with two mailboxes: ``desk`` and the customer ``ann``.

    Mail to ``ann@...`` lands in ann's mailbox, anything else in the desk's;
    both are read over IMAP with password ``secret``.
    """
    _need_dovecot()
    with mailservers.running_servers(others={"ann": "secret"}) as servers:
        yield servers


class EmailDesk:
    """A desk wired the way a host wires email: EmailChannel + dispatcher (+ notifier)."""

    DESK = "Example Support <desk@support.example>"
    START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __init__(
        self,
        dovecot: Any,
        smtp_port: int,
        *,
        notifier: dict[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        storage: Any = None,
        attachments: Any = None,
    ) -> None:
        counter = itertools.count(1)
        self.clock = FakeClock(self.START)
        self.channel = EmailChannel.from_settings(
            address=self.DESK,
            imap={
                "host": "127.0.0.1",
                "port": dovecot.port,
                "username": dovecot.user,
                "password": dovecot.password,
            },
            smtp=f"smtp://127.0.0.1:{smtp_port}",
            attachments=attachments,
        )
        self.dispatcher = OutboundDispatcher(
            ChannelRegistry([self.channel]), retry=retry or RetryPolicy()
        )
        extensions: list[Any] = [self.dispatcher, self.channel]
        if notifier is not None:
            extensions.append(CustomerNotifier(self.dispatcher, **notifier))
        self.desk = SupportDesk(
            storage, clock=self.clock, ids=lambda: f"id{next(counter)}", extensions=extensions
        )

    def customer_box(self, dovecot: Any, user: str = "ann") -> Any:
        return ImapPoller("127.0.0.1", dovecot.port, user, dovecot.users[user])

    def read_box(self, dovecot: Any, user: str = "ann") -> list[InboundMessage]:
        """Every message in *user*'s mailbox, read over IMAP and parsed."""
        fetched: list[Any] = []
        self.customer_box(dovecot, user).poll(ImapCursor(), fetched.append)
        return [parse_email(m.raw) for m in fetched]


def customer_sends(smtp_port: int, raw: str | bytes, to: str = "desk@support.example") -> None:
    """The customer's mail client submits *raw* over SMTP."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.sendmail("ann@customer.example", [to], data)


@pytest.fixture
def email_desk() -> type[EmailDesk]:
    return EmailDesk
