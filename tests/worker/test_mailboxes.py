"""The worker polls IMAP mailboxes, against a real dovecot: new mail becomes tickets, once,
and one worker at a time polls a mailbox."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportkit.worker import Worker, load_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))

import mailservers


@pytest.fixture
def dovecot() -> Iterator[Any]:
    if mailservers.DOVECOT is None:
        reason = "dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with mailservers.running_servers() as (server, _smtp):
        yield server


def _mail(n: int, sender: str = "ann@customer.example") -> bytes:
    return (
        f"From: Ann <{sender}>\r\nTo: desk@support.example\r\nSubject: Order {n} is late\r\n"
        f"Message-ID: <order-{n}@customer.example>\r\n\r\nWhere is order {n}?\r\n"
    ).encode()


def _actions(caplog: pytest.LogCaptureFixture, prefix: str) -> list[dict[str, Any]]:
    lines = [getattr(r, "action", None) for r in caplog.records]
    return [line for line in lines if line and line["action"].startswith(prefix)]


def _worker(tmp_path: Path, dovecot: Any) -> Worker:
    url = f"imap://{dovecot.user}:{dovecot.password}@127.0.0.1:{dovecot.port}/INBOX"
    config = load_config(
        environ={
            "SUPPORTKIT_STORAGE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}",
            "SUPPORTKIT_IMAP_URL": url,
            "SUPPORTKIT_IMAP_ADDRESS": "Support <desk@support.example>",
            "SUPPORTKIT_IMAP_INTERVAL": "1h",
        }
    )
    return Worker(config)


def test_new_mail_becomes_tickets_once(
    dovecot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", "supportkit.worker")
    for n in (1, 2):
        dovecot.deliver(_mail(n))
    dovecot.deliver(_mail(3, sender="desk@support.example"))  # our own address: a loop
    with _worker(tmp_path, dovecot) as worker:
        assert [loop.name for loop in worker.loops] == ["timers", "mailbox:email", "reprocess"]
        assert worker.run(once=True) == 0
        tickets = worker.desk.find_tickets(oldest_first=True)
        assert [t.subject for t in tickets] == ["Order 1 is late", "Order 2 is late"]
        assert worker.run(once=True) == 0  # nothing new: the cursor is stored
        assert len(worker.desk.find_tickets()) == 2
    mail = _actions(caplog, "mail.")
    assert [m["action"] for m in mail] == ["mail.processed", "mail.processed", "mail.ignored"]
    assert [m.get("ticket") for m in mail] == [t.number for t in tickets] + [None]
    assert all(m["loop"] == "mailbox:email" and m["ms"] > 0 for m in mail)
    text = " ".join(str(r.action) for r in caplog.records if hasattr(r, "action"))
    for private in ("ann@customer.example", "Order 1", dovecot.password):
        assert private not in text


def test_one_worker_at_a_time_polls_a_mailbox(dovecot: Any, tmp_path: Path) -> None:
    dovecot.deliver(_mail(1))
    with _worker(tmp_path, dovecot) as first, _worker(tmp_path, dovecot) as second:
        assert first.run(once=True) == 0
        assert len(first.desk.find_tickets()) == 1
        dovecot.deliver(_mail(2))
        assert second.run(once=True) == 0  # the first worker's turn runs for its interval
        assert len(second.desk.find_tickets()) == 1
        assert first.run(once=True) == 0  # its own turn
        assert len(first.desk.find_tickets()) == 2


def test_a_mailbox_that_refuses_the_login_is_logged_and_the_rest_runs(
    dovecot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", "supportkit.worker")
    config = load_config(
        environ={
            "SUPPORTKIT_STORAGE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}",
            "SUPPORTKIT_IMAP_URL": f"imap://desk:wrong-Pa55@127.0.0.1:{dovecot.port}/INBOX",
        }
    )
    with Worker(config) as worker:
        assert worker.run(once=True) == 1
    [failed] = _actions(caplog, "loop.")
    assert failed["loop"] == "mailbox:email"
    assert failed["action"] == "loop.failed"  # a ChannelError: known, not a crash
    assert [a["action"] for a in _actions(caplog, "worker.")][-1] == "worker.stopped"
    logged = " ".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "wrong-Pa55" not in logged
