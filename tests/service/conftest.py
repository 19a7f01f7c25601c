"""Helpers for the service-path tests (the `storage` fixture lives in tests/conftest.py)."""

from __future__ import annotations

from typing import Any


def desk_with_events(storage: Any, at: Any, **kw: Any) -> tuple[Any, list[Any]]:
    """A desk on *storage* at the fake instant *at*, and the list of events it publishes."""
    from supportkit import FakeClock, SupportDesk

    desk = SupportDesk(storage, clock=FakeClock(at), **kw)
    seen: list[Any] = []
    desk.signals.event.connect(lambda _s, event: seen.append(event), weak=False)
    return desk, seen
