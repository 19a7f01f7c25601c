"""problem_for: every SupportKitError as problem+json, safe to show a customer."""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

import supportkit
from supportkit import (
    ConcurrencyConflict,
    GuardRejected,
    InvalidTransition,
    MalformedMessage,
    NotFound,
    SupportDesk,
    SupportKitError,
    TicketNotFound,
    ValidationError,
)
from supportkit.policies import EscalationRefused
from supportkit.web import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_PREFIX,
    RequestInvalid,
    StaleVersion,
    problem_for,
    problem_type,
    register_problem,
)


def _all_error_classes() -> list[type[SupportKitError]]:
    for mod in pkgutil.walk_packages(supportkit.__path__, "supportkit."):
        if ".testing" in mod.name or mod.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(mod.name)
        except ImportError:  # an optional extra that is not installed
            continue
    seen: list[type[SupportKitError]] = []
    todo: list[type[SupportKitError]] = [SupportKitError]
    while todo:
        cls = todo.pop()
        if cls not in seen and cls.__module__.startswith("supportkit"):
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


def test_every_supportkit_error_class_has_its_own_stable_type() -> None:
    classes = _all_error_classes()
    assert len(classes) > 20
    types = {problem_type(c): c for c in classes}
    assert len(types) == len(classes), "two error classes share a problem type"
    assert all(t.startswith(PROBLEM_TYPE_PREFIX) for t in types)
    assert problem_type(TicketNotFound) == "urn:supportkit:problem:ticket-not-found"
    assert problem_type(GuardRejected) == "urn:supportkit:problem:guard-rejected"


def _raised(call: object) -> SupportKitError:
    with pytest.raises(SupportKitError) as info:
        call()  # type: ignore[operator]
    return info.value


def test_real_errors_from_the_desk_map_to_statuses_without_internal_detail() -> None:
    desk = SupportDesk()
    t = desk.receive("email", "ann@example.com", "My invoice is wrong")
    cases = [
        (_raised(lambda: desk.get_ticket("01SECRETID")), 404, "ticket-not-found", "01SECRETID"),
        (
            _raised(lambda: desk.reply(t.id, "a1", "   ")),
            422,
            "malformed-message",
            "write something",
        ),
        (
            _raised(lambda: desk.resolve(t.id, actor="a1", resolution="")),
            409,
            "guard-rejected",
            t.id,
        ),
        (_raised(lambda: desk.start_diagnosis("nope", actor="x")), 404, "ticket-not-found", "nope"),
        (
            _raised(lambda: desk.escalate(t.id, "L0", actor="a1", reason="x")),
            422,
            "validation-error",
            "L0",
        ),
    ]
    desk.close_as_spam(t.id, actor="a1", reason="test")
    cases.append((_raised(lambda: desk.reply(t.id, "a1", "hi")), 409, "invalid-transition", t.id))
    for error, status, slug, secret in cases:
        p = problem_for(error)
        assert (p.status, p.type) == (status, PROBLEM_TYPE_PREFIX + slug), error
        body = p.body().decode()
        assert secret not in body, (secret, body)
        assert secret in str(error) or secret in p.log_message  # the developer keeps it
        data = json.loads(body)
        assert data["status"] == status
        assert data["detail"]
        assert data["title"]
        assert p.headers["Content-Type"] == PROBLEM_CONTENT_TYPE


def test_refused_transition_shows_the_status_and_allowed_events() -> None:
    err = InvalidTransition("01HIDDEN", "resolved", "escalate", ["close", "reopen"])
    data = problem_for(err).to_dict()
    assert data["ticket_status"] == "resolved"
    assert data["allowed"] == ["close", "reopen"]
    assert "01HIDDEN" not in json.dumps(data)


def test_subclasses_inherit_status_and_keep_their_own_type() -> None:
    class QuotaExceeded(ValidationError):
        pass

    p = problem_for(QuotaExceeded("customer 42 sent 900 messages; raise max_per_day"))
    assert p.status == 422
    assert p.type == PROBLEM_TYPE_PREFIX + "quota-exceeded"
    assert "42" not in p.detail
    assert "max_per_day" in p.log_message
    assert problem_for(EscalationRefused("L3", ["L1", "L2", "L3"])).status == 409


def test_a_host_registers_wording_for_its_own_error() -> None:
    class ShopClosed(SupportKitError):
        pass

    register_problem(ShopClosed, status=503, title="Closed", detail="We are closed today.")
    p = problem_for(ShopClosed("cron job 7 disabled the shop"))
    assert (p.status, p.detail) == (503, "We are closed today.")
    with pytest.raises(ValueError, match="400-599"):
        register_problem(ShopClosed, status=200, title="x", detail="y")


def test_web_errors_carry_their_public_detail() -> None:
    assert problem_for(RequestInvalid("'text' must not be empty")).detail == (
        "'text' must not be empty"
    )
    stale = problem_for(StaleVersion("ticket", "01X", 3, 4))
    assert stale.status == 412
    assert stale.to_dict()["current_version"] == 4
    assert problem_for(ConcurrencyConflict("ticket", "01X", 3, 4)).status == 409
    assert problem_for(NotFound("customer", "c-9")).detail == "We could not find that customer."
    assert problem_for(MalformedMessage("x")).status == 422
