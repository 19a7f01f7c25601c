"""Several use cases in one transaction: the state behind ``desk.batch()``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from ._context import DeskContext
from .ports._storage import StoredEvent, UnitOfWork

if TYPE_CHECKING:
    from ._context import _CoreDesk

__all__ = ["Batch", "BatchLocal"]

T = TypeVar("T")


class Batch:
    """One open batch: its unit of work, the events stored so far, the first failure."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.stored: list[StoredEvent] = []
        self.failed: BaseException | None = None
        self.use_cases = 0
        #: how many use cases had succeeded when the first one failed
        self.failed_after = 0

    def run(self, desk: _CoreDesk, use_case: Callable[[DeskContext], T], now: datetime) -> T:
        """Run *use_case* in the batch's transaction; its events wait for the batch's commit."""
        ctx = DeskContext(desk, self.uow, now)
        try:
            result = use_case(ctx)
            ctx.flush()
        except BaseException as exc:
            if self.failed is None:
                self.failed, self.failed_after = exc, self.use_cases
            raise
        self.stored.extend(ctx.stored)
        self.use_cases += 1
        return result


class BatchLocal(threading.local):
    """The batch open on this thread, if any (a batch belongs to the thread that opened it)."""

    current: Batch | None = None
