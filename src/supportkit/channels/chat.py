"""Live chat: a Starlette WebSocket endpoint where a chat session is bound to a ticket.

The customer's first message opens a ticket on channel ``"chat"``; later
messages join it; agents' (and the bot's) replies on the ticket are pushed
to the socket by :class:`ChatChannel`, which the host registers with the
:class:`~supportkit.channels.OutboundDispatcher` like any channel. Outside
the chat's opening hours (the desk's ``channel_hours``, or any object with
``is_open(at) -> bool`` passed as *hours*) the customer is told honestly when
the chat opens; the conversation then becomes an email ticket (the customer
is asked for an address), or, when the desk's hours say the closed chat
queues, a chat ticket answered at the opening.

The wire protocol is JSON frames. Client to server::

    {"type": "start", "name": "Ann", "email": "ann@example.com",
     "language": "ru", "resume": "<resume token>"}
    {"type": "message", "text": "..."}

Server to client: ``welcome`` (``session``, ``resume``, ``open``), ``notice`` (``text``),
``ticket`` (``number``, ``channel``), ``message`` (``author``, ``text``,
``kind``), ``history`` (``messages``) on resume, ``received`` once a
customer message is stored, ``error`` (``detail``).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..domain._errors import ConfigurationError, SupportKitError
from ..domain._language import detect_language
from ..domain._model import Direction, Ticket
from ..policies._channel_hours import OutOfHoursAction
from ..ports._channel import Channel, DeliveryReceipt, OutboundMessage
from ..ports._clock import Clock, SystemClock
from ..web import problem_for
from ._chat_sessions import (
    BadFrame,
    ChatSessionStore,
    new_session_id,
    read_frame,
)

if TYPE_CHECKING:
    from ..desk import SupportDesk
    from ..knowledge import FirstLineBot

__all__ = ["BotTurn", "ChatChannel", "ChatEndpoint", "OpeningHours", "first_line_bot"]

_EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
_MAX_TEXT = 20_000

_TEXTS = {
    "en": {
        "closed": "Our chat is closed right now. Your message will become a request we "
        "answer by email. Please type your email address.",
        "need_email": "Please type your email address so we can answer you.",
        "by_email": "Thank you! Request #{number} is registered; we will answer to {email}.",
        "handover": "Let me pass you to a support agent; they will answer here.",
    },
    "ru": {
        "closed": "Сейчас чат не работает. Ваше сообщение станет обращением, на которое мы "
        "ответим по электронной почте. Пожалуйста, напишите ваш адрес.",
        "need_email": "Пожалуйста, напишите ваш адрес электронной почты, чтобы мы могли ответить.",
        "by_email": "Спасибо! Обращение #{number} зарегистрировано; мы ответим на {email}.",
        "handover": "Передаю вас специалисту поддержки; он ответит здесь.",
    },
}


@runtime_checkable
class OpeningHours(Protocol):
    """When a channel is staffed; ``BusinessCalendar`` is one."""

    def is_open(self, at: datetime) -> bool: ...


class BotTurn(Protocol):
    """The first-line bot's turn: the answer to send, or None to hand over to a person."""

    def __call__(self, text: str, *, locale: str, turns_taken: int) -> str | None: ...


def first_line_bot(bot: FirstLineBot) -> BotTurn:
    """Adapt a :class:`supportkit.knowledge.FirstLineBot` to the chat's bot hook."""
    from ..knowledge import BotReply

    def turn(text: str, *, locale: str, turns_taken: int) -> str | None:
        decision = bot.decide(text, locale=locale, turns_taken=turns_taken)
        return decision.text if isinstance(decision, BotReply) else None

    return turn


