"""Feedback on the desk: a signed link after resolution, a reminder, one answer per ticket."""

from __future__ import annotations

import base64
import itertools
import json
from datetime import timedelta
from typing import Any

import pytest

from supportkit.desk import SupportDesk
from supportkit.domain import ValidationError
from supportkit.knowledge import (
    REMINDER_TIMER,
    FeedbackAlreadyGiven,
    FeedbackCollector,
    FeedbackReceived,
    FeedbackRequested,
)
from supportkit.policies import (
    ExpiredFeedbackToken,
    FeedbackTokenError,
    FeedbackTokenReused,
    FeedbackTokenSigner,
    ForgedFeedbackToken,
    MalformedFeedbackToken,
)
from supportkit.ports import FakeClock

SECRET = b"k" * 32


def signer(ttl: timedelta = timedelta(days=14)) -> FeedbackTokenSigner:
    nonces = (f"n{i}" for i in itertools.count(1))
    return FeedbackTokenSigner(SECRET, nonce_source=lambda: next(nonces), ttl=ttl)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def collector() -> FeedbackCollector:
    return FeedbackCollector(
        signer(),
        url_template="https://help.example.com/feedback?t={token}",
        reminder_after=timedelta(days=2),
        message_template="How did we do on #{number}? {url}",
    )


@pytest.fixture
def desk(storage: Any, clock: FakeClock, collector: FeedbackCollector) -> SupportDesk:
    return SupportDesk(storage, clock=clock, extensions=[collector])


def resolved(desk: SupportDesk) -> tuple[str, str]:
    t = desk.receive("email", "ann@example.com", "My invoice is wrong", subject="Invoice")
    desk.reply(t.id, "agent-1", "Fixed it")
    desk.resolve(t.id, actor="agent-1", resolution="corrected the invoice")
    request = [e for e in desk.events(t.id) if isinstance(e, FeedbackRequested)][-1]
    return t.id, request.url.split("t=", 1)[1]


def token_id(token: str) -> str:
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["n"])


def snapshot(desk: SupportDesk, ticket_id: str, token: str) -> tuple[Any, ...]:
    with desk.storage.unit_of_work() as uow:
        stored = (
            uow.feedback_answers_after(None),
            uow.get_feedback_token(token_id(token)),
            [t.key for t in uow.timers_for(ticket_id)],
        )
    events = [type(e).__name__ for e in desk.events(ticket_id)]
    return (*stored, events, desk.get_ticket(ticket_id).version, len(desk.messages(ticket_id)))


def test_resolving_issues_a_signed_link_posted_to_the_customer(desk: SupportDesk) -> None:
    ticket_id, _token = resolved(desk)
    request = next(e for e in desk.events(ticket_id) if isinstance(e, FeedbackRequested))
    assert request.url.startswith("https://help.example.com/feedback?t=v1.")
    assert request.expires_at == request.at + timedelta(days=14)
    last = desk.messages(ticket_id)[-1]
    assert last.text == f"How did we do on #{desk.get_ticket(ticket_id).number}? {request.url}"
    with desk.storage.unit_of_work() as uow:
        assert [t.kind for t in uow.timers_for(ticket_id)] == [REMINDER_TIMER]


def test_an_answer_is_stored_in_the_shape_the_metrics_read_and_recorded_as_an_event(
    desk: SupportDesk, collector: FeedbackCollector, clock: FakeClock
) -> None:
    ticket_id, token = resolved(desk)
    clock.advance(timedelta(hours=3))
    event = collector.submit(token, 4, "quick, thanks", nps=9)
    assert isinstance(event, FeedbackReceived)
    assert collector.answer(ticket_id) == {
        "ticket_id": ticket_id,
        "csat": 4,
        "nps": 9,
        "comment": "quick, thanks",
        "at": clock.now().isoformat(),
    }
    assert any(isinstance(e, FeedbackReceived) and e.csat == 4 for e in desk.events(ticket_id))
    with desk.storage.unit_of_work() as uow:
        assert uow.timers_for(ticket_id) == []  # the reminder is cancelled
    from supportkit.metrics import stored_feedback  # what `supportkit report` reads

    with desk.storage.unit_of_work() as uow:
        (record,) = stored_feedback(uow)
    assert (record.ticket_id, record.csat, record.nps) == (ticket_id, 4, 9)


