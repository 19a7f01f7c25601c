"""The default id source: time-ordered, unique, 32 hex characters (like UUIDv7).

Ids that grow with time keep every index over them appending at its right
edge, so a new ticket, message or event dirties a few hot pages instead of a
random leaf per index: on SQLite that is the difference between a commit
that writes a handful of pages and one that writes dozens. Hosts that want
other ids pass ``SupportDesk(ids=...)``.
"""

from __future__ import annotations

import secrets
import threading
import time

__all__ = ["TimeOrderedIds"]


class TimeOrderedIds:
    """Callable id source: 48 bits of milliseconds, a 16-bit sequence, 64 random bits.

    Ids from one source are strictly increasing; ids from two sources (two
    processes) are unique by their random part.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._seq = 0
        self._node = secrets.randbits(64)

    def __call__(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms
                self._seq += 1
                if self._seq > 0xFFFF:  # more than 65,536 ids in one millisecond
                    ms += 1
                    self._seq = 0
            else:
                self._seq = 0
            self._last_ms = ms
            return f"{ms:012x}{self._seq:04x}{self._node:016x}"
