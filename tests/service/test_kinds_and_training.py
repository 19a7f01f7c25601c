"""Kinds of support (set by triage or an agent, used by routing and metrics) and training answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supportkit import (
    ConfigurationError,
    KindSet,
    TrainingOffered,
    TrainingSignedUp,
    ValidationError,
)
from supportkit.domain import Agent, Team
from supportkit.knowledge import (
    KnowledgeBase,
    TrainingOffers,
    TrainingSession,
    TrainingSignupRefused,
    TriageOnRegistration,
)
from supportkit.metrics import compute_metrics, iter_ticket_facts
from supportkit.policies import DeskRouting, Triage, TriageRule
from tests.service.conftest import desk_with_events

MON = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_an_agent_sets_the_kind_and_unknown_kinds_are_refused(storage: Any) -> None:
    desk, seen = desk_with_events(storage, MON)
    t = desk.receive("email", "ann@example.com", "How do I export a report?", subject="Export")
    assert t.kind is None
    assert desk.set_kind(t.id, "training", actor="kate").kind == "training"
    assert desk.get_ticket(t.id).kind == "training"
    desk.set_kind(t.id, "training", actor="kate")  # unchanged: no second event
    assert [(e.kind, e.previous, e.actor) for e in seen if isinstance(e, KindSet)] == [
        ("training", None, "kate")
    ]
    with pytest.raises(ValidationError, match="unknown kind"):
        desk.set_kind(t.id, "psychological", actor="kate")


def test_the_kinds_are_configurable() -> None:
    desk, _ = desk_with_events(None, MON, kinds=["technical", "billing"])
    t = desk.receive("email", "a@example.com", "x", subject="x")
    assert desk.set_kind(t.id, "billing", actor="k").kind == "billing"
    with pytest.raises(ValidationError):
        desk.set_kind(t.id, "training", actor="k")
    with pytest.raises(ConfigurationError):
        desk_with_events(None, MON, kinds=["a", "a"])
    with pytest.raises(ConfigurationError):
        desk_with_events(None, MON, kinds=[])


def test_triage_sets_the_kind_and_routing_uses_its_skills(storage: Any) -> None:
    triage = TriageOnRegistration(
        Triage(
            [
                TriageRule("how-to", keywords=["how do i", "как"], kind="training"),
                TriageRule("errors", keywords=["error", "ошибка"], kind="technical"),
            ]
        )
    )
    routing = DeskRouting(
        teams=[Team("l1", "First line")],
        agents=[
            Agent(
                "tom",
                "Tom",
                teams=("l1",),
                skills=frozenset({"sql"}),
                languages=frozenset({"en", "ru"}),
            ),
            Agent("olga", "Olga", teams=("l1",), skills=frozenset({"onboarding"})),
        ],
        skills_by_kind={"training": {"onboarding"}, "technical": {"sql"}},
    )
    desk, _ = desk_with_events(storage, MON, extensions=[triage, routing])
    how = desk.receive("email", "a@example.com", "How do I add a user?", subject="Users")
    err = desk.receive("email", "b@example.com", "Ошибка 500 при входе", subject="Ошибка")
    assert (how.kind, how.assignee_id) == ("training", "olga")
    assert (err.kind, err.assignee_id) == ("technical", "tom")
    with desk.storage.unit_of_work() as uow:
        report = compute_metrics(iter_ticket_facts(uow), at=MON, group_by="kind")
    assert {g.key: g.tickets for g in report.groups} == {"training": 1, "technical": 1}


def test_a_triage_rule_with_a_kind_the_desk_lacks_is_refused() -> None:
    triage = TriageOnRegistration(Triage([TriageRule("x", keywords=["x"], kind="psychological")]))
    with pytest.raises(ConfigurationError, match="psychological"):
        desk_with_events(None, MON, extensions=[triage])


def test_a_guide_from_the_knowledge_base_answers_a_training_request(storage: Any) -> None:
    desk, seen = desk_with_events(storage, MON)
    kb = KnowledgeBase()
    guide = kb.create(
        title="Exporting reports", body="Open Reports, choose Export.", locale="en", at=MON,
        publish=True,
    )  # fmt: skip
    offers = TrainingOffers(desk, secret="s", knowledge_base=kb)
    t = desk.receive("email", "ann@example.com", "How do I export a report?", subject="Export")
    msg = offers.offer_guide(t.id, guide.id, actor="kate")
    assert "Exporting reports" in msg.text
    assert f"https://help.example.com/kb/{guide.id}" in msg.text
    stored = desk.get_ticket(t.id)
    assert stored.kind == "training"
    assert stored.first_response_at == MON  # training is an answer
    [offer] = stored.custom_fields["training"]
    assert (offer["offer"], offer["reference"]) == ("guide", guide.id)
    assert [e.offer for e in seen if isinstance(e, TrainingOffered)] == ["guide"]


def test_a_session_is_offered_with_a_signed_sign_up_link(storage: Any) -> None:
    desk, seen = desk_with_events(storage, MON)
    offers = TrainingOffers(desk, secret="s3cret")
    webinar = TrainingSession("web-7", "Getting started", MON + timedelta(days=3))
    t = desk.receive(
        "email", "bob@example.com", "We are new, please train us", subject="Onboarding"
    )
    msg = offers.offer_session(t.id, webinar, actor="kate")
    url = msg.meta["training"]["url"]
    assert url in msg.text
    assert "Getting started" in msg.text
    token = url.rsplit("token=", 1)[1]
    with pytest.raises(TrainingSignupRefused, match="not one we issued"):
        offers.sign_up("web-7", t.number + 1, token)  # someone else's ticket
    with pytest.raises(TrainingSignupRefused, match="not one we issued"):
        offers.sign_up("web-7", t.number, token[:-1] + ("0" if token[-1] != "0" else "1"))
    with pytest.raises(TrainingSignupRefused, match="malformed"):
        offers.sign_up("web-7", t.number, "nonsense")
    signed = offers.sign_up("web-7", t.number, token)
    assert signed.custom_fields["training"][0]["signed_up_at"] == MON.isoformat()
    offers.sign_up("web-7", t.number, token)  # a second click changes nothing
    assert len([e for e in seen if isinstance(e, TrainingSignedUp)]) == 1
    other = desk.receive("email", "cat@example.com", "train me", subject="x")
    link = offers.signup_link("web-7", other.number, MON + timedelta(days=1))
    with pytest.raises(TrainingSignupRefused, match="not offered"):
        offers.sign_up("web-7", other.number, link.rsplit("token=", 1)[1])


def test_an_expired_sign_up_link_is_refused() -> None:
    desk, _ = desk_with_events(None, MON)
    offers = TrainingOffers(desk, secret="s")
    t = desk.receive("email", "a@example.com", "x", subject="x")
    offers.offer_session(t.id, TrainingSession("w", "W", MON + timedelta(hours=2)), actor="k")
    link = desk.messages(t.id)[-1].meta["training"]["url"]
    desk.clock.advance(hours=3)  # type: ignore[attr-defined]
    with pytest.raises(TrainingSignupRefused, match="expired"):
        offers.sign_up("w", t.number, link.rsplit("token=", 1)[1])
    with pytest.raises(ConfigurationError):
        TrainingOffers(desk, secret="")
    with pytest.raises(ConfigurationError, match="title"):
        offers.offer_guide(t.id, "kb-1", actor="k")
