"""`make demo` plays a support desk on SQLite and prints where every ticket stands."""

import io
from pathlib import Path

from supportkit.demo import run_demo
from supportkit.domain import Direction


def test_demo_plays_a_desk_on_sqlite_and_reports_every_ticket(tmp_path: Path) -> None:
    out = io.StringIO()
    desk = run_demo(tmp_path / "demo.sqlite3", out=out)
    text = out.getvalue()
    assert (tmp_path / "demo.sqlite3").exists()
    tickets = desk.find_tickets(limit=100, oldest_first=True)
    assert len(tickets) >= 8
    assert {"email", "chat", "web", "phone"} <= {t.channel for t in tickets}
    assert {t.status for t in tickets} == {"closed"}
    assert any(t.reopen_count == 1 for t in tickets)
    assert {t.tier for t in tickets} >= {"L1", "L2", "L3"}
    for t in tickets:
        assert f"#{t.number}" in text
    assert all(t.assignee_id for t in tickets), "routing assigned every ticket"


def test_demo_shows_bot_sla_escalation_and_metrics(tmp_path: Path) -> None:
    out = io.StringIO()
    desk = run_demo(tmp_path / "demo.sqlite3", out=out)
    text = out.getvalue()
    bot_messages = [
        m
        for t in desk.find_tickets(channel="chat")
        for m in desk.messages(t.id)
        if m.author == "bot" and m.direction is Direction.OUTBOUND
    ]
    assert bot_messages, "the bot answered on chat"
    assert "handed over" in text
    assert "SLA warning: first_response" in text
    assert "SLA breached: first_response" in text
    assert "(sla-breach)" in text
    assert "reopened" in text
    assert "The day's metrics" in text
    assert "TOTAL" in text
    assert "first response: mean" in text


def test_demo_collects_feedback_and_reports_csat(tmp_path: Path) -> None:
    out = io.StringIO()
    run_demo(tmp_path / "demo.sqlite3", out=out)
    text = out.getvalue()
    assert "CSAT 5/5" in text
    assert "CSAT 2/5" in text
    assert "used twice is refused" in text
    assert "CSAT: 66.7% satisfied" in text
