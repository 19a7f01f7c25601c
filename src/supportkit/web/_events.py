"""Desk events as server-sent events: agent consoles and customer pages update live.

Events come from an :class:`EventSource`. The default is the desk's own
blinker signals (events committed by this process). A host running several
processes passes a source fed by the event relay, so every process's
stream sees every event; anything with ``subscribe(receiver) -> unsubscribe``
will do.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..domain._errors import NotFound
from ..domain._events import DomainEvent, MessageAdded, StatusChanged
from ..domain._model import Ticket

if TYPE_CHECKING:
    from ..desk import SupportDesk

__all__ = ["DeskSignalSource", "EventHub", "EventSource"]

log = logging.getLogger("supportkit.web")

Receiver = Callable[[DomainEvent], None]


class EventSource(Protocol):
    """Where the streams get desk events from; *receiver* may be called from any thread."""

    def subscribe(self, receiver: Receiver) -> Callable[[], None]: ...


class DeskSignalSource:
    """The events this process's desk publishes after each commit (blinker)."""

    def __init__(self, desk: SupportDesk) -> None:
        self.desk = desk

    def subscribe(self, receiver: Receiver) -> Callable[[], None]:
        def on_event(sender: Any, *, event: DomainEvent, **_: Any) -> None:
            receiver(event)

        self.desk.signals.event.connect(on_event, sender=self.desk, weak=False)
        return lambda: self.desk.signals.event.disconnect(on_event, sender=self.desk)


class EventHub:
    """One subscription to the source, fanned out to each open stream's queue."""

    def __init__(
        self, desk: SupportDesk, source: EventSource | None, *, heartbeat: float = 15.0
    ) -> None:
        self.desk = desk
        self.source: EventSource = source or DeskSignalSource(desk)
        self.heartbeat = heartbeat
        self._queues: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[DomainEvent]]] = set()
        self._unsubscribe: Callable[[], None] | None = None

    def _receive(self, event: DomainEvent) -> None:
        for loop, queue in list(self._queues):
            try:
                loop.call_soon_threadsafe(_offer, queue, event)
            except RuntimeError:  # that stream's loop is closed
                self._queues.discard((loop, queue))

    async def stream(
        self,
        request: Request,
        render: Callable[[DomainEvent, Ticket], dict[str, Any] | None],
    ) -> AsyncIterator[bytes]:
        """``text/event-stream`` chunks of the events *render* lets through for this caller."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[DomainEvent] = asyncio.Queue(maxsize=1000)
        entry = (loop, queue)
        if self._unsubscribe is None:
            self._unsubscribe = self.source.subscribe(self._receive)
        self._queues.add(entry)
        try:
            yield b": connected\n\nretry: 3000\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), self.heartbeat)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                data = await run_in_threadpool(self._render, event, render)
                if data is not None:
                    payload = json.dumps(data, ensure_ascii=False)
                    yield f"event: {data['type']}\ndata: {payload}\n\n".encode()
        finally:
            self._queues.discard(entry)

    def _render(
        self,
        event: DomainEvent,
        render: Callable[[DomainEvent, Ticket], dict[str, Any] | None],
    ) -> dict[str, Any] | None:
        if not event.ticket_id:
            return None
        try:
            ticket = self.desk.get_ticket(event.ticket_id)
        except NotFound:
            return None
        return render(event, ticket)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


def _offer(queue: asyncio.Queue[DomainEvent], event: DomainEvent) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        log.warning("an event stream is not reading; dropped %s", event.type_name)


def agent_event(event: DomainEvent, ticket: Ticket) -> dict[str, Any]:
    return {
        "type": event.type_name,
        "number": ticket.number,
        "status": ticket.status,
        "version": ticket.version,
        "at": event.at.isoformat(),
    }


def customer_event(event: DomainEvent, ticket: Ticket) -> dict[str, Any] | None:
    """Only what the customer may see: public messages and status changes."""
    if isinstance(event, MessageAdded) and event.direction != "note":
        kind = "message"
    elif isinstance(event, StatusChanged):
        kind = "status"
    else:
        return None
    return {"type": kind, "number": ticket.number, "at": event.at.isoformat()}
