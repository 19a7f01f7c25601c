"""Loop safety and threading helpers: pure functions, no servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportkit.channels.email import (
    AutoAckLedger,
    AutoAckLimiter,
    SubjectToken,
    classify_loop,
    make_message_id,
    match_ticket,
    parse_email,
    reply_references,
    strip_reply_prefixes,
)
from supportkit.domain._errors import ValidationError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ([("Auto-Submitted", "auto-replied")], "auto_reply"),
        ([("X-Autoreply", "yes")], "auto_reply"),
        ([("X-Autorespond", "vacation")], "auto_reply"),
        ([("Precedence", "bulk")], "bulk"),
        ([("Precedence", "junk")], "bulk"),
        ([("Precedence", "list")], "bulk"),
        ([("List-Id", "<users.lists.example.org>")], "bulk"),
        ([("X-Failed-Recipients", "ann@example.com")], "bounce"),
    ],
)
def test_automatic_mail_is_recognised_by_its_headers(
    headers: list[tuple[str, str]], kind: str
) -> None:
    verdict = classify_loop(headers)
    assert getattr(verdict, kind)
    assert not verdict.may_open_ticket
    assert not verdict.may_auto_answer


def test_auto_submitted_no_is_a_person_writing() -> None:
    assert classify_loop([("Auto-Submitted", "no")]).may_open_ticket


def test_delivery_status_reports_and_mailer_daemon_are_bounces() -> None:
    assert classify_loop([], content_type="multipart/report", report_type="delivery-status").bounce
    assert classify_loop([], sender="MAILER-DAEMON@mx.example.com").bounce
    assert classify_loop([], sender="postmaster@example.com").bounce


def test_parsed_bounce_carries_the_flag() -> None:
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--x\r\n"
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; a@b\r\nAction: failed\r\n--x--\r\n"
    )
    msg = parse_email(raw)
    assert msg.is_bounce
    assert msg.is_automated
    assert [a.filename for a in msg.attachments] == ["attachment-1.txt"] or msg.attachments


def test_a_person_writing_is_not_automated() -> None:
    msg = parse_email(b"From: ann@example.com\r\nSubject: Printer\r\n\r\nHelp")
    assert not msg.is_automated


def test_auto_ack_limiter_counts_per_window() -> None:
    limiter = AutoAckLimiter(limit=2, window=timedelta(hours=1))
    assert limiter.allows([], T0)
    assert limiter.allows([T0], T0 + timedelta(minutes=1))
    assert not limiter.allows([T0, T0 + timedelta(minutes=1)], T0 + timedelta(minutes=2))
    assert limiter.allows([T0, T0 + timedelta(minutes=1)], T0 + timedelta(hours=1, minutes=1))


def test_auto_ack_ledger_limits_each_sender_separately() -> None:
    ledger = AutoAckLedger(AutoAckLimiter(limit=1, window=timedelta(hours=1)))
    assert ledger.try_acquire("Ann@Example.com", T0)
    assert not ledger.try_acquire("ann@example.com", T0 + timedelta(minutes=5))
    assert ledger.try_acquire("bob@example.com", T0 + timedelta(minutes=5))
    assert ledger.try_acquire("ann@example.com", T0 + timedelta(hours=2))


def test_message_ids_come_from_the_injected_source_and_are_validated() -> None:
    assert make_message_id("t7.m3", "desk.example.com") == "<t7.m3@desk.example.com>"
    with pytest.raises(ValidationError):
        make_message_id("bad id\r\n", "desk.example.com")
    with pytest.raises(ValidationError):
        make_message_id("ok", "not a host")


def test_reply_references_append_the_parent_and_keep_the_root() -> None:
    assert reply_references("<p@x>", ("<r@x>",)) == ("<p@x>", ("<r@x>", "<p@x>"))
    refs = tuple(f"<{n}@x>" for n in range(30))
    _, kept = reply_references("<new@x>", refs, limit=5)
    assert kept[0] == "<0@x>"
    assert kept[-1] == "<new@x>"
    assert len(kept) == 5


def test_subject_token_is_added_once_and_found_in_any_accepted_form() -> None:
    token = SubjectToken()
    assert token.add("Re: [Ticket#12] Printer", 12) == "[Ticket#12] Re: Printer"
    assert token.find("AW: [Ticket#1234] x") == 1234
    assert token.find("Re: [#77] x") == 77
    assert token.find("no token") is None
    assert "\n" not in token.add("a\r\nBcc: x", 1)
    assert strip_reply_prefixes("Re: AW: Fwd: Printer") == "Printer"


def test_matching_prefers_headers_then_the_subject_token() -> None:
    known = {"<out1@desk>": "T1"}
    numbers = {42: "T42"}
    by_id, by_number = known.get, numbers.get
    by_header = parse_email(
        b"From: a@x\r\nSubject: [Ticket#42] x\r\nIn-Reply-To: <out1@desk>\r\n\r\nhi"
    )
    assert match_ticket(by_header, by_id, by_number) == "T1"
    by_refs = parse_email(b"From: a@x\r\nReferences: <out1@desk> <other@x>\r\n\r\nhi")
    assert match_ticket(by_refs, by_id, by_number) == "T1"
    by_subject = parse_email(b"From: a@x\r\nSubject: Re: [Ticket#42] x\r\n\r\nhi")
    assert match_ticket(by_subject, by_id, by_number) == "T42"
    new = parse_email(b"From: a@x\r\nSubject: Hello\r\n\r\nhi")
    assert match_ticket(new, by_id, by_number) is None
