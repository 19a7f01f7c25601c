"""The examples in several processes on one database and a real broker: a reply made in one
process reaches the customer's live chat (examples/webhook_app.py) and the server-sent events
(examples/fastapi_desk over supportkit.web) held open by another."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from .brokers import Broker

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

LOAD_WEBHOOK_APP = """
import importlib.util, sys
from supportkit.policies import always_open
spec = importlib.util.spec_from_file_location("webhook_app_example", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
app = module.build_app(sys.argv[2], chat_hours=always_open())
"""
SERVE_CHAT = (
    LOAD_WEBHOOK_APP
    + """
import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""
)
REPLY_ELSEWHERE = (
    LOAD_WEBHOOK_APP
    + """
desk = app.state.desk
ticket = desk.get_ticket_by_number(int(sys.argv[3]))
desk.reply(ticket.id, "agent-olga", sys.argv[4])
desk.storage.close()
"""
)
SERVE_FASTAPI_DESK = """
import sys
sys.path.insert(0, sys.argv[1])
import uvicorn
from app import build_app
uvicorn.run(build_app(sys.argv[2], tick_every=60), host="127.0.0.1", port=int(sys.argv[3]),
            log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextmanager
def serving(*servers: tuple[str, ...], broker_url: str, cwd: Path) -> Iterator[list[str]]:
    """Real server processes, each running code ``servers[i][0]`` with the arguments after it
    and a free port, started together; yields their base URLs."""
    env = {**os.environ, "SUPPORTKIT_BROKER_URL": broker_url}
    started = []
    for code, *args in servers:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args, str(port)],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append((proc, f"http://127.0.0.1:{port}"))
    try:
        deadline = time.monotonic() + 60
        for proc, base in started:
            while True:
                try:
                    httpx.get(base + "/", timeout=1)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        err = proc.stderr.read().decode() if proc.stderr else ""
                        pytest.fail(f"the example did not start: {err[-2000:]}")
                    time.sleep(0.1)
        yield [base for _proc, base in started]
    finally:
        for proc, _base in started:
            proc.terminate()
        for proc, _base in started:
            try:
                proc.wait(1)
            except subprocess.TimeoutExpired:  # an open event stream holds a graceful stop
                proc.kill()
                proc.wait(5)


def test_an_agent_reply_made_in_another_process_reaches_the_open_chat(
    broker: Broker, tmp_path: Path
) -> None:
    from websockets.sync.client import connect

    db = str(tmp_path / "desk.sqlite3")
    app = str(EXAMPLES / "webhook_app.py")
    with (
        serving((SERVE_CHAT, app, db), broker_url=broker.url, cwd=tmp_path) as [base],
        connect(base.replace("http", "ws") + "/chat", open_timeout=10) as ws,
    ):
        ws.send(json.dumps({"type": "start", "name": "Ann", "email": "ann@example.com"}))
        assert json.loads(ws.recv(10))["type"] == "welcome"
        ws.send(json.dumps({"type": "message", "text": "My parcel came crushed, box torn"}))
        frames: list[dict[str, Any]] = []
        while not any(f["type"] == "ticket" for f in frames):
            frames.append(json.loads(ws.recv(10)))
        number = next(f["number"] for f in frames if f["type"] == "ticket")
        text = "Sorry about that: a new parcel leaves today."
        subprocess.run(  # another process: it holds no socket of this chat
            [sys.executable, "-c", REPLY_ELSEWHERE, app, db, str(number), text],
            cwd=tmp_path,
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                frames.append(json.loads(ws.recv(max(0.1, deadline - time.monotonic()))))
            except TimeoutError:
                break
            if any(f.get("text") == text for f in frames):
                break
        end = time.monotonic() + 1.0  # anything signalled twice would come now
        while (left := end - time.monotonic()) > 0:
            try:
                frames.append(json.loads(ws.recv(left)))
            except TimeoutError:
                break
    replies = [f for f in frames if f["type"] == "message" and f.get("text") == text]
    assert len(replies) == 1, frames
    assert replies[0]["author"] == "agent"
    assert replies[0]["ticket_number"] == number
    pushed = [f["text"] for f in frames if f["type"] == "message"]
    assert len(pushed) == len(set(pushed)), f"a message reached the chat twice: {pushed}"


def test_a_reply_made_in_another_web_process_reaches_the_customers_event_stream(
    broker: Broker, tmp_path: Path
) -> None:
    db = str(tmp_path / "desk.sqlite3")
    app_dir = str(EXAMPLES / "fastapi_desk")
    server = (SERVE_FASTAPI_DESK, app_dir, db)
    with serving(server, server, broker_url=broker.url, cwd=tmp_path) as [a, b]:
        customer_a, customer_b, agent_b = (httpx.Client(base_url=u, timeout=10) for u in (a, b, b))
        for client in (customer_a, customer_b):
            r = client.post("/signin", json={"email": "ann@example.com", "name": "Ann"})
            assert r.status_code == 200, r.text
        assert agent_b.post("/signin", json={"agent": "olga"}).status_code == 200
        events: list[dict[str, Any]] = []
        streaming = threading.Event()

        def listen() -> None:
            kind = None
            try:
                with customer_a.stream("GET", "/api/customer/events", timeout=None) as r:
                    for line in r.iter_lines():
                        streaming.set()
                        if line.startswith("event: "):
                            kind = line.removeprefix("event: ")
                        elif line.startswith("data: "):
                            data = json.loads(line.removeprefix("data: "))
                            events.append({"event": kind, **data})
            except httpx.HTTPError:
                pass  # server A stopped

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert streaming.wait(10)

        def messages_of(number: int) -> int:
            return sum(1 for e in events if e["event"] == "message" and e["number"] == number)

        def wait_until(check: Any, timeout: float = 20) -> bool:
            deadline = time.monotonic() + timeout
            while not check():
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
            return True

        r = customer_b.post("/api/customer/requests", json={"text": "The export button is grey"})
        assert r.status_code == 201, r.text
        number = r.json()["request"]["number"]
        assert wait_until(lambda: messages_of(number) >= 1), events  # made in B, seen in A
        time.sleep(1.0)  # let every event of the submission arrive
        before = messages_of(number)
        r = agent_b.post(f"/api/agent/tickets/{number}/reply", json={"text": "Fixed, try again"})
        assert r.status_code == 200, r.text
        assert wait_until(lambda: messages_of(number) > before), events
        for client in (customer_b, agent_b):  # the stream's thread ends with server A
            client.close()
