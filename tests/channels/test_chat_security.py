"""Chat sessions cannot be guessed or replayed, and junk frames end cleanly.

The issue resumed another customer's chat in 2,505 guesses (ids were time
plus a per-process constant) and saw tracebacks on junk frames.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from supportkit.channels._chat_sessions import SESSION_NAMESPACE

from .test_chat import Env, until


def _open_chat(env: Env, text: str = "my card was charged twice") -> tuple[str, str]:
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "name": "Ann"})
        welcome = until(ws, "welcome")
        ws.send_json({"type": "message", "text": text})
        until(ws, "ticket")
    return welcome["session"], welcome["resume"]


def _resume(env: Env, token: str) -> dict[str, Any]:
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "resume": token})
        frames = [ws.receive_json() for _ in range(2)]
    return {f["type"]: f for f in frames}


def test_session_ids_and_tokens_are_random_and_distinct() -> None:
    env = Env()
    seen = [_open_chat(env, f"question {n}") for n in range(20)]
    ids = [s for s, _ in seen]
    tokens = [t for _, t in seen]
    assert len(set(ids)) == len(set(tokens)) == 20
    assert all(len(t) >= 43 for t in tokens)  # 256 bits, urlsafe base64
    assert all(len(i) >= 16 for i in ids)  # 96 bits
    assert not set(ids) & set(tokens)
    # no shared prefix or suffix a guesser could lean on (time-based ids share both)
    assert len({i[:4] for i in ids}) > 10
    assert len({i[-4:] for i in ids}) > 10


def test_the_visible_session_id_resumes_nothing() -> None:
    env = Env()
    session, _token = _open_chat(env)
    frames = _resume(env, session)
    assert "history" not in frames
    assert "unknown or expired" in frames["error"]["detail"]


def test_guessing_tokens_finds_nothing() -> None:
    env = Env()
    _, token = _open_chat(env)
    near = [token[:-1] + c for c in "ABCDEFGH" if c != token[-1]]
    for guess in [*near, token.upper(), token[:20], "0" * 43]:
        assert "history" not in _resume(env, guess)


def test_a_token_works_once_and_the_resume_hands_out_a_new_one() -> None:
    env = Env()
    _, token = _open_chat(env)
    first = _resume(env, token)
    assert [m["text"] for m in first["history"]["messages"]] == ["my card was charged twice"]
    rotated = first["welcome"]["resume"]
    assert rotated != token
    assert "history" not in _resume(env, token)  # spent
    assert "history" in _resume(env, rotated)


def test_a_token_expires_after_the_idle_time() -> None:
    env = Env()
    env.endpoint.sessions.idle_timeout = timedelta(minutes=30)
    _, token = _open_chat(env)
    env.clock.advance(minutes=31)
    frames = _resume(env, token)
    assert "history" not in frames
    assert "expired" in frames["error"]["detail"]


def test_the_database_keeps_no_usable_token() -> None:
    env = Env()
    _, token = _open_chat(env)
    with env.desk.storage.unit_of_work() as uow:
        stored = json.dumps(uow.kv_items(SESSION_NAMESPACE))
    assert token not in stored


@pytest.mark.parametrize(
    ("send", "code"),
    [
        (lambda ws: ws.send_bytes(b"\x00\xff binary"), 1003),
        (lambda ws: ws.send_text("not json {"), 1007),
        (lambda ws: ws.send_text("[" * 20_000 + "]" * 20_000), 1007),
        (lambda ws: ws.send_text('{"type": "start", "name": "\\ud800"}'), 1007),
        (lambda ws: ws.send_text(json.dumps({"type": "message", "text": "x" * 70_000})), 1009),
    ],
    ids=["binary", "not-json", "deep-json", "lone-surrogate", "oversized"],
)
def test_junk_frames_get_an_error_frame_and_a_clean_close(
    send: Any, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    env = Env()
    with caplog.at_level(logging.WARNING), env.client.websocket_connect("/chat") as ws:
        send(ws)
        frame = ws.receive_json()
        assert frame["type"] == "error"
        closing = ws.receive()
        assert closing["type"] == "websocket.close"
        assert closing["code"] == code
    assert not [r for r in caplog.records if r.exc_info]
    assert env.desk.find_tickets() == []


def test_junk_after_a_good_start_also_closes_cleanly() -> None:
    env = Env()
    with env.client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "start", "name": "Ann"})
        until(ws, "welcome")
        ws.send_text('{"type": "message", "text": "\\udc00"}')
        assert until(ws, "error")["type"] == "error"
        assert ws.receive()["code"] == 1007
