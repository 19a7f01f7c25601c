"""The full desk behind FastAPI: a customer portal and an agent console over ``supportkit.web``.

Run it (one command, from the repository root)::

    pip install -e '.[web]' fastapi && python examples/fastapi_desk/app.py

then open http://127.0.0.1:8000/ (customer portal) and http://127.0.0.1:8000/console
(agent console). Wired: triage, routing to teams and agents (L1 front line, L2
engineering), SLA clocks with badges, the first-line bot answering from the
knowledge base, feedback after resolution with the complaint path, customer
acknowledgements in the customer's language, and the worker (SLA timers, feedback
reminders) as a loop over ``desk.tick()`` in a thread, or alone with
``python examples/fastapi_desk/worker.py``.

Several web processes on one database: set ``SUPPORTKIT_BROKER_URL`` (e.g.
``redis://127.0.0.1:6379/0?stream=supportkit``); each process then relays the
outbox to the broker and signals the events of the others, so the portal's
and the console's live updates (server-sent events) show a reply made in any
process. In production the relay runs in the worker (``worker.py``, or
``supportkit worker``); the web processes only subscribe.

Sign-in is a demo: customers give their email, agents pick their name; the host's
real session system goes in :func:`authenticate`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from supportkit import Agent, Priority, SupportDesk, Team
from supportkit.channels import (
    ChannelRegistry,
    CustomerNotifier,
    MemoryChannel,
    OutboundDispatcher,
)
from supportkit.extensions import DeskRouting, SlaExtension
from supportkit.knowledge import (
    KNOWLEDGE_SCHEMA,
    BotOnInbound,
    ChangeStatus,
    ComplaintIntake,
    ComplaintPolicy,
    FeedbackCollector,
    FirstLineBot,
    KnowledgeBase,
    Macro,
    RetrievalAnswerer,
    SetPriority,
    complaint_lifecycle,
)
from supportkit.policies import (
    FeedbackTokenSigner,
    LeastLoaded,
    Router,
    SlaPolicy,
    SlaRule,
    always_open,
)
from supportkit.relay import RelaySubscriber, open_relay, run_relay
from supportkit.storage.sqlite import SQLiteStorage
from supportkit.web import AgentPrincipal, CustomerPrincipal, create_app

log = logging.getLogger("fastapi_desk")
STATIC = Path(__file__).resolve().parent / "static"
SECRET = os.environ.get("SUPPORTKIT_SECRET", "demo secret: use 32+ random bytes in production")
BASE_URL = os.environ.get("SUPPORTKIT_BASE_URL", "http://127.0.0.1:8000")
COOKIE = "sk_session"

TEAMS = [Team("frontline", "Front line", tier="L1"), Team("engineering", "Engineering", tier="L2")]
AGENTS = [
    Agent(
        "olga", "Olga Petrova", tier="L1", teams=("frontline",), languages=frozenset({"en", "ru"})
    ),
    Agent("ivan", "Ivan Sokolov", tier="L2", teams=("engineering",)),
]
ARTICLES = [
    (
        "Reset a forgotten password",
        "Open the sign-in page, choose 'Forgot password' and follow the link we email you. "
        "The reset link works for one hour.",
    ),
    (
        "Export your data to CSV",
        "Go to Settings, then Data, and choose Export as CSV. The file contains every record.",
    ),
    (
        "Turn on two-factor sign-in",
        "In Settings, open Security and choose Two-factor sign-in; scan the code with your "
        "authenticator app.",
    ),
]
MACROS = [
    Macro(
        "Replacement sent",
        "Hello {customer.first_name}, we have sent a replacement for request #{ticket.number}. "
        "Sorry for the trouble!",
    ),
    Macro(
        "Urgent: looking now", "We are on it right now.", actions=(SetPriority(Priority.URGENT),)
    ),
    Macro("Solved, closing", "Glad we could help!", actions=(ChangeStatus("resolve"),)),
]


def build_desk(database: str | Path) -> tuple[SupportDesk, KnowledgeBase]:
    """The desk with every part wired (a host builds this once per process)."""
    storage = SQLiteStorage(database, components=[KNOWLEDGE_SCHEMA])
    kb = KnowledgeBase.on(storage)
    if not kb.articles():
        now = datetime.now(UTC)
        for title, body in ARTICLES:
            kb.create(title=title, body=body, locale="en", at=now, publish=True)
    outbox = MemoryChannel("chat", handler=lambda o: log.info("to %s: %s", o.recipient, o.text))
    registry = ChannelRegistry([outbox])
    registry.add(MemoryChannel("email"), also_for=["web"])
    dispatcher = OutboundDispatcher(registry)
    routing = DeskRouting(teams=TEAMS, agents=AGENTS, router=Router(strategy=LeastLoaded()))
    sla = SlaExtension(
        SlaPolicy(
            [
                SlaRule(
                    first_response=timedelta(hours=1),
                    resolution=timedelta(hours=8),
                    calendar="always",
                )
            ],
            calendars={"always": always_open()},
        ),
        escalate_on_breach={"first_response": "L2"},
    )
    feedback = FeedbackCollector(
        FeedbackTokenSigner(SECRET.encode(), nonce_source=lambda: secrets.token_hex(8)),
        url_template=BASE_URL + "/feedback?t={token}",
        complaints=ComplaintPolicy(action="reopen", threshold=2),
    )
    bot = BotOnInbound(
        FirstLineBot(RetrievalAnswerer(kb), min_confidence=0.2, max_turns=1), routing=routing
    )
    desk = SupportDesk(
        storage,
        lifecycles=[complaint_lifecycle()],
        extensions=[
            routing,
            sla,
            bot,
            feedback,
            ComplaintIntake(supervisor_tier="L2"),
            dispatcher,
            CustomerNotifier(dispatcher),
        ],
    )
    return desk, kb


# -- the demo's sign-in: a signed cookie naming the customer or the agent ------------------------
def _sign(value: str) -> str:
    mac = hmac.new(SECRET.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
    return base64.urlsafe_b64encode(f"{value}|{mac}".encode()).decode()


def _unsign(token: str) -> str | None:
    try:
        value, mac = base64.urlsafe_b64decode(token.encode()).decode().rsplit("|", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    good = hmac.new(SECRET.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
    return value if hmac.compare_digest(mac, good) else None


def authenticate_with(desk: SupportDesk) -> Any:
    def authenticate(request: Request) -> AgentPrincipal | CustomerPrincipal | None:
        value = _unsign(request.cookies.get(COOKIE, ""))
        if value is None:
            return None
        kind, _, who = value.partition(":")
        if kind == "agent":
            agent = next((a for a in desk.agents() if a.id == who), None)
            if agent is None:
                return None
            return AgentPrincipal(agent.id, teams=agent.teams, unrouted=True, name=agent.name)
        if kind == "customer":
            email, _, name = who.partition(":")
            return CustomerPrincipal([("chat", email), ("email", email)], name=name)
        return None

    return authenticate


def build_app(
    database: str | Path = "supportkit-fastapi.sqlite3",
    *,
    tick_every: float = 5.0,
    broker_url: str | None = None,
) -> FastAPI:
    """The host's app: pages at ``/``, ``/console``, ``/feedback``; the API under ``/api``.
    *broker_url* (default: ``SUPPORTKIT_BROKER_URL``) shares events between processes."""
    broker_url = broker_url or os.environ.get("SUPPORTKIT_BROKER_URL")
    desk, kb = build_desk(database)
    api = create_app(
        desk, authenticate=authenticate_with(desk), knowledge=kb, macros=MACROS,
        customer_channel="chat", title="supportkit demo desk",
    )  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        worker = threading.Thread(target=run_worker, args=(desk, stop, tick_every), daemon=True)
        worker.start()
        subscriber = relaying = None
        if broker_url:
            subscriber = RelaySubscriber(desk, broker_url).start()  # feeds the SSE streams
            relaying = start_relay(desk, broker_url, stop)
        yield
        stop.set()
        worker.join(10)
        if subscriber is not None:
            subscriber.close()
        if relaying is not None:
            relaying.join(10)
        api.state.supportkit_events.close()
        desk.storage.close()

    app = FastAPI(title="supportkit demo desk", lifespan=lifespan)
    app.state.desk = desk

    def page(name: str) -> Any:
        async def serve() -> FileResponse:
            return FileResponse(STATIC / name, media_type="text/html; charset=utf-8")

        return serve

    app.get("/", include_in_schema=False)(page("portal.html"))
    app.get("/console", include_in_schema=False)(page("console.html"))
    app.get("/feedback", include_in_schema=False)(page("feedback.html"))

    @app.post("/signin")
    async def signin(request: Request) -> Response:
        data = await request.json()
        if data.get("agent"):
            if data["agent"] not in {a.id for a in AGENTS}:
                return JSONResponse({"detail": "no such agent"}, 422)
            value = f"agent:{data['agent']}"
        else:
            email = str(data.get("email", "")).strip().lower()
            if "@" not in email or len(email) > 200:
                return JSONResponse({"detail": "give your email address"}, 422)
            value = f"customer:{email}:{str(data.get('name', ''))[:100]}"
        response = JSONResponse({"ok": True})
        response.set_cookie(COOKIE, _sign(value), httponly=True, samesite="lax")
        return response

    @app.get("/agents")
    async def agents() -> list[dict[str, str]]:
        return [{"id": a.id, "name": a.name} for a in AGENTS]

    app.mount("/api", api)
    return app


def run_worker(desk: SupportDesk, stop: threading.Event, every: float) -> None:
    """The background work: due timers (SLA warnings and breaches, feedback reminders)
    and events a crash left unpublished. One loop per deployment is enough."""
    while not stop.wait(every):
        try:
            desk.tick()
            desk.publish_pending()
        except Exception:
            log.exception("worker tick failed; retrying on the next one")


def start_relay(desk: SupportDesk, broker_url: str, stop: threading.Event) -> threading.Thread:
    """The outbox relayed to the broker until *stop*: claims with a lease, so any number of
    processes may run it."""

    def relay() -> None:
        broker = open_relay(broker_url)
        try:
            run_relay(desk, broker, stop)
        finally:
            broker.close()

    thread = threading.Thread(target=relay, name="outbox-relay", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    uvicorn.run(build_app(), host="127.0.0.1", port=8000)
