"""A host's desk factory, as ``supportkit worker`` loads it (``desk = "host_desk:build_desk"``).

Its one timer kind, ``host.count``, writes a history row naming the timer
and the process that fired it, so a test counts firings in the database;
``HOST_TIMER_PAUSE`` (seconds) makes each firing take that long.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from supportkit import SupportDesk
from supportkit.domain import HistoryEntry
from supportkit.ports import Storage

TIMER_KIND = "host.count"
TIMER_LOG = "timer-log"


def build_desk(storage: Storage, clock: Any = None) -> SupportDesk:
    desk = SupportDesk(storage, clock=clock, timer_lease=timedelta(seconds=30))
    desk.on_timer(TIMER_KIND, _fire)
    return desk


def _fire(ctx: Any, timer: Any) -> None:
    ctx.ticket(timer.ticket_id)  # a real handler works on its ticket (and holds it)
    who = str(os.getpid())
    ctx.uow.add_history(HistoryEntry(TIMER_LOG, ctx.now, who, "fired", "-", "-", timer.key))
    pause = float(os.environ.get("HOST_TIMER_PAUSE", "0"))
    if pause:
        time.sleep(pause)
