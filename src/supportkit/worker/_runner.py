"""The worker: builds the host's desk, runs its loops until told to stop.

Loops run one after the other in one thread, each pass bounded by its
batch. :meth:`Worker.stop` (``SIGTERM``/``SIGINT`` in ``supportkit worker``)
lets the pass under way finish, then the worker returns; nothing is cut
half-way, and whatever a killed worker held (timers, events, raw
messages) goes to another one when its lease ends.
"""

from __future__ import annotations

import copy
import importlib
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..domain._errors import SupportKitError
from ._config import WorkerConfig, WorkerConfigError
from ._log import ActionLog
from ._loops import (
    AutoCloseLoop,
    Loop,
    MailboxLoop,
    RelayLoop,
    ReprocessLoop,
    TimerLoop,
    mail_source,
    phone_source,
    webhook_source,
)

if TYPE_CHECKING:
    from ..channels.email import EmailChannel
    from ..desk import SupportDesk
    from ..ports import Storage

__all__ = ["Worker", "build_desk", "default_loops"]


def build_desk(config: WorkerConfig) -> SupportDesk:
    """The desk the worker runs: the host's factory's (``desk = "module:function"``),
    called with the storage opened from ``storage_url`` (or with nothing), else a plain
    ``SupportDesk`` over that storage."""
    from ..desk import SupportDesk
    from ..storage import open_storage

    storage = open_storage(config.storage_url) if config.storage_url else None
    if config.desk is None:
        return SupportDesk(storage)
    try:
        return _from_factory(config.desk, storage)
    except BaseException:
        if storage is not None:
            storage.close()
        raise


def _from_factory(name: str, storage: Storage | None) -> SupportDesk:
    from ..desk import SupportDesk

    module_name, _, attr = name.partition(":")
    try:
        factory: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            factory = getattr(factory, part)
    except (ImportError, AttributeError) as exc:
        raise WorkerConfigError(
            f"cannot load the desk factory {name!r} ({type(exc).__name__}: {exc}); "
            "check that its module is importable (PYTHONPATH, the working directory) "
            "and names a function"
        ) from exc
    try:
        desk = factory(storage) if storage is not None else factory()
    except SupportKitError:
        raise
    except Exception as exc:
        called = "factory(storage)" if storage is not None else "factory()"
        raise WorkerConfigError(
            f"the desk factory {name!r} failed when called as {called} "
            f"({type(exc).__name__}: {exc}); it takes the storage opened from storage_url "
            "(or nothing, without storage_url) and returns the host's SupportDesk"
        ) from exc
    if not isinstance(desk, SupportDesk):
        raise WorkerConfigError(
            f"the desk factory {name!r} returned {type(desk).__name__}, not a "
            "SupportDesk; return the desk the host builds"
        )
    return desk


def _email_channel(desk: SupportDesk, name: str, address: str | None = None) -> EmailChannel:
    """The desk's own email channel called *name* (with its attachment store, address and
    limits) if the factory installed one, else a plain one bound to the desk."""
    from ..channels.email import EmailChannel

    for ext in desk.extensions:
        if isinstance(ext, EmailChannel) and ext.name == name:
            return ext
    return EmailChannel(desk, address=address, name=name)


def _webhook(desk: SupportDesk, wanted: bool | None) -> Any:
    if wanted is False:
        return None
    try:
        from ..channels.webhook import WebhookInbound
    except ImportError as exc:
        if wanted:
            raise WorkerConfigError(
                f"reprocess.webhook is on but the webhook channel cannot load ({exc}); "
                "install supportkit[web] or set webhook = false"
            ) from exc
        return None
    return WebhookInbound(desk, allow_unsigned=True)  # reprocessing only: nothing is served


