"""The subscriber: events other processes made, signalled on this process's desk."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import blinker

from ..domain._errors import ConfigurationError, RelayError
from ._open import open_relay
from ._port import EventFeed, RelayedEvent, Subscription

if TYPE_CHECKING:
    from .._desk_core import DeskCore

__all__ = ["RelaySubscriber"]

log = logging.getLogger("supportkit.relay")


class RelaySubscriber:
    """Signals on *desk* the events of its desk that other processes committed.

    It subscribes to the broker (a URL for :func:`open_relay`, or any
    :class:`EventFeed`) and sends each event it receives on the desk's own
    signals (``desk.signals.event`` and the per-type ones), exactly as the
    desk does after its own commits, so a subscriber there (a live chat, the
    server-sent events of :mod:`supportkit.web`) sees the events of every
    process. Each event is signalled once per process:

    - events this process committed were signalled at commit; the subscriber
      learns their sequence numbers (``desk.signals.published``) and drops
      the broker's copy;
    - a duplicate from the broker (a relay crashed between publishing and
      marking) has a sequence number already seen, and is dropped.

    The last *remember* sequence numbers are kept. Events that are signalled
    here are also sent on :attr:`remote` (keywords ``event`` and ``seq``), for
    receivers that act only on other processes' events. The subscription sees
    events published after :meth:`start`; while the broker is unreachable it
    tries again (every event stays in the database; the signals are live
    notifications, not a store).

    >>> from supportkit import SupportDesk
    >>> from supportkit.relay import MemoryRelay, RelaySubscriber, relay_once
    >>> from supportkit.storage.memory import MemoryStorage
    >>> broker, storage = MemoryRelay(), MemoryStorage()
    >>> here, there = SupportDesk(storage), SupportDesk(storage)  # two "processes"
    >>> seen = []
    >>> _ = here.signals.event.connect(lambda desk, event: seen.append(event.type_name), weak=False)
    >>> with RelaySubscriber(here, broker) as subscriber:
    ...     _ = there.receive("email", "ann@example.com", "Hello")
    ...     relay_once(there, broker)
    ...     subscriber.wait_for(3)
    3
    True
    >>> seen
    ['ticket.received', 'ticket.message_added', 'ticket.status_changed']
    """

    def __init__(
        self,
        desk: DeskCore,
        feed: EventFeed | str,
        *,
        remember: int = 100_000,
        poll: float = 0.5,
    ) -> None:
        if remember < 1:
            raise ConfigurationError("remember must be at least 1")
        self.desk = desk
        self.desk_key: str = desk.storage.desk
        self._owns_feed = isinstance(feed, str)
        self.feed: EventFeed = open_relay(feed) if isinstance(feed, str) else feed
        if not isinstance(self.feed, EventFeed):
            raise ConfigurationError(
                f"{type(feed).__name__} cannot be subscribed to: give a broker URL or an "
                "object with subscribe(desk) -> Subscription"
            )
        self.remember = remember
        self.poll = poll
        #: events of other processes, after they were signalled on the desk
        self.remote = blinker.Signal("remote events")
        #: events signalled here / broker copies dropped as already seen
        self.signalled = 0
        self.dropped = 0
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._lock = threading.Lock()
        self._count = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sub: Subscription | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> RelaySubscriber:
        """Subscribe now (events published from here on are received) and start the thread.

        A broker that does not answer yet is logged and subscribed to by the thread as
        soon as it does (a web process starts even while its broker is down)."""
        if self._thread is not None:
            raise ConfigurationError("this subscriber is started already")
        self.desk.signals.published.connect(self._on_local, sender=self.desk, weak=False)
        try:
            self._sub = self.feed.subscribe(self.desk_key)
        except RelayError as exc:
            log.warning("cannot subscribe to the broker yet (%s); trying again", exc)
        self._thread = threading.Thread(
            target=self._run, name=f"supportkit-relay-subscriber-{self.desk_key}", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop receiving, and close the subscription (and the feed, if opened from a URL)."""
        self._stop.set()
        self.desk.signals.published.disconnect(self._on_local, sender=self.desk)
        if self._thread is not None:
            self._thread.join(self.poll + 10)
            self._thread = None
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        if self._owns_feed:
            close = getattr(self.feed, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> RelaySubscriber:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least *count* events were signalled here (for tests and demos)."""
        with self._count:
            return self._count.wait_for(lambda: self.signalled >= count, timeout)

    # -- receiving ------------------------------------------------------------------------
    def _on_local(self, sender: Any, *, events: Sequence[Any], **_: Any) -> None:
        with self._lock:
            for se in events:
                self._note(se.seq)

    def _note(self, seq: int) -> bool:
        """Remember *seq*; False if it was seen already (caller holds the lock)."""
        if seq in self._seen:
            self._seen.move_to_end(seq)
            return False
        self._seen[seq] = None
        if len(self._seen) > self.remember:
            self._seen.popitem(last=False)
        return True

    def handle(self, messages: Sequence[RelayedEvent]) -> int:
        """Signal the events of *messages* not seen before; returns how many it signalled."""
        fresh = []
        with self._lock:
            for m in messages:
                if m.desk != self.desk_key:
                    continue
                if self._note(m.seq):
                    fresh.append(m)
                else:
                    self.dropped += 1
        for m in fresh:
            self.desk.emit(m.event)
            for receiver in list(self.remote.receivers_for(self.desk)):
                try:
                    receiver(self.desk, event=m.event, seq=m.seq)
                except Exception:
                    log.exception("remote-event receiver %r failed on %s", receiver, m.key)
            with self._count:
                self.signalled += 1
                self._count.notify_all()
        return len(fresh)

    def _run(self) -> None:
        pause = 0.5
        while not self._stop.is_set():
            try:
                if self._sub is None:
                    self._sub = self.feed.subscribe(self.desk_key)
                    log.info("subscribed to the broker again")
                messages = self._sub.fetch(self.poll)
                pause = 0.5
            except Exception as exc:
                log.warning(
                    "broker subscription failed (%s); again in %.1fs",
                    exc,
                    pause,
                    exc_info=not isinstance(exc, RelayError),
                )
                sub, self._sub = self._sub, None
                if sub is not None:
                    try:
                        sub.close()
                    except Exception:
                        log.debug("closing a failed subscription", exc_info=True)
                self._stop.wait(pause)
                pause = min(pause * 2, 30.0)
                continue
            if messages:
                self.handle(messages)