def test_unanswered_request_is_reminded_once_with_a_fresh_link(
    desk: SupportDesk, clock: FakeClock, collector: FeedbackCollector
) -> None:
    ticket_id, first = resolved(desk)
    clock.advance(timedelta(days=2, minutes=1))
    assert desk.tick() == 1
    requests = [e for e in desk.events(ticket_id) if isinstance(e, FeedbackRequested)]
    assert [r.reminder for r in requests] == [0, 1]
    clock.advance(timedelta(days=5))
    assert desk.tick() == 0  # reminders=1: no third request
    second = requests[1].url.split("t=", 1)[1]
    collector.submit(second, 5)
    with pytest.raises(FeedbackAlreadyGiven, match="already has the customer's feedback"):
        collector.submit(first, 1)


def test_reopening_cancels_the_reminder(desk: SupportDesk) -> None:
    ticket_id, _ = resolved(desk)
    desk.receive("email", "ann@example.com", "Still wrong!", ticket_id=ticket_id)
    with desk.storage.unit_of_work() as uow:
        assert uow.timers_for(ticket_id) == []


@pytest.mark.parametrize(
    ("tamper", "error", "message"),
    [
        (
            lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),
            ForgedFeedbackToken,
            "invalid signature",
        ),
        (lambda t: "not-a-token", MalformedFeedbackToken, "not a v1 token"),
        (
            lambda t: FeedbackTokenSigner(b"x" * 32, nonce_source=lambda: "z").issue(
                "t", "c", now=FakeClock().now()
            ),
            ForgedFeedbackToken,
            "invalid signature",
        ),
    ],
    ids=["altered", "malformed", "other-secret"],
)
def test_forged_or_malformed_token_is_refused_and_records_nothing(
    desk: SupportDesk, collector: FeedbackCollector, tamper: Any, error: type, message: str
) -> None:
    ticket_id, token = resolved(desk)
    before = snapshot(desk, ticket_id, token)
    with pytest.raises(error, match=message):
        collector.submit(tamper(token), 5)
    assert snapshot(desk, ticket_id, token) == before


def test_expired_token_is_refused_and_records_nothing(
    desk: SupportDesk, collector: FeedbackCollector, clock: FakeClock
) -> None:
    ticket_id, token = resolved(desk)
    clock.advance(timedelta(days=15))
    before = snapshot(desk, ticket_id, token)
    with pytest.raises(ExpiredFeedbackToken, match="expired at"):
        collector.submit(token, 5)
    assert snapshot(desk, ticket_id, token) == before


def test_reused_token_is_refused_and_records_nothing(
    desk: SupportDesk, collector: FeedbackCollector
) -> None:
    ticket_id, token = resolved(desk)
    collector.submit(token, 3, "ok")
    before = snapshot(desk, ticket_id, token)
    with pytest.raises(FeedbackTokenReused, match="already used"):
        collector.submit(token, 1, "changed my mind")
    assert snapshot(desk, ticket_id, token) == before
    assert collector.answer(ticket_id)["csat"] == 3  # type: ignore[index]


def test_bad_score_is_refused_before_the_token_is_claimed(
    desk: SupportDesk, collector: FeedbackCollector
) -> None:
    ticket_id, token = resolved(desk)
    before = snapshot(desk, ticket_id, token)
    with pytest.raises(ValidationError, match="CSAT score must be a whole number from 1 to 5"):
        collector.submit(token, 6)
    with pytest.raises(ValidationError, match="NPS"):
        collector.submit(token, 5, nps=11)
    assert snapshot(desk, ticket_id, token) == before
    collector.submit(token, 5)  # the link still works


def test_every_refusal_is_a_feedback_token_error() -> None:
    for cls in (
        ForgedFeedbackToken,
        ExpiredFeedbackToken,
        FeedbackTokenReused,
        FeedbackAlreadyGiven,
        MalformedFeedbackToken,
    ):
        assert issubclass(cls, FeedbackTokenError)


def test_url_template_must_carry_the_token() -> None:
    from supportkit.domain import ConfigurationError

    with pytest.raises(ConfigurationError, match="must contain"):
        FeedbackCollector(signer(), url_template="https://example.com/feedback")
