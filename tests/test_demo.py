"""`make demo` plays a support desk on SQLite and prints where every ticket stands."""

import io
from pathlib import Path

from supportkit.demo import run_demo


def test_demo_plays_a_desk_on_sqlite_and_reports_every_ticket(tmp_path: Path) -> None:
    out = io.StringIO()
    desk = run_demo(tmp_path / "demo.sqlite3", out=out)
    text = out.getvalue()
    assert (tmp_path / "demo.sqlite3").exists()
    tickets = desk.find_tickets(limit=100, oldest_first=True)
    assert len(tickets) >= 5
    channels = {t.channel for t in tickets}
    assert {"email", "chat", "web", "phone"} <= channels
    statuses = {t.status for t in tickets}
    assert "closed" in statuses
    assert "resolved" in statuses
    assert any(t.reopen_count == 1 for t in tickets)
    assert any(t.tier == "L3" for t in tickets)
    for t in tickets:
        assert f"#{t.number}" in text
    assert "reopened" in text
    assert "escalated" in text
