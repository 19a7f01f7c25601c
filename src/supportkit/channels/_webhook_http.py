"""Signed outbound HTTP: replies to the host (:class:`WebhookChannel`) and ticket events
(:class:`EventForwarder`), both over httpx with the same signature as inbound webhooks.

A 2xx answer is success; 408, 425, 429, 5xx and network errors are
transient (retried with backoff); any other status is permanent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from .._convert import dumps, event_to_data, unstructure
from ..domain._errors import ConfigurationError
from ..ports._channel import (
    Channel,
    DeliveryError,
    DeliveryReceipt,
    OutboundMessage,
    PermanentDeliveryError,
    RetryPolicy,
    TransientDeliveryError,
)
from ..ports._clock import Clock, SystemClock
from ..ports._storage import (
    Cursor,
    CursorStore,
    KeyValueStore,
    OutboxStore,
    StoredEvent,
    Timer,
    TimerStore,
)
from ..typing import DeskContext
from ._webhook_sign import signature_headers

if TYPE_CHECKING:
    from ..typing import Desk

__all__ = ["EventForwarder", "WebhookChannel", "post_signed"]

log = logging.getLogger("supportkit.channels")

_TRANSIENT_STATUS = frozenset({408, 425, 429})


def post_signed(
    client: httpx.Client,
    url: str,
    secret: str | bytes,
    payload: Any,
    now: datetime,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST *payload* as signed JSON; raise a DeliveryError unless the answer is 2xx."""
    body = dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    all_headers.update(signature_headers(secret, body, now))
    try:
        response = client.post(url, content=body, headers=all_headers)
    except httpx.HTTPError as exc:
        raise TransientDeliveryError(f"POST {url} failed: {type(exc).__name__}: {exc}") from exc
    if 200 <= response.status_code < 300:
        return response
    detail = f"POST {url} answered {response.status_code}: {response.text[:200]!r}"
    if response.status_code >= 500 or response.status_code in _TRANSIENT_STATUS:
        raise TransientDeliveryError(detail)
    raise PermanentDeliveryError(detail)


class WebhookChannel(Channel):
    """Delivers replies to the host's URL, which relays them (to a messenger, a forum, ...).

    The body is the :class:`OutboundMessage` as JSON with ``"type":
    "message.outbound"``; an ``Idempotency-Key`` header carries the delivery
    id. The host may answer ``{"external_id": "..."}`` to name the message
    on its side. ``aliases`` are the inbound sources (``telegram``,
    ``forum``) whose tickets it answers.
    """

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        name: str = "webhook",
        aliases: Iterable[str] = (),
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ConfigurationError(f"webhook url {url!r} must be http(s)")
        self.url = url
        self._secret = secret
        self.name = name
        self.aliases = tuple(aliases)
        self.receives = False
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=timeout)
        self.clock: Clock = clock or SystemClock()

    def deliver(self, outbound: OutboundMessage) -> DeliveryReceipt:
        payload = {"type": "message.outbound", **unstructure(outbound)}
        now = self.clock.now()
        response = post_signed(
            self.client,
            self.url,
            self._secret,
            payload,
            now,
            {"Idempotency-Key": outbound.delivery_id},
        )
        external_id = None
        try:
            data = response.json()
            if isinstance(data, dict) and data.get("external_id") is not None:
                external_id = str(data["external_id"])
        except ValueError:
            pass
        return DeliveryReceipt(
            outbound.delivery_id, self.name, now, external_id, f"HTTP {response.status_code}"
        )

    def close(self) -> None:
        if self._own_client:
            self.client.close()


FORWARD_NAMESPACE = "supportkit.webhook.forward"
DEAD_NAMESPACE = "supportkit.webhook.dead"
FORWARD_TIMER = "supportkit.webhook.forward"


