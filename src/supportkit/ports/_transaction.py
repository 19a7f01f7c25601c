"""The transaction every storage port runs in, and the hooks a backend implements.

A unit of work is a context manager and one transaction. The base class owns
the protocol; a backend implements four hooks (SQLAlchemy's dialects name
theirs the same way):

========================  =============================================================
hook                      contract
========================  =============================================================
:meth:`do_begin`          on ``__enter__``: start the transaction (take a connection,
                          ``BEGIN``). Optional (default: nothing).
:meth:`do_commit`         make every write durable and visible to other units of work,
                          atomically. Raise :class:`~supportkit.StorageError` (or
                          :class:`~supportkit.ConcurrencyConflict` when the database
                          detects a conflicting concurrent write) and leave nothing
                          half-written. Required.
:meth:`do_rollback`       discard every write since :meth:`do_begin`. Called when the
                          block is left without a commit, and by an explicit
                          :meth:`rollback`; idempotent (it may run twice, and after a
                          failed commit). Required.
:meth:`do_end`            on ``__exit__``, after the commit or rollback: release what
                          :meth:`do_begin` took. Optional (default: nothing).
========================  =============================================================

A unit of work is used once: ``with storage.unit_of_work() as uow: ...;
uow.commit()``. Units of work do not nest.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Any, Self

__all__ = ["Transaction"]


class Transaction(abc.ABC):
    """A transaction as a context manager: commit explicitly, or leave to roll back."""

    _committed: bool = False

    def __enter__(self) -> Self:
        self._committed = False
        self.do_begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.do_rollback()
        finally:
            self.do_end()

    def commit(self) -> None:
        """Make everything written in this unit of work durable and visible, atomically."""
        self.do_commit()
        self._committed = True

    def rollback(self) -> None:
        """Discard everything written in this unit of work (write nothing more in it)."""
        self.do_rollback()

    def raw_connection(self) -> Any:
        """The driver connection this unit of work's transaction runs on (SQL backends).

        Extensions with SQL of their own (``supportkit.metrics.sql_metrics``, the
        knowledge base's full-text index) run it here, in the same transaction.
        A backend without a DB-API connection keeps this default, which raises
        :class:`NotImplementedError`; such extensions then fall back or refuse.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no SQL connection; use a SQL backend "
            "(SQLite, PostgreSQL) for SQL extensions"
        )

    # -- hooks a backend implements --------------------------------------------------------
    def do_begin(self) -> None:  # noqa: B027 - optional hook
        """Start the transaction (optional hook; see the module docstring)."""

    @abc.abstractmethod
    def do_commit(self) -> None:
        """Make the transaction durable and visible (see the module docstring)."""

    @abc.abstractmethod
    def do_rollback(self) -> None:
        """Discard the transaction's writes (see the module docstring)."""

    def do_end(self) -> None:  # noqa: B027 - optional hook
        """Release resources after commit or rollback (optional hook)."""
