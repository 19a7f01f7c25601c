"""examples/webhook_app.py runs: a signed web-form post opens a ticket on SQLite, the chat works,
and ``python examples/webhook_app.py`` serves HTTP on 127.0.0.1:8000."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from supportkit.channels.webhook import signature_headers

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_app.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_app_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def signed(body: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    headers = signature_headers("demo-secret", raw, datetime.now(UTC))
    headers["Content-Type"] = "application/json"
    return raw, headers


def test_the_example_app_registers_a_web_form_message_and_tracks_it(tmp_path: Path) -> None:
    app = load().build_app(tmp_path / "desk.sqlite3")
    with TestClient(app) as client:
        raw, headers = signed({"sender": "ann@example.com", "text": "Invoice wrong"})
        r = client.post("/inbound/webform", content=raw, headers=headers)
        assert r.status_code == 200, r.text
        url = r.json()["tracking_url"]
        assert url.startswith("http://127.0.0.1:8000/track/1?token=")
        tracked = client.get(url.removeprefix("http://127.0.0.1:8000"))
        assert tracked.status_code == 200
        assert tracked.json()["number"] == 1
        with client.websocket_connect("/chat") as ws:
            ws.send_json({"type": "start", "email": "bob@example.com"})
            assert ws.receive_json()["type"] == "welcome"


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.skipif(not _free(8000), reason="port 8000 is taken on this machine")
def test_the_example_serves_on_port_8000(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                r = httpx.get("http://127.0.0.1:8000/track/1?token=x", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the example did not start serving within 20s")
        assert r.status_code == 404
        raw, headers = signed({"sender": "ann@example.com", "text": "hello"})
        posted = httpx.post(
            "http://127.0.0.1:8000/inbound/webform", content=raw, headers=headers, timeout=5
        )
        assert posted.json()["ticket_number"] == 1
        assert (tmp_path / "supportkit-example.sqlite3").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
