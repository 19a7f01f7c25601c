"""The worker's loops: each runs one bounded pass of one production job.

A pass returns True when it filled its batch (more may be waiting: the
worker runs it again at once) and False otherwise (the worker waits its
interval). Every decision a pass makes is taken in the database, so any
number of workers may run the same loops on one database:

- timers: ``desk.tick()`` claims due timers with a lease; each fires once;
- relay: ``relay_once()`` claims outbox events with a lease;
- mailboxes: a worker takes a mailbox's turn (a lease stored in the
  database) before polling it, and a message fetched twice is recognised
  by its Message-ID and stored once;
- reprocessing: stale raw inbound rows are claimed one worker at a time;
- auto-close: each ticket is closed in its own use case that re-checks,
  on the locked ticket, that it is still resolved.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..domain._errors import ConfigurationError
from ..ports._storage_records import TicketQuery
from ._config import (
    AutoCloseSettings,
    MailboxSettings,
    RelaySettings,
    ReprocessSettings,
    TimerSettings,
    WorkerConfigError,
)
from ._log import ActionLog

if TYPE_CHECKING:
    from ..channels.email import EmailChannel
    from ..desk import SupportDesk, TimerRun
    from ..relay import EventRelay

__all__ = [
    "AutoCloseLoop",
    "Loop",
    "MailboxLoop",
    "RelayLoop",
    "ReprocessLoop",
    "Source",
    "TimerLoop",
    "mail_source",
    "phone_source",
    "take_turn",
    "webhook_source",
]

#: the kv namespace of the worker's turns (which worker polls a mailbox until when)
TURNS = "supportkit.worker.turns"


@runtime_checkable
class Loop(Protocol):
    """One production job the worker runs in passes (a host may add its own)."""

    name: str
    #: seconds to wait after a pass that did not fill its batch
    interval: float

    def run_once(self) -> bool:
        """One bounded pass; True when more work may be waiting."""


class TimerLoop:
    """Due timers: one ``desk.tick()`` of at most ``batch`` timers per pass."""

    name = "timers"

    def __init__(self, desk: SupportDesk, log: ActionLog, settings: TimerSettings) -> None:
        self.desk, self.log = desk, log
        self.interval, self.batch = settings.interval, settings.batch

    def run_once(self) -> bool:
        seen = 0

        def report(run: TimerRun) -> None:
            nonlocal seen
            seen += 1
            level = {"failed": logging.ERROR, "unhandled": logging.WARNING}.get(
                run.outcome, logging.INFO
            )
            self.log.action(
                self.name,
                f"timer.{run.outcome}",
                seconds=run.seconds,
                ticket=run.ticket_number,
                kind=run.timer.kind,
                level=level,
            )

        self.desk.tick(limit=self.batch, report=report)
        return seen >= self.batch


class RelayLoop:
    """The outbox relayed to the configured broker (:func:`supportkit.relay.relay_once`)."""

    name = "relay"

    def __init__(
        self,
        desk: SupportDesk,
        log: ActionLog,
        settings: RelaySettings,
        relay: EventRelay | None = None,
    ) -> None:
        from ..relay import open_relay

        self.desk, self.log = desk, log
        self.interval, self.batch, self.lease = settings.interval, settings.batch, settings.lease
        if relay is None:
            if settings.url is None:
                raise WorkerConfigError("the relay loop needs [relay] url (a broker URL)")
            relay = open_relay(settings.url)
        self.relay = relay

    def run_once(self) -> bool:
        from ..relay import relay_once

        started = time.perf_counter()
        count = relay_once(self.desk, self.relay, batch=self.batch, lease=self.lease)
        if count:
            seconds = time.perf_counter() - started
            self.log.action(self.name, "events.relayed", seconds=seconds, count=count)
        return count >= self.batch

    def close(self) -> None:
        self.relay.close()


def take_turn(desk: SupportDesk, name: str, owner: str, seconds: float) -> bool:
    """Whether *owner* may do the job *name* now: True (and the turn is *owner*'s for
    *seconds*) unless another worker's turn is still running. Decided in one
    transaction under a database lock, so two workers never both get it."""

    def use_case(ctx: Any) -> bool:
        ctx.uow.lock(f"{TURNS}:{name}")
        held = ctx.uow.kv_get(TURNS, name)
        now = ctx.now
        if held and held.get("owner") != owner and float(held.get("until", 0)) > now.timestamp():
            return False
        ctx.uow.kv_put(TURNS, name, {"owner": owner, "until": now.timestamp() + seconds})
        return True

    return bool(desk.run(use_case))


class MailboxLoop:
    """One IMAP mailbox polled into the desk, by one worker at a time."""

    def __init__(
        self,
        desk: SupportDesk,
        log: ActionLog,
        settings: MailboxSettings,
        channel: EmailChannel,
        name: str | None = None,
    ) -> None:
        self.desk, self.log, self.channel = desk, log, channel
        self.interval = settings.interval
        self.name = name or f"mailbox:{channel.name}"
        poller = channel.poller
        assert poller is not None
        self._turn = f"imap:{poller.username}@{poller.host}:{poller.port}/{poller.folder}"

    def run_once(self) -> bool:
        if not take_turn(self.desk, self._turn, self.log.worker, self.interval):
            return False  # another worker polls it this interval
        for outcome, seconds in _timed(self.channel.poll_each()):
            self.log.action(
                self.name,
                f"mail.{outcome.status}",
                seconds=seconds,
                ticket=_number(self.desk, outcome.ticket_id),
                raw_id=outcome.raw_id,
            )
        return False


#: one kind of kept inbound to reprocess: its name, and a pass of at most n rows yielding
#: (status, ticket number, raw id) per row as each is done
Source = tuple[str, Callable[[int], Iterator[tuple[str, int | None, str | None]]]]


def mail_source(desk: SupportDesk, channel: EmailChannel) -> Source:
    def each(n: int) -> Iterator[tuple[str, int | None, str | None]]:
        for o in channel.reprocess_each(n):
            yield o.status, _number(desk, o.ticket_id), o.raw_id

    return channel.name, each


def webhook_source(webhook: Any) -> Source:
    def each(n: int) -> Iterator[tuple[str, int | None, str | None]]:
        for answer in webhook.reprocess_each(n):
            body = answer.body
            status = "processed" if answer.status == 200 else str(body.get("error", "failed"))
            yield status, body.get("ticket_number"), body.get("raw_id")

    return "webhook", each


def phone_source(phone: Any) -> Source:
    def each(n: int) -> Iterator[tuple[str, int | None, str | None]]:
        for ticket in phone.reprocess_each(n):
            yield ("processed", ticket.number, None) if ticket else ("failed", None, None)

    return phone.name, each


class ReprocessLoop:
    """Stored inbound that was never processed (its process died) or failed before:
    raw mail, webhook bodies, call records, each claimed before it is processed."""

    name = "reprocess"

    def __init__(
        self,
        desk: SupportDesk,
        log: ActionLog,
        settings: ReprocessSettings,
        sources: Sequence[Source],
    ) -> None:
        self.desk, self.log, self.sources = desk, log, list(sources)
        self.interval, self.batch = settings.interval, settings.batch

    def run_once(self) -> bool:
        more = False
        for channel, each in self.sources:
            done = 0
            for (status, number, raw_id), seconds in _timed(each(self.batch)):
                done += 1
                self.log.action(
                    self.name,
                    f"raw.{status}",
                    seconds=seconds,
                    ticket=number,
                    channel=channel,
                    raw_id=raw_id,
                )
            more = more or done >= self.batch
        return more


class AutoCloseLoop:
    """Resolved tickets closed once ``after`` has passed since their resolution.

    The due tickets are selected in the database (resolved before now minus
    ``after``); each is closed in its own use case that checks, on the
    locked ticket, that it is still resolved and due, so a ticket reopened
    meanwhile stays open and two workers closing the same ticket close it once.
    """

    name = "auto_close"

    def __init__(self, desk: SupportDesk, log: ActionLog, settings: AutoCloseSettings) -> None:
        if settings.after is None:
            raise ConfigurationError("auto_close.after is not set")
        self.desk, self.log, self.settings = desk, log, settings
        self.after = timedelta(seconds=settings.after)
        self.interval, self.batch = settings.interval, settings.batch

    def run_once(self) -> bool:
        cutoff = self.desk.clock.now() - self.after
        query = TicketQuery(
            status="resolved", resolved_before=cutoff, oldest_first=True, limit=self.batch
        )
        with self.desk.storage.unit_of_work() as uow:
            due = [(t.id, t.number) for t in uow.find_tickets(query)]
        random.shuffle(due)  # workers that found the same tickets mostly take different ones
        for ticket_id, number in due:
            started = time.perf_counter()
            try:
                closed = self.desk.close_resolved(
                    ticket_id,
                    actor=self.settings.actor,
                    reason=self.settings.reason,
                    resolved_before=cutoff,
                )
            except Exception:
                self.log.failed(self.name, "ticket.close_failed", ticket=number)
                continue
            seconds = time.perf_counter() - started
            # skipped: reopened meanwhile, or another worker closed it first
            what = "ticket.closed" if closed is not None else "ticket.close_skipped"
            self.log.action(self.name, what, seconds=seconds, ticket=number)
        return len(due) >= self.batch


def _timed(items: Iterator[Any]) -> Iterator[tuple[Any, float]]:
    """Each item of *items* with the seconds it took to produce."""
    while True:
        started = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            return
        yield item, time.perf_counter() - started


def _number(desk: SupportDesk, ticket_id: str | None) -> int | None:
    if ticket_id is None:
        return None
    try:
        return desk.get_ticket(ticket_id).number
    except Exception:  # the log line goes out without it
        return None
