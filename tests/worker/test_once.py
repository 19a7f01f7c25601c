"""``supportkit worker --once`` on SQLite and PostgreSQL: one pass of every loop, a JSON
line per action, nothing personal in them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from supportkit import SupportDesk
from supportkit.worker import Worker, load_config

from .conftest import Seeded, actions, run_once, write_config

MAIL = (
    b"From: Ann Example <ann@example.com>\r\nTo: desk@support.example\r\n"
    b"Subject: Stuck order\r\nMessage-ID: <stuck-1@example.com>\r\n\r\n"
    b"My order never arrived.\r\n"
)


def test_once_fires_timers_closes_resolved_tickets_and_reprocesses(
    seeded: Seeded, tmp_path: Path
) -> None:
    resolved = seeded.resolved_tickets(3)
    keys = seeded.due_timers(5, resolved)
    mail_id = seeded.pending_raw_mail(MAIL)
    hook_id = seeded.pending_raw_webhook({"sender": "bob@example.com", "text": "Hello there"})
    call_id = seeded.pending_raw_call("call-1", "+44 20 7946 0000")
    fresh = seeded.desk.receive("email", "carl@example.com", "Still open")
    config = write_config(tmp_path / "worker.toml", seeded.url, '[auto_close]\nafter = "7d"\n')

    code, lines, err = run_once(config)

    assert code == 0, err
    assert seeded.firings() == dict.fromkeys(keys, 1)
    assert seeded.timers_left() == 0
    assert all(seeded.closings(t) == 1 for t in resolved)
    assert seeded.desk.get_ticket(fresh.id).status == "registered"  # not resolved: untouched
    mail = seeded.raw(mail_id)
    assert mail.status == "processed"
    assert seeded.desk.get_ticket(mail.ticket_id or "").subject == "Stuck order"
    assert seeded.raw(hook_id).status == "processed"
    assert seeded.raw(call_id).status == "processed"

    numbers = {seeded.desk.get_ticket(t).number for t in resolved}
    assert {line["ticket"] for line in actions(lines, "ticket.closed")} == numbers
    fired = actions(lines, "timer.fired")
    assert len(fired) == 5
    assert {line["ticket"] for line in fired} == numbers  # the handler's ticket
    assert all(line["kind"] == "host.count" and line["ms"] >= 0 for line in fired)
    reprocessed = actions(lines, "raw.processed")
    assert sorted(line["channel"] for line in reprocessed) == ["email", "phone", "webhook"]
    assert all(isinstance(line["ticket"], int) for line in reprocessed)
    assert next(line["action"] for line in lines) == "worker.started"
    assert [line["action"] for line in lines][-1] == "worker.stopped"
    assert len({line["worker"] for line in lines}) == 1
    for private in ("ann@", "bob@", "Stuck order", "Secret", "Hello", "7946", "refund"):
        assert private not in err


def test_once_with_nothing_to_do_says_only_that_it_ran(seeded: Seeded, tmp_path: Path) -> None:
    code, lines, err = run_once(write_config(tmp_path / "worker.toml", seeded.url))
    assert code == 0, err
    assert [line["action"] for line in lines] == ["worker.started", "worker.stopped"]
    assert lines[0]["loops"] == ["timers", "reprocess"]


def test_a_resolved_ticket_reopened_meanwhile_stays_open(seeded: Seeded) -> None:
    """The selection is only a proposal: the closing use case checks the locked ticket."""
    [ticket_id] = seeded.resolved_tickets(1)
    cutoff = datetime.now(UTC)
    seeded.desk.reopen(ticket_id, actor="ann@example.com", reason="not fixed")
    assert seeded.desk.close_resolved(ticket_id, actor="w", resolved_before=cutoff) is None
    assert seeded.desk.get_ticket(ticket_id).status != "closed"


def test_a_failing_pass_is_logged_and_once_exits_1(caplog: pytest.LogCaptureFixture) -> None:
    """A loop that raises does not stop the others; ``--once`` reports it in its exit code."""

    class Broken:
        name, interval = "broken", 1.0

        def run_once(self) -> bool:
            raise RuntimeError("the broker is away")

    ran = []

    class Fine:
        name, interval = "fine", 1.0

        def run_once(self) -> bool:
            ran.append(True)
            return False

    config = load_config(environ={"SUPPORTKIT_STORAGE_URL": "memory://"})
    worker = Worker(config, desk=SupportDesk(), loops=[Broken(), Fine()])
    assert worker.run(once=True) == 1
    assert ran == [True]
    [crash] = [
        r for r in caplog.records if getattr(r, "action", {}).get("action") == "loop.crashed"
    ]
    assert crash.action["loop"] == "broken"  # type: ignore[attr-defined]
    assert "the broker is away" in str(crash.exc_info[1] if crash.exc_info else "")


def test_the_json_formatter_keeps_library_warnings_one_line(tmp_path: Path) -> None:
    import io
    import logging

    from supportkit.worker import log_to

    stream = io.StringIO()
    handler = log_to(stream)
    try:
        logging.getLogger("supportkit.channels").warning("a warning\nover two lines")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("supportkit").exception("failed")
    finally:
        logging.getLogger("supportkit").removeHandler(handler)
        logging.getLogger("supportkit").propagate = True
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "a warning\nover two lines"
    assert first["level"] == "warning"
    assert second["error"] == "ValueError: boom"
