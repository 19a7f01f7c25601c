"""Relaying the outbox: claim a batch under a lease, publish it, mark it relayed."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ..domain._errors import ConfigurationError
from ..ports._storage import Storage
from ._port import EventRelay, RelayedEvent

if TYPE_CHECKING:
    from .._desk_core import DeskCore

__all__ = ["relay_once", "run_relay"]

log = logging.getLogger("supportkit.relay")
T = TypeVar("T")


def _split(storage_or_desk: Any) -> tuple[Storage, DeskCore | None]:
    if isinstance(storage_or_desk, Storage):
        return storage_or_desk, None
    storage = getattr(storage_or_desk, "storage", None)
    if isinstance(storage, Storage):
        return storage, storage_or_desk
    raise ConfigurationError(
        f"relay_once needs a Storage or a SupportDesk, got {type(storage_or_desk).__name__}"
    )


def _claimant() -> str:
    """Who claims one batch: host, process, and this call (two threads never share a claim)."""
    return f"{socket.gethostname()}:{os.getpid()}:relay-{uuid.uuid4().hex[:8]}"


def relay_once(
    storage_or_desk: Any, relay: EventRelay, *, batch: int = 500, lease: float = 30.0
) -> int:
    """Relay one batch of the outbox to *relay*'s broker; returns how many events it published.

    The oldest events not yet relayed are *claimed* for *lease* seconds in one
    transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so relays in many
    processes never publish the same batch; then published, and marked relayed
    only after the broker confirmed them. A relay that dies between publishing
    and marking leaves its claim to expire: another relay publishes the batch
    again, with the same keys (at least once). A publish that fails raises
    :class:`~supportkit.relay.RelayError` and marks nothing.

    Several threads or processes may call it at once on one database; a desk
    (rather than a bare storage) lends its clock and its retries on transient
    database errors.
    """
    if batch < 1:
        raise ConfigurationError(f"batch must be at least 1, got {batch}")
    if lease <= 0:
        raise ConfigurationError(f"lease must be a positive number of seconds, got {lease}")
    storage, desk = _split(storage_or_desk)
    retrying: Callable[[Callable[[], Any]], Any] = (
        desk.retrying if desk is not None else (lambda work: work())
    )
    owner = _claimant()
    now = desk.clock.now() if desk is not None else datetime.now(UTC)

    def claim() -> list[Any]:
        with storage.unit_of_work() as uow:
            claimed = uow.claim_events(owner, now, now + timedelta(seconds=lease), batch)
            uow.commit()
        return claimed

    claimed = retrying(claim)
    if not claimed:
        return 0
    messages = [RelayedEvent(storage.desk, se.seq, se.event) for se in claimed]
    relay.publish(messages)

    def mark() -> int:
        with storage.unit_of_work() as uow:
            held = uow.mark_relayed([m.seq for m in messages], owner)
            uow.commit()
        return int(held)

    held = retrying(mark)
    if held < len(messages):
        log.warning(
            "relayed %d events but held the claim of only %d (the lease of %.1fs ran out); "
            "another relay publishes the rest again: consumers drop them by sequence number",
            len(messages),
            held,
            lease,
        )
    return len(messages)


def run_relay(
    storage_or_desk: Any,
    relay: EventRelay,
    stop: threading.Event,
    *,
    idle: float = 0.2,
    batch: int = 500,
    lease: float = 30.0,
) -> int:
    """Relay until *stop* is set: a full batch goes on at once, an empty outbox waits *idle*
    seconds. A failing batch (broker down, database busy) is logged and tried again after
    a growing pause (at most 30 s). Returns how many events were published."""
    total = 0
    pause = idle
    while not stop.is_set():
        try:
            n = relay_once(storage_or_desk, relay, batch=batch, lease=lease)
        except Exception:
            log.exception("relaying the outbox failed; trying again in %.1fs", pause)
            stop.wait(pause)
            pause = min(pause * 2, 30.0)
            continue
        pause = idle
        total += n
        if n < batch:
            stop.wait(idle)
    return total
