"""Store first, claim, process once: the one raw-inbound path every channel uses.

What arrived is stored raw and claimed (a lease) in one transaction, then
processed. Nothing acknowledged is lost:

- a process killed after storing leaves the row ``pending`` with a lease
  that runs out; the same message arriving again, or :func:`claim_stale`
  (the worker's ``reprocess()`` loop), claims it and processes it then;
- a message that fails for a lasting reason is ``failed`` with its error
  (operators list them with ``list_raw_inbound("failed")``); ``reprocess()``
  tries it again once per lease;
- a transient failure (the database went away) leaves it ``pending``;
- two processes never hold one row at once (the claim is one conditional
  update in the database), and processing it twice adds nothing twice:
  the registered message carries the raw's external id, which the desk
  deduplicates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from ..domain._errors import ConcurrencyConflict, StorageError, SupportKitError
from ..ports._storage import RawInbound

if TYPE_CHECKING:
    from ..desk import SupportDesk

__all__ = ["DEFAULT_LEASE", "Claim", "claim_stale", "describe_error", "finish", "store_and_claim"]

log = logging.getLogger("supportkit.channels")

#: how long a process may hold a raw message before another one takes it over
DEFAULT_LEASE = timedelta(minutes=5)

#: errors after which the same raw message may well succeed: leave it pending
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (StorageError, ConcurrencyConflict)


@attrs.frozen
class Claim:
    """The outcome of storing a raw message: ``fresh`` (stored now, ours to process),
    ``retaken`` (stored before, unfinished, now ours), or ``held`` (someone else has
    it, or it is finished). ``raw`` is the stored row (None only when unknown)."""

    kind: str
    raw: RawInbound | None

    @property
    def ours(self) -> bool:
        return self.kind in ("fresh", "retaken")


def store_and_claim(
    desk: SupportDesk,
    raw: RawInbound,
    lease: timedelta,
    also: Callable[..., None] | None = None,
) -> Claim:
    """Store *raw* and claim it in one transaction; if its key is stored already, try to
    claim that row instead (a crashed or failed earlier attempt). *also(uow)* runs in the
    same transaction (the IMAP cursor)."""
    now = desk.clock.now()
    with desk.storage.unit_of_work() as uow:
        fresh = uow.add_raw_inbound(raw)
        if also is not None:
            also(uow)
        if fresh:
            claimed = uow.claim_raw_inbound(raw.id, now, now + lease)
            uow.commit()
            return Claim("fresh", claimed or raw)
        assert raw.external_id is not None  # add_raw_inbound refuses only known keys
        existing = uow.raw_inbound_by_key(raw.channel, raw.external_id)
        taken = None
        if existing is not None:
            taken = uow.claim_raw_inbound(existing.id, now, now + lease)
        uow.commit()
    if taken is not None:
        return Claim("retaken", taken)
    return Claim("held", existing)


def claim_stale(
    desk: SupportDesk, channel_prefix: str, lease: timedelta, limit: int, exact: str | None = None
) -> list[RawInbound]:
    """Claim up to *limit* rows left ``pending`` past their lease, or ``failed``; each
    claim is its own conditional update, so concurrent workers split the rows."""
    now = desk.clock.now()
    with desk.storage.unit_of_work() as uow:
        candidates = uow.claimable_raw_inbound(now, channel_prefix, limit)
    out = []
    for row in candidates:
        if exact is not None and row.channel != exact:
            continue
        with desk.storage.unit_of_work() as uow:
            taken = uow.claim_raw_inbound(row.id, now, now + lease)
            uow.commit()
        if taken is not None:
            out.append(taken)
    return out


def describe_error(exc: BaseException) -> str:
    """``Type: message`` for the raw row's error column and the outcome."""
    return f"{type(exc).__name__}: {exc}"[:2000]


def finish(
    desk: SupportDesk,
    raw_id: str,
    status: str,
    ticket_id: str | None = None,
    error: str | None = None,
    also: Callable[..., None] | None = None,
) -> None:
    """Record what became of a claimed raw message (and *also(uow)*, in one transaction)."""
    with desk.storage.unit_of_work() as uow:
        uow.update_raw_inbound(raw_id, status, ticket_id, error)
        if also is not None:
            also(uow)
        uow.commit()


def failure_status(exc: BaseException, where: str) -> str:
    """``pending`` after a transient error (retried once the lease runs out), else
    ``failed``; anything outside :class:`SupportKitError` is a bug and is logged."""
    if isinstance(exc, TRANSIENT_ERRORS):
        log.warning("%s: transient failure, kept pending for a retry: %s", where, exc)
        return "pending"
    if not isinstance(exc, SupportKitError):
        log.error("%s failed unexpectedly; kept as failed", where, exc_info=exc)
    return "failed"
