"""The example app's customer page, driven in a real headless Chromium: a customer writes in
the chat widget, a ticket is opened in the SQLite desk, an agent's reply appears on the page,
and the "track my request" box shows the status label the customer sees.

Locally the test skips when Chromium is not installed; under CI=true it must run
(`.ci/run` installs Debian's chromium)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from supportkit import SupportDesk
from supportkit.policies import always_open

from . import load_example
from .cdp import Browser
from .conftest import free_port, serving, text_in

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_app.py"


def _example() -> ModuleType:  # a fresh module: it reads SUPPORTKIT_BASE_URL at import
    return load_example(EXAMPLE, "webhook_app_browser")


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, SupportDesk]]:
    port = free_port()
    monkeypatch.setenv("SUPPORTKIT_BASE_URL", f"http://127.0.0.1:{port}")  # tracking links
    app = _example().build_app(tmp_path / "desk.sqlite3", chat_hours=always_open())
    with serving(app, port) as base:
        yield base, app.state.desk


_text_in = text_in


def _tracked_status(browser: Browser) -> str:
    browser.js("document.getElementById('track-result').textContent = ''")
    browser.click("#track")
    status: str = browser.wait_for(
        "(() => { const s = document.getElementById('track-status');"
        " return s ? s.textContent : null; })()"
    )
    return status


def test_a_customer_chats_from_the_page_and_tracks_the_ticket(
    chromium: str, served: tuple[str, SupportDesk], tmp_path: Path
) -> None:
    base, desk = served
    with Browser(chromium) as browser:
        browser.goto(base + "/")
        assert browser.js("document.title") == "Contact support"
        browser.type_into("#name", "Ann Lee")
        browser.type_into("#email", "ann@example.com")
        browser.type_into("#text", "My March invoice charges me twice.")
        browser.click("#send")

        number_text = browser.wait_for(
            "(() => { const t = document.getElementById('ticket').textContent;"
            " return t.startsWith('#') ? t : null; })()"
        )
        number = int(number_text.lstrip("#").split()[0])
        ticket = desk.get_ticket_by_number(number)
        assert ticket.channel == "chat"
        assert "My March invoice charges me twice." in [m.text for m in desk.messages(ticket.id)]
        # the acknowledgement reaches the chat with a tracking link the page can use
        browser.wait_for(_text_in("#log li.agent a", f"/track/{number}?token="))

        desk.reply(ticket.id, "sam", "Hi Ann, I have refunded the duplicate charge.")
        browser.wait_for(_text_in("#log li.agent", "refunded the duplicate charge"))
        assert _tracked_status(browser) == desk.track(number).status_label

        browser.goto(base + "/")  # a reload resumes the session with its transcript
        browser.wait_for(_text_in("#log li.me", "charges me twice"))
        assert browser.js("document.getElementById('ticket').textContent") == f"#{number}"
        assert browser.js(_text_in("#log li.agent", "refunded the duplicate charge"))

        browser.type_into("#text", "Thank you!")
        browser.click("#send")
        deadline = time.monotonic() + 10
        while "Thank you!" not in [m.text for m in desk.messages(ticket.id)]:
            assert time.monotonic() < deadline, "the second chat message never reached the desk"
            time.sleep(0.05)

        desk.resolve(ticket.id, actor="sam", resolution="Refunded the duplicate charge.")
        browser.wait_for(_text_in("#log li.agent", f"we have resolved your request #{number}"))
        assert _tracked_status(browser) == "resolved"

        # a new tab (no chat session to resume): the customer's own request still tracks by number
        browser.js("sessionStorage.clear()")
        browser.goto(base + "/")
        browser.js("document.getElementById('track-ref').value = ''")
        browser.type_into("#track-ref", f"#{number}")
        assert _tracked_status(browser) == "resolved"
        browser.screenshot(tmp_path / "chat.png")
    assert (tmp_path / "chat.png").stat().st_size > 10_000


def test_the_track_box_does_not_show_a_ticket_by_its_number_alone(
    chromium: str, served: tuple[str, SupportDesk]
) -> None:
    base, desk = served
    desk.receive("webform", "bob@example.com", "Someone else's problem", subject="Private")
    with Browser(chromium) as browser:
        browser.goto(base + "/")
        browser.type_into("#track-ref", "#1")
        browser.click("#track")
        message = browser.wait_for("document.getElementById('track-result').textContent")
        assert "tracking link" in message
        browser.js("document.getElementById('track-ref').value = ''")
        browser.type_into("#track-ref", f"{base}/track/1?token=forged0000")
        browser.click("#track")
        browser.wait_for(_text_in("#track-result", "found no request #1"))
        assert "Private" not in browser.js("document.body.innerText")


def test_the_assistant_answers_in_the_chat_and_a_russian_chat_is_acknowledged_in_russian(
    chromium: str, served: tuple[str, SupportDesk]
) -> None:
    base, _desk = served
    with Browser(chromium) as browser:
        browser.goto(base + "/")
        browser.type_into("#name", "Иван")
        browser.type_into("#text", "Здравствуйте, не могу войти в личный кабинет")
        browser.click("#send")
        browser.wait_for(_text_in("#log li.agent", "/track/"))
        acknowledgement = browser.js(
            "[...document.querySelectorAll('#log li.agent')].map(li => li.textContent).join(' ')"
        )
        assert any("а" <= ch <= "я" for ch in acknowledgement.lower()), acknowledgement
    with Browser(chromium) as browser:
        browser.goto(base + "/")
        browser.type_into("#name", "Ann")
        browser.type_into("#text", "How do I reset a forgotten password?")
        browser.click("#send")
        browser.wait_for(_text_in("#log li.agent", "Forgot password"))