class EventForwarder:
    """Sends every stored ticket event to the host's URL, in order, signed, at least once.

    A desk extension. It reads the event outbox from a cursor kept in
    storage (``kv``), so a restart resumes where it stopped. Each event is
    one POST: ``{"id": <seq>, "type": "ticket.status_changed", "event": {...}}``
    with ``X-Supportkit-Event`` and ``Idempotency-Key: event-<seq>`` headers
    (the receiver deduplicates on it). On a transient failure it stops and
    retries after the :class:`RetryPolicy` backoff through a desk timer
    (``desk.tick()``); an event refused permanently, or still failing after
    the last retry, is kept in ``kv`` namespace ``supportkit.webhook.dead``
    and logged, and forwarding goes on. *types* limits which event types
    are sent.

    Forwarding runs after each commit (``inline=True``) and from
    :meth:`pump`; the POSTs happen inside a storage transaction, so keep
    *timeout* short.
    """

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        name: str = "default",
        types: Iterable[str] | None = None,
        client: httpx.Client | None = None,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        inline: bool = True,
        batch: int = 100,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ConfigurationError(f"webhook url {url!r} must be http(s)")
        self.url = url
        self._secret = secret
        self.name = name
        self.types = frozenset(types) if types is not None else None
        self.client = client or httpx.Client(timeout=timeout)
        self.retry = retry or RetryPolicy()
        self.inline = inline
        self.batch = batch
        self._desk: Desk | None = None
        self._busy = threading.Lock()

    def install(self, desk: Desk) -> None:
        if self._desk is not None:
            raise ConfigurationError("an EventForwarder serves one desk")
        self._desk = desk
        desk.on_timer(f"{FORWARD_TIMER}:{self.name}", self._on_timer)
        if self.inline:
            desk.signals.event.connect(self._after_commit, weak=False)

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            raise ConfigurationError("install the forwarder: Desk(extensions=[...])")
        return self._desk

    def _after_commit(self, sender: Any, **_: Any) -> None:
        try:
            self.pump()
        except Exception:
            log.exception("forwarding events to %s failed; the next pump retries", self.url)

    def _on_timer(self, ctx: DeskContext, timer: Timer) -> None:
        with self._busy:
            self._pump_in(ctx.cursors, ctx.kv, ctx.outbox, ctx.timers, ctx.now, from_timer=True)

    def pump(self, now: datetime | None = None) -> int:
        """Forward what is pending (unless backing off); returns how many were sent."""
        if not self._busy.acquire(blocking=False):
            return 0  # a pump is running in this process; it will see the new events
        try:
            when = now or self.desk.clock.now()
            with self.desk.storage.unit_of_work() as uow:
                sent = self._pump_in(uow, uow, uow, uow, when, from_timer=False)
                uow.commit()
            return sent
        finally:
            self._busy.release()

    def state(self) -> dict[str, Any]:
        """The cursor (last forwarded event), failures so far and when the next retry is."""
        with self.desk.storage.unit_of_work() as uow:
            found = uow.get_cursor(self._cursor_name)
        if found is None:
            return {"cursor": 0, "failures": 0}
        return {**found.state, "cursor": found.position}

    @property
    def _cursor_name(self) -> str:
        return f"{FORWARD_NAMESPACE}:{self.name}"

    def dead_letters(self) -> list[tuple[str, Any]]:
        with self.desk.storage.unit_of_work() as uow:
            return uow.kv_items(f"{DEAD_NAMESPACE}:{self.name}")

    def _pump_in(
        self,
        cursors: CursorStore,
        kv: KeyValueStore,
        outbox: OutboxStore,
        timers: TimerStore,
        now: datetime,
        *,
        from_timer: bool,
    ) -> int:
        found = cursors.get_cursor(self._cursor_name)
        state: dict[str, Any] = {"cursor": 0, "failures": 0}
        if found is not None:
            state = {**found.state, "cursor": found.position}
        retry_at = state.get("retry_at")
        if retry_at and not from_timer and now < datetime.fromisoformat(retry_at):
            return 0
        sent = 0
        for stored in outbox.events_since(int(state["cursor"]), self.batch):
            name = stored.event.type_name
            if self.types is None or name in self.types:
                try:
                    self._post(stored, now)
                    sent += 1
                except DeliveryError as exc:
                    failures = int(state["failures"]) + 1
                    if exc.permanent or self.retry.gives_up_after(failures):
                        self._dead_letter(kv, stored, str(exc), failures, now)
                    else:
                        state["failures"] = failures
                        state["retry_at"] = (now + self.retry.delay(failures)).isoformat()
                        state["last_error"] = str(exc)
                        timers.schedule_timer(
                            Timer(
                                key=f"webhook-forward:{self.name}",
                                due_at=now + self.retry.delay(failures),
                                kind=f"{FORWARD_TIMER}:{self.name}",
                                ticket_id="",
                            )
                        )
                        break
            state.update(cursor=stored.seq, failures=0, retry_at=None)
        position = int(state.pop("cursor"))
        cursors.put_cursor(Cursor(self._cursor_name, position, None, state))
        return sent

    def _post(self, stored: StoredEvent, now: datetime) -> None:
        payload = {
            "id": stored.seq,
            "type": stored.event.type_name,
            "event": event_to_data(stored.event),
        }
        post_signed(
            self.client,
            self.url,
            self._secret,
            payload,
            now,
            {
                "X-Supportkit-Event": stored.event.type_name,
                "Idempotency-Key": f"event-{stored.seq}",
            },
        )

    def _dead_letter(
        self, kv: KeyValueStore, stored: StoredEvent, error: str, attempts: int, now: datetime
    ) -> None:
        log.error(
            "event %s (%s) could not be forwarded to %s after %d attempt(s): %s",
            stored.seq,
            stored.event.type_name,
            self.url,
            attempts,
            error,
        )
        kv.kv_put(
            f"{DEAD_NAMESPACE}:{self.name}",
            f"{stored.seq:012d}",
            {
                "seq": stored.seq,
                "type": stored.event.type_name,
                "error": error,
                "attempts": attempts,
                "at": now.isoformat(),
            },
        )
