"""The one exception tree of supportkit.

::

    SupportKitError
     +-- NotFound                  unknown ticket, customer, agent, ...
     |    +-- TicketNotFound
     +-- ValidationError           malformed input (empty sender, oversized body, ...)
     |    +-- MalformedMessage
     +-- InvalidTransition         an event the ticket's lifecycle does not allow now
     |    +-- GuardRejected        allowed in principle, refused by a guard (no resolution summary)
     +-- LifecycleDefinitionError  a host-defined lifecycle that cannot work
     +-- ConfigurationError        a desk built from inconsistent parts
     +-- ConcurrencyConflict       a stale write (optimistic concurrency)
     |    +-- StaleVersion         the caller saw an older version (HTTP If-Match)
     +-- DuplicateError            something that must be unique already exists
     +-- StorageError              a backend failed; the driver error is the __cause__
     |    +-- TransientStorageError  deadlock, serialization failure, lock timeout: retry
     |         +-- DatabaseBusy       other writers held the database past the wait allowed
     +-- BatchAborted              a use case failed inside desk.batch(): nothing was stored
     +-- ChannelError              a channel could not receive or deliver
     +-- RelayError                a broker did not take a batch of events: relay it again
     +-- PluginError               an entry-point plugin failed to load or validate

Every message says what was wrong, with which value, and what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BatchAborted",
    "ChannelError",
    "ConcurrencyConflict",
    "ConfigurationError",
    "DatabaseBusy",
    "DuplicateError",
    "GuardRejected",
    "InvalidTransition",
    "LifecycleDefinitionError",
    "MalformedMessage",
    "NotFound",
    "PluginError",
    "RelayError",
    "StaleVersion",
    "StorageError",
    "SupportKitError",
    "TicketNotFound",
    "TransientStorageError",
    "ValidationError",
]


class SupportKitError(Exception):
    """Root of every error supportkit raises on purpose."""


class NotFound(SupportKitError, LookupError):
    """Something looked up by id does not exist."""

    def __init__(self, kind: str, key: object, hint: str = "") -> None:
        self.kind = kind
        self.key = key
        msg = f"no {kind} {key!r}"
        if hint:
            msg += f"; {hint}"
        super().__init__(msg)


class TicketNotFound(NotFound):
    def __init__(self, key: object) -> None:
        super().__init__(
            "ticket", key, "check the ticket id, or use SupportDesk.find_tickets() to search"
        )


class ValidationError(SupportKitError, ValueError):
    """Input that cannot be accepted as it is."""


class MalformedMessage(ValidationError):
    """An inbound or outbound message that cannot be stored."""


class InvalidTransition(SupportKitError):
    """A lifecycle event that is not allowed in the ticket's current status."""

    def __init__(
        self,
        ticket: str,
        status: str,
        event: str,
        allowed: Iterable[str],
        detail: str = "",
    ) -> None:
        self.ticket = ticket
        self.status = status
        self.event = event
        self.allowed = tuple(sorted(allowed))
        allowed_txt = ", ".join(self.allowed) if self.allowed else "none (the status is final)"
        msg = (
            f"ticket {ticket} is {status!r}: event {event!r} is not allowed"
            f"{' (' + detail + ')' if detail else ''}; allowed now: {allowed_txt}"
        )
        super().__init__(msg)


class GuardRejected(InvalidTransition):
    """The transition exists but a guard refused it (e.g. resolving without a summary)."""


class LifecycleDefinitionError(SupportKitError, ValueError):
    """A lifecycle definition with unknown, unreachable or missing final states."""


class ConfigurationError(SupportKitError, ValueError):
    """A desk, tier, team, calendar or policy configured inconsistently."""


class ConcurrencyConflict(SupportKitError):
    """A write based on a stale version; nothing was changed.

    ``retryable`` is True when the stale version was read inside the use case
    (the desk retries such a use case itself), False when the caller passed
    the stale version (``expected_version=``): reload, decide again, retry.
    """

    def __init__(
        self,
        kind: str,
        key: object,
        expected: int,
        actual: int | None,
        *,
        retryable: bool = True,
    ) -> None:
        self.kind = kind
        self.key = key
        self.expected = expected
        self.actual = actual
        self.retryable = retryable
        super().__init__(
            f"{kind} {key!r} was changed concurrently (expected version {expected}, "
            f"stored version {actual}); nothing was written: reload it and retry the use case"
        )


class StaleVersion(ConcurrencyConflict):
    """The version the caller based a change on (``expect_version``, HTTP ``If-Match``)
    is no longer the stored one; nothing was changed."""

    public_detail = "This was changed since you loaded it. Reload it and try again."

    def __init__(self, kind: str, key: object, expected: int, actual: int | None) -> None:
        super().__init__(kind, key, expected, actual, retryable=False)  # the caller decides again


class DuplicateError(SupportKitError):
    """Something that must be unique was stored already."""


class StorageError(SupportKitError):
    """A storage backend failed; the driver's exception is chained as ``__cause__``."""


class BatchAborted(SupportKitError):
    """A use case failed inside ``desk.batch()``, so the whole batch was rolled back.

    Raised when the batch ends even if the caller caught the use case's own
    error: the failed use case may have written part of its rows, and a batch
    is one transaction. The use case's error is chained as ``__cause__``.
    """


class TransientStorageError(StorageError):
    """The database gave up on a transaction that may succeed if run again.

    A deadlock, a serialization failure, a lock or busy timeout: nothing the
    transaction wrote was kept. The desk retries its use cases on this error
    (bounded, with jitter) before letting it reach the caller; a caller may
    retry the whole call too.
    """

    retryable = True


class DatabaseBusy(TransientStorageError):
    """Other processes kept the database locked for longer than this one may wait.

    Raised, for instance, when a storage is opened (its schema checked or
    migrated) while another process holds SQLite's write lock throughout the
    wait: retry later, or allow a longer wait (``SQLiteStorage(schema_timeout=...)``).
    """


class ChannelError(SupportKitError):
    """A channel failed to receive or deliver a message."""


class RelayError(SupportKitError):
    """An event relay could not hand a batch to its broker (or read from it).

    Nothing was marked relayed: the events stay claimed until their lease runs
    out, then a relay (this one or another) publishes them again.
    """

    retryable = True


class PluginError(SupportKitError):
    """An entry-point plugin could not be loaded or does not implement its port."""
