"""Every endpoint: anonymous -> 401, the wrong kind of principal -> 403, someone
else's ticket -> 404 (never a hint it exists), the right principal -> 2xx."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import World

# (method, path with {n} for the ticket, body, agent who may, agent who may not)
AGENT_TICKET_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/agent/tickets/{n}", None),
    ("POST", "/agent/tickets/{n}/reply", {"text": "On it"}),
    ("POST", "/agent/tickets/{n}/note", {"text": "checking"}),
    ("POST", "/agent/tickets/{n}/assign", {"agent_id": "a-bill"}),
    ("POST", "/agent/tickets/{n}/escalate", {"tier": "L2", "reason": "needs billing L2"}),
    ("POST", "/agent/tickets/{n}/resolve", {"resolution": "refunded"}),
    ("POST", "/agent/tickets/{n}/close", {"reason": "done"}),
    ("POST", "/agent/tickets/{n}/merge", {"into": 0}),
    ("POST", "/agent/tickets/{n}/macro", {"name": "thanks"}),
    ("GET", "/agent/tickets/{n}/suggestions", None),
    ("GET", "/agent/tickets/{n}/customer", None),
]
AGENT_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/agent/tickets", None),
    ("GET", "/agent/views", None),
    ("PUT", "/agent/views/urgent-billing", {"filters": {"priority": "urgent"}}),
    ("GET", "/agent/macros", None),
]
CUSTOMER_TICKET_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/customer/requests/{n}", None),
    ("POST", "/customer/requests/{n}/reply", {"text": "any news?"}),
    ("POST", "/customer/requests/{n}/feedback", {"csat": 5}),
]
CUSTOMER_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/customer/requests", {"text": "Where is my parcel?"}),
    ("GET", "/customer/requests", None),
]


def _path(path: str, n: int) -> str:
    return path.replace("{n}", str(n))


def _body(body: dict[str, Any] | None, w: World) -> dict[str, Any] | None:
    if body is not None and body.get("into") == 0:
        return {"into": w.ticket("ann", "Same invoice problem again", "billing")}
    return body


@pytest.mark.parametrize(("method", "path", "body"), AGENT_TICKET_ENDPOINTS)
def test_agent_ticket_endpoints_follow_team_visibility(
    world: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    n = world.ticket("ann", "My invoice is wrong", "billing")
    if path.endswith("/close"):
        world.desk.resolve(world.desk.get_ticket_by_number(n).id, actor="x", resolution="ok")
    url = _path(path, n)
    payload = _body(body, world)
    assert world.call(None, method, url, json=payload).status_code == 401
    denied = world.call("ann", method, url, json=payload)
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    hidden = world.call("tech", method, url, json=payload)  # another team: as if absent
    assert hidden.status_code == 404
    assert hidden.json() == world.call("tech", "GET", "/agent/tickets/99999").json()
    ok = world.call("billing", method, url, json=payload)
    assert ok.status_code == 200, ok.text
    assert (
        world.call("lead", "GET", url if method == "GET" else f"/agent/tickets/{n}").status_code
        == 200
    )


@pytest.mark.parametrize(("method", "path", "body"), AGENT_ENDPOINTS)
def test_agent_endpoints_are_for_agents(
    world: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    assert world.call(None, method, path, json=body).status_code == 401
    assert world.call("bob", method, path, json=body).status_code == 403
    assert world.call("tech", method, path, json=body).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), CUSTOMER_TICKET_ENDPOINTS)
def test_customers_reach_only_their_own_requests(
    world: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    n = world.ticket("ann", "My invoice is wrong", "billing")
    t = world.desk.get_ticket_by_number(n)
    world.desk.resolve(t.id, actor="a-bill", resolution="refunded")
    url = _path(path, n)
    assert world.call(None, method, url, json=body).status_code == 401
    assert world.call("billing", method, url, json=body).status_code == 403
    other = world.call("bob", method, url, json=body)
    assert other.status_code == 404
    assert "invoice" not in other.text.lower()
    ok = world.call("ann", method, url, json=body)
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(("method", "path", "body"), CUSTOMER_ENDPOINTS)
def test_customer_endpoints_are_for_customers(
    world: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    assert world.call(None, method, path, json=body).status_code == 401
    assert world.call("billing", method, path, json=body).status_code == 403
    assert world.call("ann", method, path, json=body).status_code in (200, 201)


def test_delete_view_and_public_endpoints(world: World) -> None:
    world.call("tech", "PUT", "/agent/views/mine-urgent", json={"filters": {"priority": "urgent"}})
    assert world.call(None, "DELETE", "/agent/views/mine-urgent").status_code == 401
    assert world.call("ann", "DELETE", "/agent/views/mine-urgent").status_code == 403
    assert world.call("billing", "DELETE", "/agent/views/mine-urgent").status_code == 404  # not his
    assert world.call("tech", "DELETE", "/agent/views/mine-urgent").status_code == 200
    faq = world.call(None, "GET", "/public/articles", params={"q": "password reset"})
    assert faq.status_code == 200
    assert faq.json()["items"][0]["title"] == "Resetting your password"
    assert world.call(None, "GET", "/openapi.json").json()["openapi"].startswith("3.1")


def test_a_customer_list_shows_only_their_requests(world: World) -> None:
    world.ticket("ann", "Invoice wrong", "billing")
    world.ticket("bob", "Login broken", "tech")
    ann = world.call("ann", "GET", "/customer/requests").json()["items"]
    assert [r["subject"] for r in ann] == ["Invoice wrong"]


def test_agents_queue_shows_only_their_teams_unless_allowed_more(world: World) -> None:
    world.ticket("ann", "Invoice wrong", "billing")
    world.ticket("bob", "Login broken", "tech")
    world.ticket("cid", "Unsorted question", None)

    def subjects(who: str, **params: Any) -> list[str]:
        r = world.call(who, "GET", "/agent/tickets", params=params)
        assert r.status_code == 200, r.text
        return [t["subject"] for t in r.json()["items"]]

    assert subjects("billing") == ["Invoice wrong"]
    assert subjects("tech") == ["Login broken"]
    assert subjects("triage") == ["Unsorted question"]
    assert subjects("lead") == ["Unsorted question", "Login broken", "Invoice wrong"]
    assert subjects("billing", team="tech") == []  # asking for another team shows nothing
    assert subjects("lead", team="tech") == ["Login broken"]