class _Live:
    """One connected socket: frames are queued from any thread onto its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def push(self, frame: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, frame)


class ChatChannel(Channel):
    """Pushes replies to the customer's open chat sockets.

    A reply while the customer is away stays in the ticket's transcript,
    shown when the session resumes; the receipt says so.
    """

    name = "chat"
    receives = False  # messages come in through ChatEndpoint, not normalise()

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._live: dict[str, set[_Live]] = defaultdict(set)
        self._lock = threading.Lock()

    def connect(self, address: str, live: _Live) -> None:
        with self._lock:
            self._live[address].add(live)

    def disconnect(self, address: str, live: _Live) -> None:
        with self._lock:
            self._live[address].discard(live)
            if not self._live[address]:
                del self._live[address]

    def connected(self, address: str) -> bool:
        with self._lock:
            return bool(self._live.get(address))

    def deliver(self, outbound: OutboundMessage) -> DeliveryReceipt:
        with self._lock:
            targets = list(self._live.get(outbound.recipient, ()))
        frame = {
            "type": "message",
            "author": "bot" if outbound.author == "bot" else "agent",
            "kind": outbound.kind,
            "text": outbound.text,
            "ticket_number": outbound.ticket_number,
        }
        for live in targets:
            live.push(frame)
        detail = (
            f"pushed to {len(targets)} socket(s)"
            if targets
            else "customer not connected; kept in the transcript for the next session"
        )
        return DeliveryReceipt(outbound.delivery_id, self.name, self.clock.now(), None, detail)


class _Session:
    def __init__(self, session_id: str) -> None:
        self.id = session_id
        self.token = ChatSessionStore.new_token()
        self.sender = f"visitor-{session_id}"
        self.name = ""
        self.email: str | None = None
        self.language = "en"
        self.language_given = False  # else detected from the first message
        self.ticket_id: str | None = None
        self.email_ticket: int | None = None
        self.buffer: list[str] = []
        self.bot_turns = 0
        self.bot_done = False

    def text(self, key: str, **values: Any) -> str:
        lang = self.language if self.language in _TEXTS else "en"
        return _TEXTS[lang][key].format(**values)


class ChatEndpoint:
    """The chat WebSocket route of one desk: mount :attr:`app` (path ``/chat``).

    *hours*: when the chat is staffed (None: always). *bot*: the first-line
    bot's turn (see :func:`first_line_bot`), tried on each customer message
    until it hands over. *identify*: the host's signed-in user id for a
    socket (from its session cookie), so a customer's chats share one
    profile; without it each session is an anonymous visitor. Nothing the
    client sends is trusted as an identity: replies are pushed to every
    socket of that identity, and the resume token is the session's secret.
    """

    def __init__(
        self,
        desk: SupportDesk,
        channel: ChatChannel,
        *,
        hours: OpeningHours | None = None,
        bot: BotTurn | Callable[..., str | None] | None = None,
        identify: Callable[[WebSocket], str | None] | None = None,
        path: str = "/chat",
        idle_timeout: timedelta = timedelta(hours=12),
    ) -> None:
        self.desk = desk
        self.sessions = ChatSessionStore(idle_timeout)
        self.channel = channel
        if hours is not None and desk.channel_hours is not None:
            raise ConfigurationError(
                "the chat's hours are set twice: the desk has channel_hours already; drop "
                "ChatEndpoint(hours=...) (the chat follows desk.channel_status('chat'))"
            )
        self.hours = hours
        self.bot = bot
        self.identify = identify
        self.app = Starlette(routes=[WebSocketRoute(path, self._serve)])

    def is_open(self) -> bool:
        """Whether the chat is staffed now (the desk's channel hours, or *hours*)."""
        if self.desk.channel_hours is not None:
            return self.desk.channel_status("chat").open
        return self.hours is None or self.hours.is_open(self.desk.clock.now())

    def _queues_after_hours(self) -> bool:
        """The desk's channel hours say a closed chat queues the request (no email asked)."""
        hours = self.desk.channel_hours
        return hours is not None and hours.rule("chat").action is OutOfHoursAction.QUEUE

    def _closed_notice(self, session: _Session) -> str:
        if self.desk.channel_hours is None:
            return session.text("closed")
        honest = self.desk.channel_status("chat").notice(session.language)
        if self._queues_after_hours():
            return honest
        return f"{honest} {session.text('need_email')}"

    async def _serve(self, ws: WebSocket) -> None:
        await ws.accept()
        session = _Session(new_session_id())
        if self.identify is not None:
            user = self.identify(ws)
            if user:
                session.sender = f"user-{user}"
        live = _Live(asyncio.get_running_loop())
        sender_task = asyncio.create_task(self._pump(ws, live))
        try:
            await self._converse(ws, session, live)
        except WebSocketDisconnect:
            pass
        except BadFrame as exc:
            sender_task.cancel()
            await ws.send_json({"type": "error", "detail": str(exc)})
            await ws.close(exc.code)
        finally:
            self.channel.disconnect(session.sender, live)
            sender_task.cancel()

    async def _pump(self, ws: WebSocket, live: _Live) -> None:
        while True:
            frame = await live.queue.get()
            await ws.send_json(frame)

    async def _converse(self, ws: WebSocket, session: _Session, live: _Live) -> None:
        frame = await read_frame(ws)
        pending: dict[str, Any] | None = None
        if isinstance(frame, dict) and frame.get("type") == "start":
            await self._start(session, frame, live)
        else:
            pending = frame
        open_now = await run_in_threadpool(self.is_open)
        self.channel.connect(session.sender, live)
        live.push(
            {"type": "welcome", "session": session.id, "resume": session.token, "open": open_now}
        )
        if not open_now and session.ticket_id is None:
            live.push({"type": "notice", "text": self._closed_notice(session)})
        while True:
            if pending is None:
                pending = await read_frame(ws)
            frame, pending = pending, None
            if not isinstance(frame, dict) or frame.get("type") != "message":
                live.push({"type": "error", "detail": "send {'type': 'message', 'text': '...'}"})
                continue
            text = frame.get("text")
            if not isinstance(text, str) or not text.strip() or len(text) > _MAX_TEXT:
                live.push({"type": "error", "detail": f"text must be 1..{_MAX_TEXT} characters"})
                continue
            try:
                await run_in_threadpool(self._on_message, session, text, live)
            except SupportKitError as exc:
                live.push({"type": "error", "detail": problem_for(exc).detail})
            else:
                live.push({"type": "received"})

    async def _start(self, session: _Session, frame: dict[str, Any], live: _Live) -> None:
        session.name = str(frame.get("name") or "")[:200]
        email = frame.get("email")
        if isinstance(email, str) and _EMAIL_RE.fullmatch(email.strip()):
            session.email = email.strip().lower()
        given = frame.get("language")
        if isinstance(given, str) and given.strip():
            session.language = given.split("-")[0].lower()
            session.language_given = True
        resume = frame.get("resume")
        if isinstance(resume, str) and resume:
            await run_in_threadpool(self._resume, session, resume, live)

    def _resume(self, session: _Session, resume: str, live: _Live) -> None:
        with self.desk.storage.unit_of_work() as uow:
            found = self.sessions.resume(uow, resume, self.desk.clock.now())
            uow.commit()
        if found is None:
            live.push({"type": "error", "detail": "that chat session is unknown or expired"})
            return
        ticket = self.desk.get_ticket(found.ticket_id)
        if self.desk.lifecycle_of(ticket).is_final(ticket.status):
            return
        session.id = found.session_id or session.id
        session.token = found.token
        session.sender = found.sender
        session.ticket_id = ticket.id
        session.bot_done = True
        history = [
            {"author": "customer" if m.direction is Direction.INBOUND else "agent", "text": m.text}
            for m in self.desk.messages(ticket.id, include_notes=False)
        ]
        live.push({"type": "history", "ticket_number": ticket.number, "messages": history})

    # -- one customer message (in a worker thread) -------------------------------------
    def _on_message(self, session: _Session, text: str, live: _Live) -> None:
        if not session.language_given:
            session.language = detect_language(text) or session.language
        if session.ticket_id is not None:
            ticket = self._receive(session, text, ticket_id=session.ticket_id)
            followed_up = ticket.id != session.ticket_id  # the ticket was closed
            self._bind(session, ticket)
            if followed_up:
                live.push({"type": "ticket", "number": ticket.number, "channel": "chat"})
            self._bot_turn(session, text, live)
        elif session.email_ticket is not None or (
            not self._queues_after_hours() and not self.is_open()
        ):
            self._after_hours(session, text, live)
        else:
            ticket = self._receive(session, text)
            self._bind(session, ticket)
            live.push({"type": "ticket", "number": ticket.number, "channel": "chat"})
            self._bot_turn(session, text, live)

    def _bind(self, session: _Session, ticket: Ticket) -> None:
        """Let the session's resume token reach *ticket* (and count from now for expiry)."""
        session.ticket_id = ticket.id
        with self.desk.storage.unit_of_work() as uow:
            self.sessions.bind(
                uow,
                session.token,
                session_id=session.id,
                ticket_id=ticket.id,
                sender=session.sender,
                now=self.desk.clock.now(),
            )
            uow.commit()

    def _receive(self, session: _Session, text: str, ticket_id: str | None = None) -> Ticket:
        ticket = self.desk.receive(
            "chat",
            session.sender,
            text,
            sender_name=session.name or None,
            ticket_id=ticket_id,
            language=session.language if session.language_given else None,
            meta={"chat_session": session.id},
            contacts={"email": session.email} if session.email else None,
            sender_verified=True if session.sender.startswith("user-") else None,
        )
        if not session.language_given and ticket.language:
            session.language = ticket.language  # detected by the desk from the message
        return ticket

    def _bot_turn(self, session: _Session, text: str, live: _Live) -> None:
        if self.bot is None or session.bot_done or session.ticket_id is None:
            return
        answer = self.bot(text, locale=session.language, turns_taken=session.bot_turns)
        if answer:
            session.bot_turns += 1
            self.desk.reply(session.ticket_id, "bot", answer, meta={"bot": True})
        else:
            session.bot_done = True
            live.push({"type": "notice", "text": session.text("handover")})

    def _after_hours(self, session: _Session, text: str, live: _Live) -> None:
        if session.email is None:
            found = _EMAIL_RE.search(text)
            if found and len(text.strip()) <= len(found.group(0)) + 40:
                session.email = found.group(0).lower()
            else:
                session.buffer.append(text)
                live.push({"type": "notice", "text": session.text("need_email")})
                return
        if session.email_ticket is None:
            if not _EMAIL_RE.fullmatch(text.strip()):
                session.buffer.append(text)
            if not session.buffer:
                return  # only the address so far; wait for the question
            ticket = self.desk.receive(
                "email",
                session.email,
                "\n\n".join(session.buffer),
                subject="Chat message (after hours)",
                sender_name=session.name or None,
                language=session.language if session.language_given else None,
                meta={"chat_session": session.id, "via": "chat"},
            )
            session.buffer.clear()
            session.email_ticket = ticket.number
            live.push({"type": "ticket", "number": ticket.number, "channel": "email"})
            live.push(
                {
                    "type": "notice",
                    "text": session.text("by_email", number=ticket.number, email=session.email),
                }
            )
            return
        ticket = self.desk.get_ticket_by_number(session.email_ticket)
        self.desk.receive(
            "email",
            session.email,
            text,
            ticket_id=ticket.id,
            language=session.language if session.language_given else None,
            meta={"chat_session": session.id, "via": "chat"},
        )
