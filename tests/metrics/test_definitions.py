"""One definition per concept: every path gives the hand-computed value.

Each case is driven on a real desk over a SQLite file and read back by every
path: the SLA extension's status and outcomes, the ticket's own timestamps,
the streaming calculator and the SQL push-down.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportkit import FakeClock, SupportDesk
from supportkit.extensions import SlaExtension
from supportkit.metrics import MetricsReport, Rate, compute_metrics, iter_ticket_facts, sql_metrics
from supportkit.policies import ClockState, SlaKind, SlaPolicy, SlaRule, office_hours
from supportkit.storage.sqlite import SQLiteStorage

MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ONE_HOUR = {"first_response": timedelta(hours=1)}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[SupportDesk, FakeClock, SlaExtension]]:
    clock = FakeClock(MONDAY)
    sla = SlaExtension(SlaPolicy([SlaRule(first_response=timedelta(hours=1))]))
    storage = SQLiteStorage(tmp_path / "desk.sqlite3")
    d = SupportDesk(storage, clock=clock, extensions=[sla])
    yield d, clock, sla
    storage.close()


def both(d: SupportDesk, **options: Any) -> tuple[MetricsReport, MetricsReport]:
    """The streaming report and the SQL report of the same stored desk."""
    with d.storage.unit_of_work() as uow:
        streamed = compute_metrics(iter_ticket_facts(uow), **options)
    storage = d.storage
    assert isinstance(storage, SQLiteStorage)
    return streamed, sql_metrics(storage.connection(), **options)


def test_a_bot_answer_is_no_first_response_anywhere(
    desk: tuple[SupportDesk, FakeClock, SlaExtension],
) -> None:
    d, clock, sla = desk
    t = d.receive("chat", "ann@example.com", "How do I export?")
    clock.advance(minutes=1)
    d.reply(t.id, "bot", "This article may help", meta={"bot": True})
    clock.advance(hours=2)  # +2h01 in all
    d.reply(t.id, "olga", "Here is how")
    assert d.get_ticket(t.id).first_response_at == MONDAY + timedelta(hours=2, minutes=1)
    clock_ = sla.status(d, t.id)[SlaKind.FIRST_RESPONSE]
    assert clock_.state is ClockState.BREACHED
    assert [(o.target, o.met) for o in sla.outcomes(d)] == [("first_response", False)]
    for report in both(d, at=clock.now(), sla_targets=ONE_HOUR):
        assert report.total.sla["first_response"] == Rate(0, 1)
        assert report.total.first_response.median == 2 * 3600 + 60
    for report in both(d, at=clock.now(), sla_outcomes=sla.outcomes(d)):
        assert report.total.sla["first_response"] == Rate(0, 1)


def test_a_bot_answer_then_one_human_reply_that_resolves_is_first_contact_resolution(
    desk: tuple[SupportDesk, FakeClock, SlaExtension],
) -> None:
    d, clock, _ = desk
    t = d.receive("chat", "ann@example.com", "Reset my password")
    d.reply(t.id, "bot", "Try the reset link", meta={"bot": True})
    clock.advance(minutes=5)
    d.receive("chat", "ann@example.com", "It did not work", ticket_id=t.id)
    clock.advance(minutes=5)
    d.reply(t.id, "olga", "Done by hand")
    d.resolve(t.id, actor="olga", resolution="reset by hand")
    for report in both(d, at=clock.now()):
        assert report.total.first_contact_resolution == Rate(1, 1)
        # the bot's answer opened no wait: the customer was still waiting for a person
        assert report.total.next_response.count == 0
        assert report.total.first_response.median == 600


def test_spam_and_duplicate_closings_leave_every_sla_figure(
    desk: tuple[SupportDesk, FakeClock, SlaExtension],
) -> None:
    d, clock, sla = desk
    spam = d.receive("email", "ads@example.com", "Buy cheap watches")
    dup = d.receive("email", "bob@example.com", "Invoice wrong")
    good = d.receive("email", "carl@example.com", "Invoice wrong too")
    clock.advance(minutes=30)
    d.reply(good.id, "olga", "Fixed")
    clock.advance(hours=3)  # spam and dup are 3h30 unanswered: breached if they counted
    d.close_as_spam(spam.id, actor="olga", reason="advertising")
    d.close_as_duplicate(dup.id, actor="olga", duplicate_of=good.id)
    assert sla.status(d, good.id)[SlaKind.FIRST_RESPONSE].state is ClockState.MET
    assert [(o.ticket_id, o.met) for o in sla.outcomes(d)] == [(good.id, True)]
    for report in both(d, at=clock.now(), sla_targets=ONE_HOUR):
        assert report.total.sla["first_response"] == Rate(1, 1)
        assert report.total.tickets == 3
    # at an instant before the closings they were still breaches in waiting
    for report in both(d, at=clock.now() - timedelta(minutes=1), sla_targets=ONE_HOUR):
        assert report.total.sla["first_response"] == Rate(1, 3)


def test_channels_without_a_calendar_are_judged_in_clock_time_on_both_paths(
    tmp_path: Path,
) -> None:
    friday = datetime(2026, 1, 9, 16, 30, tzinfo=UTC)  # 17:30 in Berlin
    clock = FakeClock(friday)
    storage = SQLiteStorage(tmp_path / "desk.sqlite3")
    d = SupportDesk(storage, clock=clock)
    email = d.receive("email", "ann@example.com", "Invoice")
    chat = d.receive("chat", "bob@example.com", "Login")
    clock.advance(minutes=75)  # 18:45 Berlin: 75 min clock time, 30 min business time
    d.reply(chat.id, "olga", "Try again")
    clock.set(datetime(2026, 1, 12, 8, 20, tzinfo=UTC))  # Monday 09:20 Berlin
    d.reply(email.id, "olga", "Corrected")
    office = office_hours("Europe/Berlin")
    options: dict[str, Any] = {
        "at": clock.now(),
        "calendars": {"email": office},
        "sla_targets": ONE_HOUR,
        "group_by": "channel",
    }
    for report in both(d, **options):
        # email: 30 min on Friday + 20 min on Monday = 50 min <= 1h: met
        assert report.group("email").sla["first_response"] == Rate(1, 1)
        assert report.group("email").first_response_business is not None
        assert report.group("email").first_response_business.median == 50 * 60
        # chat has no calendar: 75 min of clock time > 1h: breached
        assert report.group("chat").sla["first_response"] == Rate(0, 1)
        chat_business = report.group("chat").first_response_business
        assert chat_business is not None
        assert chat_business.count == 0
        assert report.total.sla["first_response"] == Rate(1, 2)
    storage.close()


def test_a_ticket_resolved_then_reopened_later_is_out_of_the_backlog_in_between(
    desk: tuple[SupportDesk, FakeClock, SlaExtension],
) -> None:
    d, clock, _ = desk
    t = d.receive("email", "ann@example.com", "Broken")  # 09:00
    clock.advance(hours=1)
    d.reply(t.id, "olga", "Fixed")
    d.resolve(t.id, actor="olga", resolution="fixed")  # 10:00
    clock.advance(hours=2)
    d.reopen(t.id, actor="olga", reason="broken again")  # 12:00
    clock.advance(hours=1)
    expected = {
        MONDAY - timedelta(minutes=1): 0,
        MONDAY + timedelta(minutes=30): 1,
        MONDAY + timedelta(hours=1): 0,  # resolved at that instant
        MONDAY + timedelta(hours=2): 0,  # resolved then, reopened later
        MONDAY + timedelta(hours=3, minutes=30): 1,
    }
    for at, backlog in expected.items():
        for report in both(d, at=at):
            assert report.total.backlog == backlog, at
    for report in both(d, at=MONDAY + timedelta(days=2, hours=2)):
        # points at Saturday-like daily steps back from the instant: Mon 11:00 was resolved
        assert report.backlog_series[0] == (MONDAY + timedelta(hours=2), 0)
        assert [n for _, n in report.backlog_series] == [0, 1, 1]


def test_a_spam_closing_takes_the_archived_next_response_clocks_out_too(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY)
    rule = SlaRule(first_response=timedelta(hours=1), next_response=timedelta(minutes=10))
    sla = SlaExtension(SlaPolicy([rule]))
    storage = SQLiteStorage(tmp_path / "desk.sqlite3")
    d = SupportDesk(storage, clock=clock, extensions=[sla])
    t = d.receive("email", "ads@example.com", "Hello")
    d.reply(t.id, "olga", "How can we help?")
    for _ in range(2):  # two waits of an hour: two breached next-response clocks
        d.receive("email", "ads@example.com", "Buy watches", ticket_id=t.id)
        clock.advance(hours=1)
        d.reply(t.id, "olga", "Please stop")
    assert sorted((o.target, o.met) for o in sla.outcomes(d)) == [
        ("first_response", True),
        ("next_response", False),
        ("next_response", False),
    ]
    d.close_as_spam(t.id, actor="olga", reason="advertising")
    assert sla.outcomes(d) == []
    assert len(list(sla.clocks(d, include_excluded=True))) == 3  # one archived
    storage.close()
