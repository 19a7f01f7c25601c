"""A runnable host app: a support desk on SQLite behind Starlette, taking messages in over
HTTP webhooks and live chat, answering through the outbound dispatcher.

Run it::

    python examples/webhook_app.py            # serves on http://127.0.0.1:8000

Then send a signed message (the secret below is for the demo only)::

    BODY='{"sender": "ann@example.com", "name": "Ann", "text": "My invoice is wrong"}'
    TS=$(date +%s)
    SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac demo-secret -hex | cut -d' ' -f2)
    curl -s localhost:8000/inbound/webform -H "X-Supportkit-Timestamp: $TS" \\
         -H "X-Supportkit-Signature: sha256=$SIG" -H 'Content-Type: application/json' -d "$BODY"

The answer carries the ticket number and a tracking link (``GET /track/1?token=...``).
The chat socket is ``ws://127.0.0.1:8000/chat``; ticket events are POSTed
to ``SUPPORTKIT_EVENTS_URL`` when it is set.

The chat's first line is the knowledge-base bot (``first_line_bot``): it answers
what the articles cover and hands the rest to a person. This example stays small
(webhooks, chat, tracking); ``examples/fastapi_desk/`` is the full desk with
routing, tiers, SLA, feedback, an agent console and the worker.

Several processes (uvicorn ``--workers``, or one process per host) serve one
desk on one database when ``SUPPORTKIT_BROKER_URL`` names a broker
(``redis://127.0.0.1:6379/0?stream=supportkit`` or
``amqp://guest:guest@127.0.0.1:5672/?exchange=supportkit``): each process relays
the outbox (leased claims keep them apart) and subscribes to the broker, so a
reply made in any process reaches the chat socket held open by another
(``supportkit.relay.follow_replies``).

Replies on ``webform`` tickets go to the "email" channel. This demo has no
SMTP server, so email is a MemoryChannel that logs what it would send; a
real host registers the email package's channel there instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

from supportkit import SupportDesk
from supportkit.channels import (
    ChannelRegistry,
    CustomerNotifier,
    DeliveryReceipt,
    MemoryChannel,
    OutboundDispatcher,
    OutboundMessage,
    TrackingLinks,
)
from supportkit.channels.chat import ChatChannel, ChatEndpoint, first_line_bot
from supportkit.channels.webhook import EventForwarder, WebhookChannel, WebhookInbound
from supportkit.knowledge import KNOWLEDGE_SCHEMA, FirstLineBot, KnowledgeBase, RetrievalAnswerer
from supportkit.policies import BusinessCalendar
from supportkit.relay import RelaySubscriber, follow_replies, open_relay, run_relay
from supportkit.storage.sqlite import SQLiteStorage

log = logging.getLogger("webhook_app")

SECRET = os.environ.get("SUPPORTKIT_WEBHOOK_SECRET", "demo-secret")
BASE_URL = os.environ.get("SUPPORTKIT_BASE_URL", "http://127.0.0.1:8000")


def _log_email(outbound: OutboundMessage) -> DeliveryReceipt | None:
    log.info("email to %s: %s", outbound.recipient, outbound.subject)
    return None


STATIC = Path(__file__).resolve().parent / "static"
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


def build_app(
    database: str | Path = "supportkit-example.sqlite3",
    *,
    chat_hours: Any = None,
    broker_url: str | None = None,
) -> Starlette:
    """The host's ASGI app: the customer page at ``/``, ``/inbound/{source}``,
    ``/track/{number}`` and the ``/chat`` socket. *chat_hours* (anything with
    ``is_open(at)``) defaults to Mon–Fri 09:00–18:00 Moscow time. *broker_url*
    (default: ``SUPPORTKIT_BROKER_URL``) relays events between processes."""
    broker_url = broker_url or os.environ.get("SUPPORTKIT_BROKER_URL")
    tracking = TrackingLinks(BASE_URL + "/track/{number}?token={token}", SECRET)
    chat = ChatChannel()
    registry = ChannelRegistry([chat])
    registry.add(MemoryChannel("email", handler=_log_email), also_for=["webform"])
    relay = os.environ.get("SUPPORTKIT_RELAY_URL")
    if relay:  # replies to messenger tickets go back to the host, which relays them
        registry.add(WebhookChannel(relay, SECRET, aliases=("telegram", "forum")))
    dispatcher = OutboundDispatcher(registry)
    extensions: list[object] = [dispatcher, CustomerNotifier(dispatcher, tracking=tracking)]
    events_url = os.environ.get("SUPPORTKIT_EVENTS_URL")
    if events_url:
        extensions.append(EventForwarder(events_url, SECRET))
    storage = SQLiteStorage(database, components=[KNOWLEDGE_SCHEMA])
    desk = SupportDesk(storage, extensions=extensions)
    kb = KnowledgeBase.on(storage)
    if not kb.articles():
        now = datetime.now(UTC)
        for title, body in ARTICLES:
            kb.create(title=title, body=body, locale="en", at=now, publish=True)
    bot = first_line_bot(FirstLineBot(RetrievalAnswerer(kb), min_confidence=0.2, max_turns=2))

    inbound = WebhookInbound(desk, secrets=[SECRET], tracking=tracking)
    hours = chat_hours or BusinessCalendar({"mon-fri": "09:00-18:00"}, timezone="Europe/Moscow")
    chat_endpoint = ChatEndpoint(desk, chat, hours=hours, path="/chat", bot=bot)

    async def page(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()

        def tick() -> None:  # retries, SLA timers: a host would use its scheduler
            while not stop.wait(5):
                try:
                    desk.tick()
                except Exception:
                    log.exception("tick failed")

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        subscriber = None
        if broker_url:  # other processes' replies reach the sockets held here
            subscriber = RelaySubscriber(desk, broker_url).start()
            follow_replies(subscriber, dispatcher, chat)
            broker = open_relay(broker_url)  # each process relays: leases keep them apart
            relaying = threading.Thread(target=run_relay, args=(desk, broker, stop), daemon=True)
            relaying.start()
        yield
        stop.set()
        if subscriber is not None:
            subscriber.close()
            relaying.join(10)
            broker.close()
        desk.storage.close()

    app = Starlette(
        routes=[Route("/", page), *inbound.app.routes, *chat_endpoint.app.routes],
        lifespan=lifespan,
    )
    app.state.desk = desk  # for the host's own views (and the example's tests)
    return app


if __name__ == "__main__":
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    uvicorn.run(build_app(), host="127.0.0.1", port=8000)
