"""A low feedback score opens the complaint path, per policy, end to end on the desk."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportkit.desk import SupportDesk
from supportkit.domain import ConfigurationError
from supportkit.domain._events import TicketEscalated
from supportkit.domain._lifecycle import Lifecycle
from supportkit.domain._model import Agent, Team
from supportkit.extensions import DeskRouting
from supportkit.knowledge import (
    COMPLAINT_LIFECYCLE,
    ComplaintOpened,
    ComplaintPolicy,
    FeedbackCollector,
    FeedbackRequested,
    complaint_lifecycle,
)
from supportkit.policies import FeedbackTokenSigner, Router, TierLadder
from supportkit.ports import FakeClock
from supportkit.storage.memory import MemoryStorage
from supportkit.storage.sqlite import SQLiteStorage


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStorage()
    else:
        s = SQLiteStorage(tmp_path / "desk.sqlite3")
        yield s
        s.close()


def collector(policy: ComplaintPolicy) -> FeedbackCollector:
    nonces = (f"n{i}" for i in itertools.count(1))
    signer = FeedbackTokenSigner(b"s" * 32, nonce_source=lambda: next(nonces))
    return FeedbackCollector(signer, complaints=policy, reminder_after=None)


def resolve_and_link(desk: SupportDesk, text: str = "Parcel never arrived") -> tuple[str, str]:
    t = desk.receive("email", "kim@example.com", text, subject="Parcel")
    desk.reply(t.id, "ann", "Resent it")
    desk.resolve(t.id, actor="ann", resolution="resent the parcel")
    request = next(e for e in desk.events(t.id) if isinstance(e, FeedbackRequested))
    return t.id, request.url


def test_good_score_opens_nothing(storage: Any) -> None:
    c = collector(ComplaintPolicy(action="reopen", threshold=2))
    desk = SupportDesk(storage, clock=FakeClock(), extensions=[c])
    ticket_id, token = resolve_and_link(desk)
    event = c.submit(token, 3)
    assert not event.complaint
    assert desk.get_ticket(ticket_id).status == "resolved"
    assert not any(isinstance(e, ComplaintOpened) for e in desk.events(ticket_id))


def test_low_score_reopens_the_ticket(storage: Any) -> None:
    c = collector(ComplaintPolicy(action="reopen", threshold=2))
    desk = SupportDesk(storage, clock=FakeClock(), extensions=[c])
    ticket_id, token = resolve_and_link(desk)
    event = c.submit(token, 2, "nothing arrived again")
    assert event.complaint
    t = desk.get_ticket(ticket_id)
    assert (t.status, t.reopen_count, t.resolved_at) == ("diagnosing", 1, None)
    assert "complaint" in t.tags
    assert (
        desk.history(ticket_id)[-1].reason == "low feedback score: CSAT 2/5: nothing arrived again"
    )
    opened = [e for e in desk.events(ticket_id) if isinstance(e, ComplaintOpened)]
    assert [(e.action, e.csat) for e in opened] == [("reopen", 2)]


def test_low_score_on_a_closed_ticket_leaves_a_note(storage: Any) -> None:
    c = collector(ComplaintPolicy(action="reopen"))
    desk = SupportDesk(storage, clock=FakeClock(), extensions=[c])
    ticket_id, token = resolve_and_link(desk)
    desk.close(ticket_id, actor="ann")
    c.submit(token, 1)
    t = desk.get_ticket(ticket_id)
    assert t.status == "closed"
    assert desk.messages(ticket_id)[-1].text.startswith("Complaint on a closed ticket")


def test_low_score_goes_to_the_supervisor_tier_and_is_routed_to_a_supervisor(
    storage: Any,
) -> None:
    tiers = ("L1", "L2", "L3", "supervisor")
    routing = DeskRouting(
        teams=[Team("support", "Support", "L1"), Team("leads", "Leads", "supervisor")],
        agents=[
            Agent("ann", "Ann", teams=("support",)),
            Agent("sue", "Sue", tier="supervisor", teams=("leads",)),
        ],
        ladder=TierLadder(tiers),
        router=Router(),
    )
    c = collector(ComplaintPolicy(action="supervisor", supervisor_tier="supervisor"))
    desk = SupportDesk(storage, clock=FakeClock(), tiers=tiers, extensions=[routing, c])
    ticket_id, token = resolve_and_link(desk)
    assert desk.get_ticket(ticket_id).assignee_id == "ann"
    c.submit(token, 1, "rude and slow")
    t = desk.get_ticket(ticket_id)
    assert (t.status, t.tier, t.assignee_id, t.team_id) == (
        "diagnosing",
        "supervisor",
        "sue",
        "leads",
    )
    escalation = [e for e in desk.events(ticket_id) if isinstance(e, TicketEscalated)][-1]
    assert (escalation.to_tier, escalation.policy) == ("supervisor", "complaint")


def test_low_score_opens_a_complaint_ticket_that_runs_its_own_lifecycle(storage: Any) -> None:
    c = collector(ComplaintPolicy(action="complaint_ticket", threshold=2))
    desk = SupportDesk(
        storage, clock=FakeClock(), lifecycles=[complaint_lifecycle()], extensions=[c]
    )
    ticket_id, token = resolve_and_link(desk)
    c.submit(token, 1, "Third time the parcel is lost")
    original = desk.get_ticket(ticket_id)
    assert original.status == "resolved"  # the original stays as it was
    opened = next(e for e in desk.events(ticket_id) if isinstance(e, ComplaintOpened))
    complaint = desk.get_ticket(opened.complaint_ticket_id)  # type: ignore[arg-type]
    assert original.custom_fields["complaint"] == complaint.number
    assert complaint.custom_fields["complaint_of"] == ticket_id
    assert complaint.custom_fields["complaint_of_number"] == original.number
    assert (complaint.lifecycle, complaint.status) == ("complaint", "registered")
    assert complaint.customer_id == original.customer_id
    assert complaint.subject == f"Complaint about #{original.number}: Parcel"
    assert desk.messages(complaint.id)[0].text == "Third time the parcel is lost"

    desk.transition(complaint.id, "investigate", actor="sue")
    with pytest.raises(Exception, match="the answer given to the customer"):
        desk.transition(complaint.id, "answer", actor="sue")
    desk.transition(complaint.id, "answer", actor="sue", reason="refund and apology sent")
    desk.close(complaint.id, actor="sue")
    done = desk.get_ticket(complaint.id)
    assert done.status == "closed"
    assert [h.to_status for h in desk.history(complaint.id)] == [
        "registered",
        "investigating",
        "answered",
        "closed",
    ]
    assert desk.track(complaint.number).status_label == "closed"


def test_complaint_lifecycle_is_a_valid_custom_lifecycle() -> None:
    lc = Lifecycle(COMPLAINT_LIFECYCLE)
    assert lc.states == ("received", "registered", "investigating", "answered", "closed")
    assert lc.is_final("closed")


def test_complaint_ticket_policy_needs_the_lifecycle_on_the_desk() -> None:
    c = collector(ComplaintPolicy(action="complaint_ticket"))
    with pytest.raises(ConfigurationError, match="which this desk does not know"):
        SupportDesk(clock=FakeClock(), extensions=[c])


def test_supervisor_policy_needs_a_tier_or_team() -> None:
    with pytest.raises(ConfigurationError, match="supervisor_tier"):
        SupportDesk(clock=FakeClock(), extensions=[collector(ComplaintPolicy(action="supervisor"))])
    with pytest.raises(ConfigurationError, match="threshold"):
        ComplaintPolicy(threshold=0)


def test_reminder_free_request_keeps_no_timer() -> None:
    c = collector(ComplaintPolicy())
    desk = SupportDesk(clock=FakeClock(), extensions=[c])
    ticket_id, _ = resolve_and_link(desk)
    with desk.storage.unit_of_work() as uow:
        assert uow.timers_for(ticket_id) == []
