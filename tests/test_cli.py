"""``supportkit report`` end to end, on a SQLite file made by driving a desk."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import types
from datetime import UTC, datetime
from pathlib import Path

import pytest

from supportkit import FakeClock, SupportDesk
from supportkit.cli import main, parse_duration, parse_instant
from supportkit.ports import FeedbackAnswer
from supportkit.storage.sqlite import SQLiteStorage

MON = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "supportkit.sqlite3"
    clock = FakeClock(MON)
    with SQLiteStorage(path) as storage:
        desk = SupportDesk(storage, clock=clock)
        for i, channel in enumerate(["email", "chat", "phone", "email", "chat"]):
            t = desk.receive(channel, f"c{i}@example.com", "help")
            clock.advance(minutes=20 * (i + 1))
            desk.reply(t.id, "ann", "hello")
            if i % 2 == 0:
                clock.advance(hours=3)
                desk.resolve(t.id, actor="ann", resolution="done")
        with storage.unit_of_work() as uow:
            uow.add_feedback_answer(FeedbackAnswer(t.id, 5, 9, "", MON))
            uow.commit()
    return path


ARGS = ["--since", "2026-01-05", "--until", "2026-01-05", "--at", "2026-01-06"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_table_shows_one_row_per_group_and_the_total(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", str(db), "--group-by", "channel", *ARGS)
    assert code == 0
    lines = out.splitlines()
    assert any(line.startswith("chat ") for line in lines)
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert total.split()[1:3] == ["5", "3"]  # 5 tickets, 3 resolved
    assert "CSAT: 100.0% satisfied" in out


def test_json_carries_every_metric(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--url", f"sqlite:///{db}", "--format", "json", *ARGS)
    data = json.loads(out)
    assert code == 0
    assert data["total"]["tickets"] == 5
    assert data["total"]["first_response"]["median"] == 3600.0
    assert data["total"]["sla"]["first_response"]["denominator"] == 5
    assert data["groups"] == []


def test_csv_has_a_row_per_group_and_an_all_row(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "--db", str(db), "--format", "csv", "--group-by", "priority", *ARGS)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["key"] for r in rows] == ["normal", "all"]
    assert rows[-1]["first_contact_resolution.numerator"] == "3"


def test_html_report_is_one_self_contained_page_with_five_charts(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.html"
    code, out, _ = run(
        capsys,
        *("--db", str(db), "--format", "html", "--output", str(target), "--group-by", "day"),
        *("--business-hours", "09:00-18:00", *ARGS),
    )
    html = target.read_text(encoding="utf-8")
    assert code == 0
    assert "wrote" in out
    assert html.count("<svg") == 5  # first responses, backlog, CSAT, NPS, SLA
    assert 'aria-label="SLA compliance by channel and target"' in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in html


def test_a_missing_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--db", str(tmp_path / "nope.sqlite3"))
    assert code == 2
    assert "no database" in err


def test_bad_durations_and_dates_are_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_instant("2026-01-31", end_of_day=True) == datetime(2026, 2, 1, tzinfo=UTC)
    code, _, err = run(capsys, "--sla", "first_response=soon")
    assert code == 2
    assert "duration" in err
    code, _, err = run(capsys, "--since", "yesterday")
    assert code == 2
    assert "date" in err


def test_demo_is_dispatched_to_the_demo_module(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    fake = types.ModuleType("supportkit.demo")

    def fake_main(argv: list[str]) -> int:
        calls.append(argv)
        return 0

    fake.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "supportkit.demo", fake)
    assert main(["demo"]) == 0
    assert calls == [[]]


def test_python_dash_m_runs_the_report(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "supportkit", "report", "--db", str(db), "--format", "json", *ARGS],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout)["total"]["tickets"] == 5


@pytest.mark.postgres
def test_the_report_reads_postgresql_urls(capsys: pytest.CaptureFixture[str]) -> None:
    from supportkit.storage.postgres import PostgresStorage

    from .pg import pg_schema

    with pg_schema() as url:
        with PostgresStorage(url) as storage:
            clock = FakeClock(MON)
            desk = SupportDesk(storage, clock=clock)
            t = desk.receive("chat", "pg@example.com", "help")
            clock.advance(minutes=12)
            desk.reply(t.id, "ann", "hello")
        code, out, _ = run(capsys, "--url", url, "--format", "json", *ARGS)
    assert code == 0
    data = json.loads(out)
    assert data["total"]["tickets"] == 1
    assert data["total"]["first_response"]["median"] == 720.0


def test_without_a_database_the_report_looks_for_the_demos(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys)
    assert code == 2
    assert "supportkit-demo.sqlite3" in err
    assert "supportkit demo" in err


def test_the_window_defaults_to_the_datas_range(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", str(db), "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["since"] is None
    assert data["until"] is None
    # the backlog is taken at the last stored change: ticket 5 was resolved at 23:00
    assert data["at"] == "2026-01-05T23:00:00+00:00"
    assert data["total"]["tickets"] == 5
    assert data["total"]["backlog"] == 2
    # the chart starts at the first ticket's day, not 30 days before today
    assert [p[1] for p in data["backlog_series"]] == [2]
    # the topics view covers the data's weeks (two at least, to show a change)
    assert data["topics"]["weeks"] == ["2025-12-29", "2026-01-05"]
    assert data["complaints"]["tickets"] == 5


def test_count_axes_have_whole_number_ticks(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", str(db), "--format", "html")
    assert code == 0
    ticks = re.findall(r'text-anchor="end" class="tick">([^<]+)</text>', out)
    assert ticks
    assert all(t.isdigit() for t in ticks), ticks


def test_business_hours_show_business_time_in_the_cards_and_the_table(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # tickets at 09:00 UTC on a Monday; business hours 10:00-18:00 leave out the first hour
    args = ("--db", str(db), "--business-hours", "10:00-18:00")
    _, table, _ = run(capsys, *args)
    _, page, _ = run(capsys, *args, "--format", "html")
    _, raw, _ = run(capsys, *args, "--format", "json")
    # first responses after 20, 40, 60, 80, 100 min (median 1h); in business time
    # 0 (09:00-09:20), 40m, 60m, 60m (17:00-18:00 of 17:00-18:20), 0 (18:20-20:00): median 40m
    total_json = json.loads(raw)["total"]
    assert total_json["first_response"]["median"] == 3600
    assert total_json["first_response_business"]["median"] == 2400
    header = next(line for line in table.splitlines() if line.startswith("group"))
    assert "1st resp med (bt)" in header
    total = next(line for line in table.splitlines() if line.startswith("TOTAL"))
    assert " 40m " in total
    card = re.search(
        r'<div class="label">First response \(business time\)</div><div class="value">([^<]+)<',
        page,
    )
    assert card is not None
    assert card.group(1) == "40m"
    # the histogram stays in clock time and says so
    assert "<h2>How fast the first response came (clock time)</h2>" in page


def test_the_page_has_csat_and_nps_charts_and_the_top_topics(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, page, _ = run(capsys, "--db", str(db), "--format", "html")
    assert 'aria-label="CSAT answers by score"' in page
    assert 'aria-label="NPS answers by score"' in page
    assert '<section id="topics">' in page