def default_loops(desk: SupportDesk, config: WorkerConfig, log: ActionLog) -> list[Loop]:
    """The loops *config* switches on, in the order each pass runs them."""
    from ..channels.email import poller_from

    loops: list[Loop] = []
    if config.timers.enabled:
        loops.append(TimerLoop(desk, log, config.timers))
    if config.relay.enabled:
        loops.append(RelayLoop(desk, log, config.relay))
    feeds = Counter(m.channel for m in config.mailboxes)
    for i, mailbox in enumerate(config.mailboxes, 1):
        # a copy: two mailboxes may feed one channel, each polled with its own cursor
        channel = copy.copy(_email_channel(desk, mailbox.channel, mailbox.address))
        channel.poller = poller_from(mailbox.url)
        name = f"mailbox:{mailbox.channel}" + (f":{i}" if feeds[mailbox.channel] > 1 else "")
        loops.append(MailboxLoop(desk, log, mailbox, channel, name))
    if config.reprocess.enabled:
        names = config.reprocess.mail_channels
        if names is None:
            names = tuple(dict.fromkeys(m.channel for m in config.mailboxes)) or ("email",)
        sources = [mail_source(desk, _email_channel(desk, name)) for name in names]
        webhook = _webhook(desk, config.reprocess.webhook)
        if webhook is not None:
            sources.append(webhook_source(webhook))
        if config.reprocess.phone:
            from ..channels.phone import PhoneChannel

            sources.append(phone_source(PhoneChannel(desk)))
        loops.append(ReprocessLoop(desk, log, config.reprocess, sources))
    if config.auto_close.enabled:
        loops.append(AutoCloseLoop(desk, log, config.auto_close))
    return loops


class Worker:
    """Runs the production loops of one desk; any number of workers share a database.

    >>> from supportkit import SupportDesk
    >>> from supportkit.worker import Worker, load_config
    >>> worker = Worker(load_config(environ={"SUPPORTKIT_STORAGE_URL": "memory://"}))
    >>> [loop.name for loop in worker.loops]
    ['timers', 'reprocess']
    >>> worker.run(once=True)
    0
    """

    def __init__(
        self,
        config: WorkerConfig,
        *,
        desk: SupportDesk | None = None,
        loops: Sequence[Loop] | None = None,
    ) -> None:
        self.config = config
        self._own_desk = desk is None
        self.desk = desk if desk is not None else build_desk(config)
        self.log = ActionLog(self.desk.owner_id)
        try:
            self.loops = (
                list(loops) if loops is not None else default_loops(self.desk, config, self.log)
            )
        except BaseException:
            if self._own_desk:
                self.desk.storage.close()
            raise
        self._stop = threading.Event()

    def stop(self) -> None:
        """Finish the pass under way, then return from :meth:`run` (signal-handler safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, once: bool = False) -> int:
        """Run the loops until :meth:`stop` (or one pass of each with *once*).

        Returns 0, or 1 when *once* and a pass failed (cron then reports it).
        A failing pass is logged and retried after its interval; it never
        stops the other loops.
        """
        self.log.action("worker", "worker.started", loops=[loop.name for loop in self.loops])
        failed = False
        if once:
            for loop in self.loops:
                if self._stop.is_set():
                    break
                failed = self._pass(loop) is None or failed
        else:
            self._forever()
        self.log.action("worker", "worker.stopped")
        return 1 if failed else 0

    def _forever(self) -> None:
        due = {id(loop): 0.0 for loop in self.loops}
        while not self._stop.is_set():
            for loop in self.loops:
                if self._stop.is_set():
                    return
                if due[id(loop)] > time.monotonic():
                    continue
                more = self._pass(loop)
                due[id(loop)] = time.monotonic() + (0.0 if more else loop.interval)
            pause = min(due.values(), default=time.monotonic() + 1.0) - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)

    def _pass(self, loop: Loop) -> bool | None:
        """One pass of *loop*: whether more is waiting, or None when it failed."""
        started = time.perf_counter()
        try:
            return loop.run_once()
        except Exception as exc:
            what = "loop.failed" if isinstance(exc, SupportKitError) else "loop.crashed"
            self.log.failed(loop.name, what, seconds=time.perf_counter() - started)
            return None

    def close(self) -> None:
        """Write the published marks of events this worker delivered, close the loops'
        connections (the broker's) and, if the worker built the desk, its storage."""
        try:
            self.desk.flush_outbox()
        finally:
            for loop in self.loops:
                close = getattr(loop, "close", None)
                if callable(close):
                    close()
            if self._own_desk:
                self.desk.storage.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
