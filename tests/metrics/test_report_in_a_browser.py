"""The HTML report opened in a real headless Chromium at 1280 px: it renders, nothing overflows.

The report is made by `supportkit report --format html` over a desk's SQLite
file with enough groups, long names and topics to stress the layout. In the
browser, the page must show its cards, charts and tables; and no element may
be wider than its box (``scrollWidth <= clientWidth`` for the document and
every element). A screenshot is taken and checked to be a real image of the page.

Locally the test skips when Chromium is not installed; under CI=true it must run.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest

from supportkit import Agent, FakeClock, SupportDesk, Team
from supportkit.cli import main
from supportkit.ports import FeedbackAnswer
from supportkit.storage.sqlite import SQLiteStorage

from ..examples.cdp import Browser, chromium_or_skip

MON = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

_OVERFLOWING = """(() => {
  const out = [];
  const doc = document.scrollingElement;
  if (doc.scrollWidth > doc.clientWidth) out.push('document ' + doc.scrollWidth);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline')
      out.push(el.tagName + '.' + el.className + ' ' + el.scrollWidth + '>' + el.clientWidth);
    const r = el.getBoundingClientRect();
    if (r.right > doc.clientWidth + 1) out.push(el.tagName + '.' + el.className + ' right ' + r.right);
  }
  return out;
})()"""


@pytest.fixture
def chromium() -> str:
    return chromium_or_skip()


def _desk_file(path: Path) -> None:
    clock = FakeClock(MON)
    with SQLiteStorage(path) as storage:
        desk = SupportDesk(storage, clock=clock)
        desk.add_team(Team("support", "Support"))
        names = [f"agent-with-a-rather-long-name-{i}" for i in range(8)]
        for name in names:
            desk.add_agent(Agent(name, name, teams=("support",), capacity=50))
        for i in range(40):
            t = desk.receive(
                ("email", "chat", "phone", "web-form-for-enterprise-customers")[i % 4],
                f"c{i}@example.com",
                "help",
                category=("billing", "login", "export of very large reports")[i % 3],
                tags={("refund", "password", "csv-export-timeout")[i % 3], "vip"} if i % 2 else (),
            )
            desk.assign(t.id, names[i % len(names)])
            clock.advance(minutes=7 * (i % 5) + 3)
            desk.reply(t.id, names[i % len(names)], "on it")
            if i % 3:
                clock.advance(hours=i % 7)
                desk.resolve(t.id, actor="x", resolution="done")
            clock.advance(hours=3)
        tickets = desk.find_tickets(limit=40)
        with storage.unit_of_work() as uow:
            for i, t in enumerate(tickets):
                uow.add_feedback_answer(FeedbackAnswer(t.id, 1 + i % 5, i % 11, "", MON))
            uow.commit()


def test_the_report_renders_in_chromium_and_nothing_overflows_at_1280px(
    chromium: str, tmp_path: Path
) -> None:
    db = tmp_path / "desk.sqlite3"
    _desk_file(db)
    page = tmp_path / "report.html"
    assert (
        main(
            [
                "report",
                "--db",
                str(db),
                "--group-by",
                "agent",
                "--format",
                "html",
                "--business-hours",
                "09:00-18:00",
                "-o",
                str(page),
            ]
        )
        == 0
    )
    shot = tmp_path / "report.png"
    with Browser(chromium) as browser:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.goto(page.as_uri())
        assert browser.js("document.querySelectorAll('.card').length") >= 8
        assert browser.js("document.querySelectorAll('svg').length") >= 5
        assert browser.js("document.querySelectorAll('#topics table').length") == 2
        assert browser.js("document.querySelector('#groups table tbody').rows.length") == 9
        assert browser.js("window.innerWidth") == 1280
        assert browser.js(_OVERFLOWING) == []
        browser.screenshot(shot)
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1280
    assert height >= 900
    assert len(png) > 20_000  # a page with content, not a blank screen
