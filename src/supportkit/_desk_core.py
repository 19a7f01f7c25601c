"""The core of SupportDesk: wiring, running use cases in a unit of work, publishing events."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from ._batch import Batch, BatchLocal
from ._context import DeskContext
from ._ids import TimeOrderedIds
from ._signals import DeskSignals
from .domain._errors import (
    BatchAborted,
    ConcurrencyConflict,
    ConfigurationError,
    MalformedMessage,
    TransientStorageError,
    ValidationError,
)
from .domain._events import (
    DomainEvent,
    TicketReceived,
    event_type,
)
from .domain._lifecycle import Lifecycle, default_lifecycle
from .domain._model import (
    Ticket,
    ensure_utc,
)
from .policies._channel_hours import ChannelHours
from .policies._identity_linking import IdentityLinking
from .policies._kinds import DEFAULT_KINDS, kinds_of
from .policies._tiers import TierLadder
from .ports._clock import Clock, SystemClock
from .ports._storage import Storage, StoredEvent, Timer
from .typing import Extension

__all__ = ["DeskCore", "DeskSignals", "TimerHandler", "TimerRun", "require_text"]


log = logging.getLogger("supportkit")
T = TypeVar("T")

TimerHandler = Callable[[DeskContext, Timer], None]


@attrs.frozen
class TimerRun:
    """What :meth:`DeskCore.tick` did with one claimed timer, for a caller that logs each.

    *outcome*: ``fired`` (its handler ran and committed), ``taken`` (another
    process fired or moved it meanwhile: nothing done), ``failed`` (the handler
    raised; released for the next tick) or ``unhandled`` (this desk has no handler
    for its kind: left scheduled, and once the claim's lease ends a desk with the
    handler fires it; nothing is dropped). *ticket_number*: the timer's ticket when
    the handler loaded it.
    """

    timer: Timer
    outcome: str
    seconds: float
    ticket_number: int | None = None


class DeskCore:
    """What every part of the desk shares: storage, clock, lifecycles, tiers, ids,
    in-transaction handlers and timers, running a use case and publishing its events."""

    def __init__(
        self,
        storage: Storage | None = None,
        *,
        clock: Clock | None = None,
        lifecycle: Lifecycle | None = None,
        lifecycles: Iterable[Lifecycle] = (),
        tiers: Sequence[str] = ("L1", "L2", "L3"),
        ids: Callable[[], str] | None = None,
        max_text_chars: int = 1_000_000,
        outbox_mark_batch: int = 64,
        extensions: Iterable[Extension] = (),
        channel_hours: ChannelHours | None = None,
        identity_linking: IdentityLinking | None = None,
        kinds: Iterable[str] = DEFAULT_KINDS,
        retries: int = 8,
        timer_lease: timedelta = timedelta(seconds=60),
        first_reply_event: str | None = "start_diagnosis",
    ) -> None:
        if storage is None:
            from .storage.memory import MemoryStorage

            storage = MemoryStorage()
        self.storage = storage
        self.clock: Clock = clock or SystemClock()
        self.lifecycle = lifecycle or default_lifecycle()
        self._lifecycles: dict[str, Lifecycle] = {self.lifecycle.name: self.lifecycle}
        for lc in lifecycles:
            if lc.name in self._lifecycles and self._lifecycles[lc.name] is not lc:
                raise ConfigurationError(f"two lifecycles are named {lc.name!r}")
            self._lifecycles[lc.name] = lc
        self.ladder = TierLadder(tuple(tiers))  # refuses empty, blank or repeated tiers
        self.tiers: tuple[str, ...] = self.ladder.tiers
        self._ids = ids or TimeOrderedIds()
        if max_text_chars <= 0:
            raise ConfigurationError("max_text_chars must be positive")
        self.max_text_chars = max_text_chars
        #: the lifecycle event an agent's first public reply fires when the ticket's
        #: lifecycle allows it then (``registered`` -> ``diagnosing``: tracking says
        #: "in progress"); None leaves the status alone. The default applies where
        #: a lifecycle has it; an event named by the host must exist.
        self.first_reply_event = first_reply_event
        if first_reply_event not in (None, "start_diagnosis") and not any(
            first_reply_event in lc.events for lc in self._lifecycles.values()
        ):
            raise ConfigurationError(
                f"first_reply_event {first_reply_event!r} is not an event of any lifecycle "
                f"of this desk; use one of {sorted(self.lifecycle.events)} or None"
            )
        #: versions the caller saw (``expect_version``), checked when a use case loads
        self.expected_versions: ContextVar[Mapping[str, int] | None] = ContextVar(
            f"supportkit-expected-{id(self)}", default=None
        )
        self.signals = DeskSignals()
        self._handlers: dict[type[DomainEvent], list[Callable[[DeskContext, Any], None]]] = (
            defaultdict(list)
        )
        self._timer_handlers: dict[str, TimerHandler] = {}
        self._to_mark: list[int] = []
        #: the threads sharing this desk (a WSGI server's) take and return marks under it
        self._marks_lock = threading.Lock()
        self._batch = BatchLocal()
        self._owner: tuple[int, str] = (0, "")
        if retries < 0:
            raise ConfigurationError("retries must be 0 or more")
        self.retries = retries
        if timer_lease <= timedelta(0):
            raise ConfigurationError("timer_lease must be a positive duration")
        self.timer_lease = timer_lease
        if outbox_mark_batch < 1:
            raise ConfigurationError("outbox_mark_batch must be at least 1")
        self.outbox_mark_batch = outbox_mark_batch
        if channel_hours is not None and not isinstance(channel_hours, ChannelHours):
            raise ConfigurationError(
                f"channel_hours must be a ChannelHours (e.g. service_hours()), got {channel_hours!r}"
            )
        #: when each channel is open and what it does when closed (None: always open)
        self.channel_hours = channel_hours
        from ._calls import install_calls
        from ._out_of_hours import mark_out_of_hours

        self.on(TicketReceived, mark_out_of_hours)  # no-op without channel hours
        install_calls(self)
        #: the kinds of support this desk offers (``ticket.kind`` is one of them)
        self.kinds: tuple[str, ...] = kinds_of(kinds)
        #: which senders are verified, and whether matching identities link profiles
        self.identity_linking = identity_linking or IdentityLinking()
        self.extensions = list(extensions)
        for ext in self.extensions:
            ext.install(self)

    # ------------------------------------------------------------------ wiring
    @contextlib.contextmanager
    def expect_version(self, ticket_id: str, version: int) -> Iterator[None]:
        """Use cases run inside this block change *ticket_id* only if it is still at *version*.

        The check happens when the use case loads the ticket, inside its
        transaction, and the save is conditional on that version, so a write
        based on what the caller saw never overwrites a newer change: it
        raises :class:`~supportkit.StaleVersion` (an HTTP ``If-Match``).
        """
        token = self.expected_versions.set(
            {**(self.expected_versions.get() or {}), ticket_id: version}
        )
        try:
            yield
        finally:
            self.expected_versions.reset(token)

    def new_id(self) -> str:
        return self._ids()

    @property
    def lifecycles(self) -> tuple[Lifecycle, ...]:
        """Every lifecycle this desk knows (the default one first)."""
        return tuple(self._lifecycles.values())

    def lifecycle_of(self, ticket: Ticket) -> Lifecycle:
        try:
            return self._lifecycles[ticket.lifecycle]
        except KeyError:
            raise ConfigurationError(
                f"ticket {ticket.id} uses lifecycle {ticket.lifecycle!r}, which this desk "
                f"does not know; pass it in SupportDesk(lifecycles=[...])"
            ) from None

    def open_statuses(self) -> frozenset[str]:
        """The statuses of every lifecycle of this desk in which a ticket is still open:
        neither final nor ``resolved`` (the one definition queues and profiles use)."""
        return frozenset(
            s
            for lc in self._lifecycles.values()
            for s in lc.states
            if not lc.is_final(s) and s != "resolved"
        )

    def check_tier(self, tier: str) -> None:
        if tier not in self.tiers:
            raise ValidationError(
                f"unknown tier {tier!r}; this desk's tiers are {list(self.tiers)}"
            )

    def on(self, event_cls: type[T], handler: Callable[[DeskContext, T], None]) -> None:
        """Run *handler(ctx, event)* inside the transaction of every use case recording *event_cls*.

        In-transaction handlers are how policies (routing, SLA clocks,
        triage, the bot) take part in a use case: what they change is stored
        atomically with it. Subscribe to ``desk.signals`` instead for
        side effects after commit.
        """
        self._handlers[event_cls].append(handler)  # type: ignore[index]

    def on_timer(self, kind: str, handler: TimerHandler) -> None:
        """Handle timers of *kind* when :meth:`tick` finds them due."""
        if kind in self._timer_handlers:
            raise ConfigurationError(f"a handler for timer kind {kind!r} is installed already")
        self._timer_handlers[kind] = handler

    def dispatch_in_transaction(self, ctx: DeskContext, event: DomainEvent) -> None:
        for cls in type(event).__mro__:
            for handler in self._handlers.get(cls, ()):
                handler(ctx, event)

    def validate_text(self, text: str, html: str | None, *, what: str) -> None:
        if not isinstance(text, str):
            raise MalformedMessage(f"{what}: text must be str, got {type(text).__name__}")
        size = len(text) + len(html or "")
        if size > self.max_text_chars:
            raise MalformedMessage(
                f"{what} is {size} characters, above this desk's limit of "
                f"{self.max_text_chars}; send large content as an attachment"
            )

    # ------------------------------------------------------------------ running use cases
    def run(self, use_case: Callable[[DeskContext], T], *, now: datetime | None = None) -> T:
        """Run *use_case(ctx)* in one unit of work, commit, then publish its events.

        Public so that extensions can add use cases with the same guarantees.
        *now* overrides the clock for this use case (``tick`` passes its instant).
        When the database gives up on the transaction (a deadlock, a
        serialization failure, a version read in the use case gone stale), the
        use case runs again from the start, up to ``retries`` times with a
        growing, jittered pause; nothing of a failed attempt is kept.
        """
        batch = self._batch.current
        if batch is not None:
            return batch.run(self, use_case, ensure_utc(now or self.clock.now()))
        return self.retrying(lambda: self._run_once(use_case, now))

    def retrying(self, work: Callable[[], T]) -> T:
        """Run *work* (which opens its own units of work) again while the database gives
        up on it (TransientStorageError, a retryable ConcurrencyConflict), at most
        ``retries`` more times, pausing a growing, jittered while in between."""
        attempt = 0
        while True:
            try:
                return work()
            except (ConcurrencyConflict, TransientStorageError) as exc:
                attempt += 1
                if not getattr(exc, "retryable", False) or attempt > self.retries:
                    raise
                pause = min(0.002 * 2**attempt, 0.25)
                log.debug("retried after %s (attempt %d)", exc, attempt)
                time.sleep(random.uniform(0, pause))

    def _run_once(self, use_case: Callable[[DeskContext], T], now: datetime | None) -> T:
        marking = self._take_marks(self.outbox_mark_batch)
        try:
            with self.storage.unit_of_work() as uow:
                if marking:
                    uow.mark_published(marking)
                ctx = DeskContext(self, uow, ensure_utc(now or self.clock.now()))
                result = use_case(ctx)
                ctx.flush()
                uow.commit()
        except BaseException:
            self._return_marks(marking)
            raise
        self.storage.when_committed(ctx.stored, self._publish)
        return result

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Run every use case called inside the block in one transaction.

        For imports and bulk changes: the use cases see each other's writes,
        everything commits once when the block ends, and the events are
        published after that commit (none if it fails). An exception leaving
        the block rolls everything back; so does a use case that failed inside
        it even if the caller caught its error (then :class:`BatchAborted` is
        raised when the block ends, since the failed use case may have written
        part of its rows). Batches on one thread nest into the outermost.

        >>> from supportkit import SupportDesk
        >>> desk = SupportDesk()
        >>> with desk.batch():
        ...     a = desk.receive("email", "ann@example.com", "First")
        ...     b = desk.receive("email", "bob@example.com", "Second")
        >>> [desk.get_ticket(t.id).number for t in (a, b)]
        [1, 2]
        """
        local = self._batch
        if local.current is not None:
            yield
            return
        marking = self._take_marks(1)
        try:
            with self.storage.unit_of_work() as uow:
                if marking:
                    uow.mark_published(marking)
                batch = local.current = Batch(uow)
                try:
                    yield
                finally:
                    local.current = None
                if batch.failed is not None:
                    raise BatchAborted(
                        f"a use case failed inside desk.batch() after {batch.failed_after} "
                        f"succeeded ({type(batch.failed).__name__}: {batch.failed}); the whole "
                        "batch was rolled back: fix the input and run the batch again"
                    ) from batch.failed
                uow.commit()
        except BaseException:
            self._return_marks(marking)
            raise
        self.storage.when_committed(batch.stored, self._publish)

    def _take_marks(self, at_least: int) -> list[int]:
        """The delivered events' sequence numbers to mark published, if at least *at_least*."""
        with self._marks_lock:
            if not self._to_mark or len(self._to_mark) < at_least:
                return []
            marks, self._to_mark = self._to_mark, []
            return marks

    def _return_marks(self, marks: list[int]) -> None:
        if marks:
            with self._marks_lock:
                self._to_mark[:0] = marks

    def _publish(self, stored: Sequence[StoredEvent]) -> None:
        self._announce(stored)
        for se in stored:
            self._deliver(se.event)
            with self._marks_lock:
                self._to_mark.append(se.seq)

    def _announce(self, stored: Sequence[StoredEvent]) -> None:
        published = self.signals.published
        if stored and published.receivers:
            for r in list(published.receivers_for(self)):
                try:
                    r(self, events=stored)
                except Exception:
                    log.exception("published receiver %r failed", r)

    def emit(self, event: DomainEvent) -> None:
        """Send *event* to this desk's signal subscribers, as after a commit; nothing is stored.

        For events another process committed, brought by the event relay
        (:class:`~supportkit.relay.RelaySubscriber`), so that subscribers here see
        every process's events. A failing subscriber is logged and reported on
        ``signals.subscriber_failed``, as usual.
        """
        self._deliver(event)

    def _deliver(self, event: DomainEvent) -> None:
        typed = self.signals.typed.get(event_type(event))
        for signal in (self.signals.event, typed):
            if signal is None or not signal.receivers:
                continue
            for receiver in list(signal.receivers_for(self)):
                try:
                    receiver(self, event=event)
                except Exception as exc:
                    log.exception("supportkit subscriber %r failed on %s", receiver, event)
                    self._report_failure(event, receiver, exc)

    def _report_failure(self, event: DomainEvent, receiver: Any, error: Exception) -> None:
        for r in list(self.signals.subscriber_failed.receivers_for(self)):
            try:
                r(self, event=event, receiver=receiver, error=error)
            except Exception:
                log.exception("subscriber_failed receiver %r failed", r)

    def publish_pending(self, limit: int = 1000) -> int:
        """Publish events that were stored but not yet delivered (after a crash).

        Delivered events are marked published in batches (``outbox_mark_batch``,
        written with a later use case, or at once by :meth:`flush_outbox`), so
        delivery is at least once: after a crash a subscriber may see up to one
        batch again. Returns the number published. (To hand every event to
        other processes, relay the outbox to a broker: :mod:`supportkit.relay`.)
        """
        marking = self._take_marks(1)
        try:
            with self.storage.unit_of_work() as uow:
                if marking:
                    uow.mark_published(marking)
                pending = uow.pending_events(limit)
                uow.commit()
        except BaseException:
            self._return_marks(marking)
            raise
        self._announce(pending)
        for se in pending:
            self._deliver(se.event)
        with self.storage.unit_of_work() as uow:
            uow.mark_published([se.seq for se in pending])
            uow.commit()
        return len(pending)

    def flush(self) -> int:
        """Publish the events of use cases whose host transaction has committed since.

        Only needed on a storage joined to a host's own transaction
        (:class:`~supportkit.storage.host.HostStorage`) when the host's framework
        does not announce its commits (a plain ``sqlite3`` or psycopg connection,
        a SQLAlchemy ``Connection``): call it after the host's commit. Events of a
        transaction the host rolled back are dropped. Returns how many were published.
        """
        return self.storage.flush_committed()

    def flush_outbox(self) -> None:
        """Mark delivered events as published now (otherwise done with the next use case)."""
        marking = self._take_marks(1)
        if marking:
            try:
                with self.storage.unit_of_work() as uow:
                    uow.mark_published(marking)
                    uow.commit()
            except BaseException:
                self._return_marks(marking)
                raise

    # ------------------------------------------------------------------ time
    @property
    def owner_id(self) -> str:
        """Who this desk is when it claims timers and events: host, process, desk."""
        pid = os.getpid()
        if self._owner[0] != pid:  # a forked child is another claimant
            self._owner = (pid, f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}")
        return self._owner[1]

    def tick(
        self,
        now: datetime | None = None,
        *,
        limit: int = 1000,
        report: Callable[[TimerRun], None] | None = None,
    ) -> int:
        """Fire due timers (SLA warnings and breaches, reminders); call it from a scheduler.

        Timers are found by an index on their due time, never by scanning
        tickets, and *claimed* with a lease (``timer_lease``): several
        processes may tick at once, and each due timer fires exactly once,
        since the firing transaction removes the timer only if this desk
        still holds its claim. A process that dies mid-timer leaves it to
        another once the lease runs out. Each timer is handled in its own
        transaction; a handler that raises is logged, its claim is released
        so the next tick retries it, and the others still fire. Returns how
        many fired. *report*, if given, is called after each claimed timer with
        a :class:`TimerRun` (what happened, how long it took): the worker logs it.
        """
        when = ensure_utc(now) if now else ensure_utc(self.clock.now())
        owner = self.owner_id

        def claim() -> list[Timer]:
            with self.storage.unit_of_work() as uow:
                claimed = uow.claim_timers(owner, when, when + self.timer_lease, limit)
                uow.commit()
            return claimed

        due = self.retrying(claim)
        fired = 0
        failed: list[str] = []
        for timer in due:
            handler = self._timer_handlers.get(timer.kind)
            if handler is None:
                # not ours to fire: a desk built without the extension that scheduled it (a bare
                # worker). It stays scheduled, and our claim lapses after the lease, so a desk
                # with the handler fires it; dropping it would lose an SLA breach or a reminder
                log.warning(
                    "no handler for timer kind %r on this desk; %s left for a desk that has one",
                    timer.kind,
                    timer.key,
                )
                if report is not None:
                    report(TimerRun(timer, "unhandled", 0.0, None))
                continue

            def use_case(
                ctx: DeskContext, timer: Timer = timer, handler: Any = handler
            ) -> tuple[bool, int | None]:
                if not ctx.uow.take_timer(timer, owner):
                    return False, None  # another process fired it, or it was moved meanwhile
                handler(ctx, timer)
                loaded = ctx.loaded_ticket(timer.ticket_id)
                return True, loaded.number if loaded is not None else None

            started = time.perf_counter()
            number = None
            try:
                took, number = self.run(use_case, now=when)
            except Exception:  # one failing timer must not block every timer due after it
                log.exception(
                    "timer %s (%s) failed; it stays scheduled and is retried on the next tick",
                    timer.key,
                    timer.kind,
                )
                failed.append(timer.key)
                outcome = "failed"
            else:
                fired += int(took)
                outcome = "fired" if took else "taken"
            if report is not None:
                report(TimerRun(timer, outcome, time.perf_counter() - started, number))
        if failed:

            def release() -> None:
                with self.storage.unit_of_work() as uow:
                    uow.release_timers(failed, owner)
                    uow.commit()

            self.retrying(release)
        return fired


def require_text(text: str, what: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise MalformedMessage(f"{what} text is empty; write something for the customer or team")
