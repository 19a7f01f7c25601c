"""Chat session credentials and the frames a chat socket reads.

A chat session has two names. Its **id** (96 random bits) names the visitor
(``visitor-<id>``) and is stored with its messages, so agents see it. Its
**resume token** (256 random bits from :mod:`secrets`) is the only
credential that resumes the chat and shows its history: the database keeps
only its SHA-256, a resume rotates it (the old token stops working), and it
expires after the configured idle time. Guessing is pointless. Spending a
token holds a database lock on it for the transaction, so two concurrent
resumes with one token (on any backend, in any number of processes) yield one
session and one new token; the other finds the token spent.

:func:`read_frame` reads one client frame and turns junk (binary frames,
text that is not JSON, JSON nested too deep, lone surrogates, oversized
frames) into :class:`BadFrame`, which the endpoint answers with an error
frame and a clean close.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from ..domain._errors import MalformedMessage
from ._json_guard import loads_guarded

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from ..ports._storage import UnitOfWork

__all__ = ["BadFrame", "ChatSessionStore", "new_session_id", "read_frame"]

SESSION_NAMESPACE = "supportkit.chat.sessions"
MAX_FRAME_CHARS = 64 * 1024


def new_session_id() -> str:
    """A public, unguessable session id (96 random bits)."""
    return secrets.token_urlsafe(12)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@attrs.frozen
class ResumedSession:
    session_id: str
    ticket_id: str
    sender: str
    token: str  # the new token: the one presented is spent


class ChatSessionStore:
    """Resume tokens kept (hashed) in the desk's keyed state, shared by every process."""

    def __init__(self, idle_timeout: timedelta) -> None:
        if idle_timeout <= timedelta(0):
            raise ValueError("idle_timeout must be positive")
        self.idle_timeout = idle_timeout

    @staticmethod
    def new_token() -> str:
        """A fresh resume token: 256 random bits."""
        return secrets.token_urlsafe(32)

    def bind(
        self,
        uow: UnitOfWork,
        token: str,
        *,
        session_id: str,
        ticket_id: str,
        sender: str,
        now: datetime,
    ) -> None:
        """Make *token* resume this session (until idle for ``idle_timeout``)."""
        uow.kv_put(
            SESSION_NAMESPACE,
            _digest(token),
            {
                "session": session_id,
                "ticket_id": ticket_id,
                "sender": sender,
                "seen": now.isoformat(),
            },
        )

    def resume(self, uow: UnitOfWork, token: str, now: datetime) -> ResumedSession | None:
        """The session *token* resumes, with a new token replacing it; None when the token
        is unknown, spent or idle too long."""
        if not isinstance(token, str) or not 20 <= len(token) <= 200:
            return None
        key = _digest(token)
        # spend the token as a compare-and-set: two processes resuming with the same token
        # at once are serialised here, and the second finds it spent
        uow.lock(f"chat-resume:{key}")
        stored = uow.kv_get(SESSION_NAMESPACE, key)
        if not isinstance(stored, dict) or "ticket_id" not in stored:
            return None
        seen = datetime.fromisoformat(str(stored["seen"]))
        uow.kv_put(SESSION_NAMESPACE, key, {"spent": now.isoformat()})
        if now - seen > self.idle_timeout:
            return None
        fresh = self.new_token()
        self.bind(
            uow,
            fresh,
            session_id=str(stored.get("session") or ""),
            ticket_id=str(stored["ticket_id"]),
            sender=str(stored["sender"]),
            now=now,
        )
        return ResumedSession(
            str(stored.get("session") or ""), str(stored["ticket_id"]), str(stored["sender"]), fresh
        )


class BadFrame(MalformedMessage):
    """A WebSocket frame the chat cannot read; the socket is closed with ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


async def read_frame(ws: WebSocket) -> Any:
    """The next client frame as JSON; raises BadFrame for junk, WebSocketDisconnect on close."""
    from starlette.websockets import WebSocketDisconnect

    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        raise BadFrame("binary frames are not accepted: send JSON text frames", 1003)
    if len(text) > MAX_FRAME_CHARS:
        raise BadFrame(f"the frame is over {MAX_FRAME_CHARS} characters", 1009)
    try:
        return loads_guarded(text, "the frame")
    except MalformedMessage as exc:
        raise BadFrame(str(exc), 1007) from None
