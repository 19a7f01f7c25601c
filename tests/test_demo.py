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


def test_demo_tells_the_service_description_story(tmp_path: Path) -> None:
    out = io.StringIO()
    desk = run_demo(tmp_path / "demo.sqlite3", out=out)
    text = out.getvalue()
    assert "Our chat is closed now; it opens Tue 03 Mar 2026 09:00" in text
    assert "recognised as Ann Lee" in text
    ann_tickets = desk.customer_history(desk.find_customer("email", "ann@example.com").id)  # type: ignore[union-attr]
    assert {t.channel for t in ann_tickets.tickets} == {"email", "chat"}
    complaints = [t for t in desk.find_tickets(limit=100) if t.lifecycle == "complaint"]
    assert len(complaints) == 1
    assert complaints[0].tier == "L2"
    assert "on the complaint lifecycle" in text
    assert "recording https://pbx.example.com/rec/cb-0312.mp3" in text
    assert "callback done" in text
    assert "answered with the guide 'Export your data to CSV'" in text
    assert "complaints: 1 of 12 tickets" in text
    assert "Topics over time" in text
    assert "top growing: kind training +3" in text
