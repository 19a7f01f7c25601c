"""The agent and customer API end to end: ETag/If-Match, cursors, views, macros, errors."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from .conftest import World


def test_etag_and_if_match_refuse_a_stale_write_with_412(world: World) -> None:
    n = world.ticket("ann", "My invoice is wrong", "billing")
    first = world.call("billing", "GET", f"/agent/tickets/{n}")
    etag = first.headers["etag"]
    assert etag == f'"v{first.json()["version"]}"'
    # a colleague adds a note meanwhile
    world.call("lead", "POST", f"/agent/tickets/{n}/note", json={"text": "called her"})
    stale = world.call(
        "billing",
        "POST",
        f"/agent/tickets/{n}/reply",
        json={"text": "Hi"},
        headers={"If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:supportkit:problem:stale-version"
    assert [
        m["text"] for m in world.call("billing", "GET", f"/agent/tickets/{n}").json()["messages"]
    ] == [
        "My invoice is wrong",
        "called her",
    ]
    fresh = world.call("billing", "GET", f"/agent/tickets/{n}").headers["etag"]
    ok = world.call(
        "billing",
        "POST",
        f"/agent/tickets/{n}/reply",
        json={"text": "Hi"},
        headers={"If-Match": fresh},
    )
    assert ok.status_code == 200
    assert ok.headers["etag"] != fresh
    assert ok.json()["ticket"]["status"] == "diagnosing"  # first reply: in progress
    garbage = world.call(
        "billing",
        "POST",
        f"/agent/tickets/{n}/note",
        json={"text": "x"},
        headers={"If-Match": '"nope"'},
    )
    assert garbage.status_code == 412


def test_customer_if_match_and_tracking_after_an_agent_reply(world: World) -> None:
    r = world.call("ann", "POST", "/customer/requests", json={"text": "Where is my refund?"})
    assert r.status_code == 201
    n = r.json()["request"]["number"]
    assert r.json()["request"]["status"] == "registered"
    t = world.desk.get_ticket_by_number(n)
    world.desk.update(t.id, actor="router", team_id="billing")
    world.call("billing", "POST", f"/agent/tickets/{n}/reply", json={"text": "Sent today"})
    seen = world.call("ann", "GET", f"/customer/requests/{n}")
    body = seen.json()
    assert body["request"]["status"] == "diagnosing"
    assert [m["from"] for m in body["messages"]] == ["you", "support"]
    assert (
        world.call(
            "lead", "POST", f"/agent/tickets/{n}/note", json={"text": "internal"}
        ).status_code
        == 200
    )
    assert "internal" not in world.call("ann", "GET", f"/customer/requests/{n}").text
    stale = world.call(
        "ann", "POST", f"/customer/requests/{n}/reply", json={"text": "thanks"},
        headers={"If-Match": seen.headers["etag"]},
    )  # fmt: skip
    assert stale.status_code == 412


def test_cursor_pages_do_not_skip_or_repeat_while_tickets_arrive(world: World) -> None:
    for i in range(7):
        world.ticket("ann", f"Question {i}", "billing")
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = world.call("billing", "GET", "/agent/tickets", params=params).json()
        seen += [t["number"] for t in page["items"]]
        world.ticket("bob", "arrives meanwhile", "billing")  # newer: not on later pages
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    bad = world.call("billing", "GET", "/agent/tickets", params={"cursor": "n-1"})
    assert bad.status_code == 422


def test_filters_and_saved_views(world: World) -> None:
    a = world.ticket("ann", "Invoice wrong", "billing")
    b = world.ticket("bob", "Refund please", "billing")
    tb = world.desk.get_ticket_by_number(b)
    world.desk.update(tb.id, actor="x", priority=4, tags=["vip"])
    world.desk.assign(world.desk.get_ticket_by_number(a).id, "a-bill")

    def numbers(**params: str) -> list[int]:
        r = world.call("billing", "GET", "/agent/tickets", params=params)
        assert r.status_code == 200, r.text
        return [t["number"] for t in r.json()["items"]]

    assert numbers(priority="urgent") == [b]
    assert numbers(tag="vip") == [b]
    assert numbers(assignee="me") == [a]
    assert numbers(text="refund") == [b]
    assert numbers(status="registered,diagnosing") == [b, a]
    assert numbers(view="mine") == [a]
    saved = world.call("billing", "PUT", "/agent/views/vip", json={"filters": {"tag": "vip"}})
    assert saved.status_code == 200
    assert numbers(view="vip") == [b]
    names = [v["name"] for v in world.call("billing", "GET", "/agent/views").json()["items"]]
    assert names == ["mine", "open", "all", "vip"]
    assert world.call("tech", "GET", "/agent/tickets", params={"view": "vip"}).status_code == 404
    bad = world.call("billing", "PUT", "/agent/views/x", json={"filters": {"colour": "red"}})
    assert bad.status_code == 422
    assert "colour" not in bad.json()["detail"] or "filters" in bad.json()["detail"]


def test_macro_replies_changes_fields_and_resolves_in_one_go(world: World) -> None:
    n = world.ticket("ann", "Invoice wrong", "billing")
    r = world.call("billing", "POST", f"/agent/tickets/{n}/macro", json={"name": "thanks"})
    assert r.status_code == 200, r.text
    assert r.json()["message"]["text"] == f"Hi ann@example.com, fixed #{n}."
    t = world.desk.get_ticket_by_number(n)
    assert (t.status, int(t.priority), t.resolution) == (
        "resolved",
        3,
        f"Hi ann@example.com, fixed #{n}.",
    )
    assert (
        world.call(
            "billing", "POST", f"/agent/tickets/{n}/macro", json={"name": "nope"}
        ).status_code
        == 404
    )


def test_errors_are_problem_json_safe_for_customers(world: World) -> None:
    n = world.ticket("ann", "Invoice wrong", "billing")
    empty = world.call("billing", "POST", f"/agent/tickets/{n}/reply", json={"text": " "})
    assert empty.status_code == 422
    assert empty.headers["content-type"] == "application/problem+json"
    resolve = world.call("billing", "POST", f"/agent/tickets/{n}/close", json={})
    assert resolve.status_code == 409
    t = world.desk.get_ticket_by_number(n)
    assert t.id not in resolve.text
    not_json = world.call("billing", "POST", f"/agent/tickets/{n}/reply", content=b"{oops")
    assert not_json.status_code == 422
    assert world.call("billing", "GET", "/agent/nowhere").status_code == 404
    assert (
        world.call("billing", "GET", "/agent/nowhere").headers["content-type"]
        == "application/problem+json"
    )


def test_feedback_once_and_public_link(world: World) -> None:
    n = world.ticket("ann", "Invoice wrong", "billing")
    early = world.call("ann", "POST", f"/customer/requests/{n}/feedback", json={"csat": 5})
    assert early.status_code == 409
    world.desk.resolve(world.desk.get_ticket_by_number(n).id, actor="a", resolution="fixed")
    assert world.call("ann", "GET", f"/customer/requests/{n}").json()["feedback"] == {
        "can_give": True,
        "given": False,
    }
    ok = world.call(
        "ann", "POST", f"/customer/requests/{n}/feedback", json={"csat": 4, "comment": "ok"}
    )
    assert ok.json() == {"received": True, "complaint": False}
    again = world.call("ann", "POST", f"/customer/requests/{n}/feedback", json={"csat": 1})
    assert again.status_code == 409
    forged = world.call(None, "POST", "/public/feedback", json={"token": "v1.abc.def", "csat": 3})
    assert forged.status_code in (400, 403)


# -- server-sent events on a real server -----------------------------------------------------


@pytest.fixture
def served(world: World) -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(world.app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def _events(url: str, who: str, found: list[dict[str, object]], stop: threading.Event) -> None:
    with (
        httpx.Client(timeout=httpx.Timeout(5, read=None)) as client,
        client.stream("GET", url, headers={"X-Who": who}) as r,
    ):
        for line in r.iter_lines():
            if line.startswith("data: "):
                found.append(json.loads(line[6:]))
            if stop.is_set():
                return


def test_event_streams_show_each_principal_only_their_tickets(world: World, served: str) -> None:
    billing: list[dict[str, object]] = []
    ann: list[dict[str, object]] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_events, args=(served + "/agent/events", "billing", billing, stop), daemon=True),
        threading.Thread(target=_events, args=(served + "/customer/events", "ann", ann, stop), daemon=True),
    ]  # fmt: skip
    for t in threads:
        t.start()
    time.sleep(0.5)
    mine = world.ticket("ann", "Invoice wrong", "billing")
    other = world.ticket("bob", "Login broken", "tech")
    world.call("billing", "POST", f"/agent/tickets/{mine}/note", json={"text": "internal"})
    world.call("billing", "POST", f"/agent/tickets/{mine}/reply", json={"text": "On it"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(e["type"] == "message" for e in ann[1:]):
        time.sleep(0.05)
    stop.set()
    world.ticket("ann", "wake the readers", "billing")
    assert {e["number"] for e in billing} == {mine}
    assert other not in {e["number"] for e in ann}
    kinds = [e["type"] for e in ann if e["number"] == mine]
    assert "status" in kinds
    assert kinds.count("message") == 2  # her message and the reply; never the note
