"""Ports: the interfaces a host or a plugin implements (storage, clock, channels)."""

from ._clock import Clock, FakeClock, SystemClock
from ._storage import RawInbound, Storage, StoredEvent, TicketQuery, Timer, UnitOfWork

__all__ = [
    "Clock",
    "FakeClock",
    "RawInbound",
    "Storage",
    "StoredEvent",
    "SystemClock",
    "TicketQuery",
    "Timer",
    "UnitOfWork",
]
