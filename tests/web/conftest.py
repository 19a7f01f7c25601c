"""A desk behind create_app, with principals chosen by a test header."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient

from supportkit import Agent, SupportDesk, Team
from supportkit.knowledge import (
    ChangeStatus,
    FeedbackCollector,
    KnowledgeBase,
    Macro,
    SetPriority,
)
from supportkit.policies import FeedbackTokenSigner
from supportkit.web import AgentPrincipal, CustomerPrincipal, create_app

PRINCIPALS: dict[str, Any] = {
    "billing": AgentPrincipal("a-bill", teams={"billing"}),
    "tech": AgentPrincipal("a-tech", teams={"tech"}),
    "lead": AgentPrincipal("a-lead", all_teams=True),
    "triage": AgentPrincipal("a-tri", unrouted=True),
    "ann": CustomerPrincipal([("email", "ann@example.com")], name="Ann"),
    "bob": CustomerPrincipal([("email", "bob@example.com")], name="Bob"),
}


def authenticate(request: Any) -> Any:
    return PRINCIPALS.get(request.headers.get("x-who", ""))


class World:
    def __init__(self) -> None:
        kb = KnowledgeBase()
        kb.create(
            title="Resetting your password",
            body="Open the sign-in page and choose 'forgot password'. A reset link arrives by email.",
            locale="en",
            at=datetime(2026, 1, 5, tzinfo=UTC),
            publish=True,
        )
        self.kb = kb
        signer = FeedbackTokenSigner(b"k" * 32, nonce_source=lambda: uuid.uuid4().hex)
        self.feedback = FeedbackCollector(signer, url_template="/feedback?t={token}")
        self.desk = SupportDesk(extensions=[self.feedback])
        for team in ("billing", "tech"):
            self.desk.add_team(Team(team, team.title(), tier="L1"))
        self.desk.add_agent(Agent("a-bill", "Bill", teams=("billing",), tier="L1"))
        self.desk.add_agent(Agent("a-tech", "Tess", teams=("tech",), tier="L1"))
        macros = [
            Macro("thanks", "Hi {customer.first_name}, fixed #{ticket.number}.",
                  actions=(SetPriority(3), ChangeStatus("resolve"))),
        ]  # fmt: skip
        self.app = create_app(self.desk, authenticate=authenticate, knowledge=kb, macros=macros)
        self.client = TestClient(self.app)

    def ticket(self, who: str, text: str, team: str | None) -> int:
        """A ticket from *who* routed to *team* (by hand: routing is not under test)."""
        t = self.desk.receive("web", f"{who}@example.com", text, subject=text[:40])
        if team:
            self.desk.update(t.id, actor="router", team_id=team)
        return t.number

    def call(self, who: str | None, method: str, path: str, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if who:
            headers["X-Who"] = who
        return self.client.request(method, path, headers=headers, **kw)


@pytest.fixture
def world() -> Iterator[World]:
    w = World()
    yield w
    w.client.close()
