"""An in-process broker: for tests, docs and a single-process host."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

from ._port import RelayedEvent, decode, encode

__all__ = ["MemoryRelay"]


class MemoryRelay:
    """A broker inside this process: what is published reaches its subscriptions.

    Messages go through the same wire encoding as the real brokers', so a
    test on it also checks that every event survives the trip.

    >>> from supportkit import SupportDesk
    >>> from supportkit.relay import MemoryRelay, relay_once
    >>> desk = SupportDesk()
    >>> broker = MemoryRelay()
    >>> _ = desk.receive("email", "ann@example.com", "Hello")
    >>> relay_once(desk, broker)
    3
    >>> [(m.key, m.type) for m in broker.published]  # doctest: +NORMALIZE_WHITESPACE
    [('default:1', 'ticket.received'), ('default:2', 'ticket.message_added'),
     ('default:3', 'ticket.status_changed')]
    """

    def __init__(self) -> None:
        #: every message published so far, in order (duplicates included)
        self.published: list[RelayedEvent] = []
        self._subs: list[_MemorySubscription] = []
        self._lock = threading.Lock()

    def publish(self, batch: Sequence[RelayedEvent]) -> None:
        wire = [encode(m) for m in batch]
        with self._lock:
            self.published.extend(decode(w) for w in wire)
            subs = list(self._subs)
        for sub in subs:
            for w in wire:
                sub.offer(w)

    def subscribe(self, desk: str | None = None) -> _MemorySubscription:
        sub = _MemorySubscription(self, desk)
        with self._lock:
            self._subs.append(sub)
        return sub

    def _drop(self, sub: _MemorySubscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def close(self) -> None:
        with self._lock:
            subs, self._subs = self._subs, []
        for sub in subs:
            sub.closed = True


class _MemorySubscription:
    def __init__(self, broker: MemoryRelay, desk: str | None) -> None:
        self.broker = broker
        self.desk = desk
        self.closed = False
        self._queue: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    def offer(self, wire: bytes) -> None:
        self._queue.put(wire)

    def fetch(self, timeout: float) -> list[RelayedEvent]:
        out: list[RelayedEvent] = []
        try:
            first = self._queue.get(timeout=max(timeout, 0.0)) if timeout > 0 else None
        except queue.Empty:
            return out
        pending = [first] if first is not None else []
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for wire in pending:
            message = decode(wire)
            if self.desk is None or message.desk == self.desk:
                out.append(message)
        return out

    def close(self) -> None:
        self.closed = True
        self.broker._drop(self)
