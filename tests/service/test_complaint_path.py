"""Complaints as a first-class path: recognised inbound, converted or opened, supervised, measured."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportkit import (
    ComplaintRegistered,
    ConfigurationError,
    FakeClock,
    MemoryStorage,
    SupportDesk,
    Team,
)
from supportkit.cli import main
from supportkit.knowledge import ComplaintIntake, TriageOnRegistration, complaint_lifecycle
from supportkit.metrics import complaint_metrics, sql_complaint_metrics, stored_complaint_metrics
from supportkit.policies import SlaExtension, SlaKind, SlaPolicy, SlaRule, Triage, TriageRule
from supportkit.storage.sqlite import SQLiteStorage

MON = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _desk(storage: Any, *extra: Any, **kw: Any) -> tuple[SupportDesk, list[Any], FakeClock]:
    clock = FakeClock(MON)
    intake = ComplaintIntake(supervisor_tier="L2", supervisor_team="supervisors", **kw)
    desk = SupportDesk(
        storage, clock=clock, lifecycles=[complaint_lifecycle()], extensions=[*extra, intake]
    )
    desk.add_team(Team("supervisors", "Supervisors", tier="L2"))
    seen: list[Any] = []
    desk.signals.for_type(ComplaintRegistered).connect(
        lambda _s, event: seen.append(event), weak=False
    )
    return desk, seen, clock


def test_a_written_complaint_takes_the_complaint_path(storage: Any) -> None:
    desk, seen, _ = _desk(storage)
    t = desk.receive(
        "email", "ann@example.com", "I want to complain about your courier.", subject="Courier"
    )
    assert (t.lifecycle, t.status) == ("complaint", "registered")
    assert "complaint" in t.tags
    assert t.priority.name == "HIGH"
    assert (t.tier, t.team_id) == ("L2", "supervisors")
    [event] = seen
    assert (event.how, event.converted) == ("keywords", True)
    history = desk.history(t.id)
    assert any(h.event == "convert_to_complaint" for h in history)
    assert any(h.event == "escalate" and "complaint" in h.reason for h in history)
    stored = desk.get_ticket(t.id)
    assert stored.lifecycle == "complaint"  # the conversion is stored, not only returned
    desk.transition(t.id, "investigate", actor="sue")
    answered = desk.transition(t.id, "answer", actor="sue", reason="refund and apology")
    assert answered.resolved_at == MON
    assert desk.close(t.id, actor="sue").status == "closed"


def test_russian_wording_and_a_plain_question(storage: Any) -> None:
    desk, seen, _ = _desk(storage)
    ru = desk.receive(
        "email", "boris@example.ru", "Хочу подать жалобу на оператора", subject="Жалоба"
    )
    plain = desk.receive("email", "cat@example.com", "How do I reset my password?", subject="Pwd")
    assert ru.lifecycle == "complaint"
    assert plain.lifecycle == "default"
    assert plain.tier == "L1"
    assert len(seen) == 1


def test_the_hosts_form_flag_and_triage_tags_are_complaints_too(storage: Any) -> None:
    triage = TriageOnRegistration(
        Triage([TriageRule("refund-anger", keywords=["money back now"], tags={"complaint"})])
    )
    desk, seen, _ = _desk(storage, triage)
    flagged = desk.receive("web", "dan@example.com", "About order 42", meta={"complaint": True})
    tagged = desk.receive("email", "eve@example.com", "I want my money back now", subject="x")
    assert flagged.lifecycle == tagged.lifecycle == "complaint"
    assert [e.how for e in seen] == ["flag", "triage"]


def test_a_complaint_written_on_an_open_ticket_opens_a_linked_complaint(storage: Any) -> None:
    desk, seen, _ = _desk(storage)
    t = desk.receive("email", "fay@example.com", "Parcel not delivered", subject="Parcel")
    desk.reply(t.id, "kate", "We are checking")
    desk.receive("email", "fay@example.com", "This is outrageous, nobody answers", ticket_id=t.id)
    original = desk.get_ticket(t.id)
    assert original.lifecycle == "default"
    complaint = desk.get_ticket_by_number(original.custom_fields["complaint"])
    assert complaint.lifecycle == "complaint"
    assert complaint.custom_fields["complaint_of"] == t.id
    assert (complaint.tier, complaint.team_id) == ("L2", "supervisors")
    assert [(e.ticket_id, e.converted, e.complaint_ticket_id) for e in seen] == [
        (t.id, False, complaint.id)
    ]
    desk.receive("email", "fay@example.com", "complain complain", ticket_id=t.id)
    assert len(seen) == 1  # one complaint per ticket


def test_complaints_have_their_own_sla(storage: Any) -> None:
    sla = SlaExtension(
        SlaPolicy(
            [
                SlaRule(first_response=timedelta(hours=8)),
                SlaRule(first_response=timedelta(hours=1), team="supervisors"),
            ]
        )
    )
    desk, _, _ = _desk(storage, sla)
    complaint = desk.receive("email", "gus@example.com", "Formal complaint", subject="x")
    question = desk.receive("email", "hal@example.com", "A question", subject="y")
    assert sla.status(desk, complaint.id)[SlaKind.FIRST_RESPONSE].due_at == MON + timedelta(hours=1)
    assert sla.status(desk, question.id)[SlaKind.FIRST_RESPONSE].due_at == MON + timedelta(hours=8)


def test_complaint_metrics_count_resolution_and_share(storage: Any) -> None:
    desk, _, clock = _desk(storage)
    c1 = desk.receive("email", "a@example.com", "I complain", subject="1")
    desk.receive("email", "b@example.com", "question", subject="2")
    desk.receive("email", "c@example.com", "question", subject="3")
    desk.receive("email", "d@example.com", "жалоба", subject="4")
    clock.advance(hours=5)
    desk.transition(c1.id, "investigate", actor="sue")
    desk.transition(c1.id, "answer", actor="sue", reason="sorry")
    with desk.storage.unit_of_work() as uow:
        m = stored_complaint_metrics(uow, since=MON, until=MON + timedelta(days=1))
    assert (m.complaints, m.tickets, m.resolved) == (2, 4, 1)
    assert m.share.pct == 50.0
    assert m.resolution.median == 5 * 3600
    assert complaint_metrics([], since=MON).share.pct is None
    if not isinstance(storage, MemoryStorage):  # the same figures computed in the database
        dialect = "sqlite" if isinstance(storage, SQLiteStorage) else "postgresql"
        with storage.unit_of_work() as uow:
            conn = uow.raw_connection()
            assert sql_complaint_metrics(conn, dialect=dialect, since=MON) == m
            later = sql_complaint_metrics(conn, dialect=dialect, since=MON + timedelta(hours=1))
        assert (later.complaints, later.tickets) == (0, 0)


def test_the_report_shows_the_complaints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "desk.sqlite3"
    with SQLiteStorage(path) as storage:
        desk, _, _ = _desk(storage)
        desk.receive("email", "a@example.com", "I complain", subject="1")
        desk.receive("email", "b@example.com", "question", subject="2")
    args = ["report", "--db", str(path), "--since", "2026-01-05", "--at", "2026-01-06"]
    assert main(args) == 0
    assert "complaints: 1 of 2 tickets (50.0%)" in capsys.readouterr().out
    assert main([*args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["complaints"]["complaints"] == 1


def test_the_complaint_lifecycle_must_be_known() -> None:
    with pytest.raises(ConfigurationError, match="complaint"):
        SupportDesk(extensions=[ComplaintIntake()])
