"""The example app's customer page, driven in a real headless Chromium: a customer writes in
the chat widget, a ticket is opened in the SQLite desk, an agent's reply appears on the page.

Locally the test skips when Chromium is not installed; under CI=true it must run
(`.ci/run` installs Debian's chromium)."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import uvicorn

from supportkit import SupportDesk
from supportkit.policies import always_open

from .cdp import Browser, find_chromium, in_ci

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_app.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_app_browser", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if in_ci():
            pytest.fail("CI must run the browser test, but chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, SupportDesk]]:
    app = _example().build_app(tmp_path / "desk.sqlite3", chat_hours=always_open())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the example app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app.state.desk
    server.should_exit = True
    thread.join(timeout=10)


def test_a_customer_chats_from_the_page_and_sees_the_agents_reply(
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
        inbound = [m.text for m in desk.messages(ticket.id)]
        assert "My March invoice charges me twice." in inbound

        desk.reply(ticket.id, "sam", "Hi Ann, I have refunded the duplicate charge.")
        browser.wait_for(
            "[...document.querySelectorAll('#log li.agent')]"
            ".some(li => li.textContent.includes('refunded the duplicate charge'))"
        )
        browser.type_into("#text", "Thank you!")
        browser.click("#send")
        deadline = time.monotonic() + 10
        while "Thank you!" not in [m.text for m in desk.messages(ticket.id)]:
            assert time.monotonic() < deadline, "the second chat message never reached the desk"
            time.sleep(0.05)
        browser.screenshot(tmp_path / "chat.png")
    assert (tmp_path / "chat.png").stat().st_size > 10_000
