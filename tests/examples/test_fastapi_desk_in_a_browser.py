"""The FastAPI reference integration, both sides in real headless Chromium: a customer asks,
the bot answers one question and hands another over, an agent answers in the console, the
customer sees the answer live (server-sent events, no reload) and rates it.

Locally the test skips when Chromium or FastAPI is missing; under CI=true it must run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportkit.knowledge import FeedbackCollector

from . import load_example
from .cdp import Browser, in_ci
from .conftest import free_port, serving, text_in

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi_desk" / "app.py"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    if in_ci():
        import fastapi  # noqa: F401  (CI has the dev extra: it must not skip)
    else:
        pytest.importorskip("fastapi")
    example = load_example(EXAMPLE, "fastapi_desk_browser")
    app = example.build_app(tmp_path / "desk.sqlite3", tick_every=0.5)
    with serving(app, free_port()) as base:
        yield base, app.state.desk


_has = text_in


def test_customer_and_agent_in_the_browser(chromium: str, served: tuple[str, Any]) -> None:
    base, desk = served
    with Browser(chromium) as customer, Browser(chromium) as agent:
        customer.goto(base + "/")
        customer.type_into("#email", "ann@example.com")
        customer.type_into("#name", "Ann Lee")
        customer.click("#signin-btn")
        customer.wait_for("document.body.dataset.live === 'yes'")

        # 1. a question the knowledge base answers: the bot replies
        customer.type_into("#question", "How do I reset a forgotten password?")
        customer.click("#ask")
        customer.wait_for(_has(".msg.assistant", "Forgot password"))

        # 2. a question it cannot answer: handed over to a person
        customer.type_into("#question", "The parcel arrived broken, I need a replacement")
        customer.click("#ask")
        customer.wait_for(_has("#title", "parcel"))
        number = int(customer.js("document.querySelector('#title').textContent.slice(1)")
                     .split()[0])  # fmt: skip
        ticket = desk.get_ticket_by_number(number)
        assert "bot-handover" in ticket.tags
        assert not any(
            m.meta.get("bot") and "replacement" in m.text for m in desk.messages(ticket.id)
        )

        # 3. the agent finds it in the console queue and answers with the SLA badge in view
        agent.goto(base + "/console")
        agent.wait_for("document.querySelector('#agent').options.length > 0")
        agent.js("document.querySelector('#agent').value = 'olga'")
        agent.click("#signin-btn")
        agent.wait_for("document.body.dataset.live === 'yes'")
        agent.wait_for(_has("#queue tr", "parcel"))
        agent.click(f"#queue tr[data-number='{number}']")
        agent.wait_for(_has("#subject", "parcel"))
        agent.wait_for("document.querySelectorAll('#sla .badge').length > 0")
        assert agent.js("document.querySelector('#macro').options.length") >= 1
        agent.type_into("#reply-text", "We are sending a new one today.")
        agent.click("#reply-btn")
        agent.wait_for(_has(".msg", "We are sending a new one today."))

        # 4. the customer sees it live, without reloading, and the status is "in progress"
        customer.wait_for(_has(".msg.support", "We are sending a new one today."))
        customer.wait_for("document.querySelector('#status').dataset.status === 'diagnosing'")

        # 5. resolved in the console, rated in the portal
        agent.type_into("#resolution", "replacement shipped")
        agent.click("#resolve-btn")
        agent.wait_for("document.querySelector('#t-status').dataset.status === 'resolved'")
        customer.wait_for("!document.querySelector('#feedback').classList.contains('hidden')")
        customer.click(".star[data-score='5']")
        customer.type_into("#comment", "quick and kind")
        customer.click("#rate-btn")
        customer.wait_for("!document.querySelector('#thanks').classList.contains('hidden')")

    collector = next(e for e in desk.extensions if isinstance(e, FeedbackCollector))
    answer = collector.answer(ticket.id)
    assert answer is not None
    assert (answer["csat"], answer["comment"]) == (5, "quick and kind")
    assert desk.get_ticket(ticket.id).status == "resolved"
