"""The Flask reference integration, served by a real threaded WSGI server.

One desk on one SQLite file serves every request thread: many customers
submit at once, agents answer and resolve the same tickets from several
threads, and every error reaches the client as problem+json from
``supportkit.web.problem_for``, never a 500.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from supportkit import SupportDesk
from supportkit.storage.sqlite import SQLiteStorage
from supportkit.web import PROBLEM_CONTENT_TYPE

from . import load_example

APP = Path(__file__).resolve().parents[2] / "examples" / "flask_app" / "app.py"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, SupportDesk]]:
    storage = SQLiteStorage(tmp_path / "flask.sqlite3")
    desk = SupportDesk(storage)
    httpd = make_server(
        "127.0.0.1", 0, load_example(APP, "flask_example_app").create_app(desk), threaded=True
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port, desk
    httpd.shutdown()
    thread.join(5)
    storage.close()


def _call(port: int, method: str, path: str, body: Any = None) -> tuple[int, str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = None if body is None else json.dumps(body)
        conn.request(method, path, data, {"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), json.loads(r.read() or b"null")
    finally:
        conn.close()


def _in_threads(n: int, work: Any) -> list[Any]:
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    return results


def test_many_customers_submitting_at_once_each_get_their_own_ticket(
    server: tuple[int, SupportDesk],
) -> None:
    port, desk = server
    per_thread = 15

    def customer(i: int) -> list[tuple[int, Any]]:
        out = []
        for k in range(per_thread):
            body = {"email": f"c{i}@example.com", "subject": f"Q{i}-{k}", "text": f"text {i}-{k}"}
            status, _, answer = _call(port, "POST", "/requests", body)
            out.append((status, answer))
        return out

    results = [r for chunk in _in_threads(8, customer) for r in chunk]
    assert {status for status, _ in results} == {201}
    numbers = [answer["number"] for _, answer in results]
    assert len(set(numbers)) == len(numbers) == 8 * per_thread
    stored = desk.find_tickets(limit=1000)
    assert len(stored) == 8 * per_thread
    by_subject = {t.subject: t for t in stored}
    for i in range(8):
        for k in range(per_thread):
            t = by_subject[f"Q{i}-{k}"]
            assert desk.messages(t.id)[0].text == f"text {i}-{k}"


def test_agents_answering_one_ticket_from_many_threads_lose_nothing(
    server: tuple[int, SupportDesk],
) -> None:
    port, desk = server
    _, _, created = _call(
        port, "POST", "/requests", {"email": "a@example.com", "subject": "Help", "text": "Hi"}
    )
    tid = created["id"]

    def agent(i: int) -> list[int]:
        body = {"agent": f"agent{i}", "text": f"answer {i}"}
        return [_call(port, "POST", f"/tickets/{tid}/reply", body)[0] for _ in range(5)]

    statuses = [s for chunk in _in_threads(6, agent) for s in chunk]
    assert set(statuses) <= {200, 409}  # a conflict is answered as a problem, never a 500
    replies = [m for m in desk.messages(tid) if m.direction.value == "outbound"]
    assert len(replies) == statuses.count(200)

    def resolver(i: int) -> tuple[int, str, Any]:
        return _call(
            port, "POST", f"/tickets/{tid}/resolve", {"agent": f"a{i}", "resolution": "done"}
        )

    outcomes = _in_threads(4, resolver)
    assert sorted(s for s, _, _ in outcomes).count(200) == 1  # one resolves, the rest are refused
    for status, ctype, body in outcomes:
        if status != 200:
            assert ctype == PROBLEM_CONTENT_TYPE
            assert body["status"] == status
    assert desk.get_ticket(tid).status == "resolved"


def test_errors_are_problem_json_from_the_shared_helper(server: tuple[int, SupportDesk]) -> None:
    port, _ = server
    status, ctype, body = _call(port, "GET", "/requests/999?email=x@example.com")
    assert (status, ctype) == (404, PROBLEM_CONTENT_TYPE)
    assert body["type"] == "urn:supportkit:problem:ticket-not-found"
    assert "999" not in body["detail"]  # safe to show a customer: no ids, no developer hints
    assert "find_tickets" not in json.dumps(body)

    status, ctype, body = _call(port, "POST", "/requests", {"email": "x@example.com"})
    assert (status, ctype) == (422, PROBLEM_CONTENT_TYPE)
    assert "text" in body["detail"]

    status, ctype, body = _call(
        port, "POST", "/requests", {"email": "x@example.com", "subject": "s", "text": "  "}
    )
    assert (status, ctype) == (422, PROBLEM_CONTENT_TYPE)
    assert body["type"] == "urn:supportkit:problem:malformed-message"
