"""No secrets or personal data in error messages; a NUL never widens a search.

Security checks from issue 12: a PostgreSQL password in a connection error,
the sender's address in the oversized-message error, and
``find_tickets(text="\\x00")`` returning every ticket on SQLite.
"""

from __future__ import annotations

import logging

import pytest

from supportkit import MalformedMessage, StorageError, SupportDesk
from supportkit.channels.email import EmailChannel
from supportkit.domain._redact import redact_url, scrub, secrets_of
from supportkit.ports import Storage


@pytest.mark.parametrize(
    "conninfo",
    [
        "postgresql://desk:S3cret@127.0.0.1:1/support",  # nothing listens on port 1
        "postgresql://desk:S3cret@127.0.0.1:5432/no_such_database_here",
        "postgresql://desk:S3cret@bad host/support",  # the driver echoes the string back
        "host=127.0.0.1 port=1 user=desk password=S3cret",
        "postgresql://desk:S%33cret@127.0.0.1:1/support",
    ],
)
def test_a_connection_error_never_shows_the_password(
    conninfo: str, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("psycopg")
    from supportkit.storage.postgres import PostgresStorage

    with caplog.at_level(logging.DEBUG), pytest.raises(StorageError) as caught:
        PostgresStorage(conninfo)
    shown = f"{caught.value} {caught.value!r} {caught.value.__cause__!r} {caplog.text}"
    assert "S3cret" not in shown
    assert "***" in str(caught.value)


def test_redaction_keeps_everything_but_the_password() -> None:
    assert (
        redact_url("imaps://desk:pa:ss@mail.example/INBOX") == "imaps://desk:***@mail.example/INBOX"
    )
    assert redact_url("postgresql://desk@db/x") == "postgresql://desk@db/x"
    assert secrets_of("postgresql://u:p%40ss@h/d") == ["p%40ss", "p@ss"]
    assert scrub('failed near "u:p@ss@h"', ["p@ss"]) == 'failed near "u:***@h"'


def test_a_bad_mail_server_url_does_not_show_its_password() -> None:
    from supportkit import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        EmailChannel.from_settings(
            address="support@example.com", imap="imaps://desk:S3cret@mail.example:99999/INBOX"
        )
    assert "S3cret" not in str(caught.value)


def test_the_oversized_message_error_does_not_name_the_sender() -> None:
    desk = SupportDesk(max_text_chars=100)
    with pytest.raises(MalformedMessage) as caught:
        desk.receive("email", "ann.private@customer.example", "x" * 500)
    assert "ann.private" not in str(caught.value)
    assert "500 characters" in str(caught.value)


def test_an_oversized_mail_is_kept_failed_without_the_address_in_its_error() -> None:
    desk = SupportDesk(max_text_chars=100)
    channel = EmailChannel(desk, "desk@support.example")
    raw = b"From: Ann <ann.private@customer.example>\r\nMessage-ID: <big@x>\r\n\r\n" + b"y" * 500
    outcome = channel.ingest(raw)
    assert outcome.status == "failed"
    assert "ann.private" not in (outcome.error or "")
    with desk.storage.unit_of_work() as uow:
        (kept,) = uow.list_raw_inbound()
    assert "ann.private" not in (kept.error or "")


@pytest.mark.parametrize("needle", ["\x00", "\x00%", "a\x00", "%", "_", "\\"])
def test_a_search_with_nul_or_wildcards_matches_only_literally(
    storage: Storage, needle: str
) -> None:
    desk = SupportDesk(storage=storage)
    desk.receive("email", "a@example.com", "x", subject="refund please")
    desk.receive("email", "b@example.com", "x", subject="100% broken_thing \\ here")
    found = {t.subject for t in desk.find_tickets(text=needle)}
    expected = {s for s in ("refund please", "100% broken_thing \\ here") if needle in s}
    assert found == expected
