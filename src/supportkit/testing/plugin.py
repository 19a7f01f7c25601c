"""pytest plugin (loaded through the ``pytest11`` entry point): fixtures for desks in tests.

- ``fake_clock``: a :class:`~supportkit.FakeClock` at 2026-01-05 09:00 UTC.
- ``make_desk``: a factory, ``make_desk(storage=None, **kwargs)``, building a
  :class:`~supportkit.SupportDesk` on the fake clock with readable sequential
  ids (``id-1``, ``id-2``, ...); storage defaults to a fresh MemoryStorage.
- ``desk``: ``make_desk()``, a desk on memory storage.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from ..desk import SupportDesk
from ..ports._clock import FakeClock
from ..ports._storage import Storage
from ..storage.memory import MemoryStorage

__all__ = ["desk", "fake_clock", "make_desk"]

DeskFactory = Callable[..., SupportDesk]


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()


@pytest.fixture
def make_desk(fake_clock: FakeClock) -> DeskFactory:
    """Build desks on the test's fake clock: ``make_desk(storage=None, **desk_kwargs)``.

    Desks built by one test share the id sequence, so they can share a storage.
    """
    counter = itertools.count(1)

    def factory(storage: Storage | None = None, **kwargs: Any) -> SupportDesk:
        kwargs.setdefault("clock", fake_clock)
        kwargs.setdefault("ids", lambda: f"id-{next(counter)}")
        return SupportDesk(storage if storage is not None else MemoryStorage(), **kwargs)

    return factory


@pytest.fixture
def desk(make_desk: DeskFactory) -> SupportDesk:
    """A desk on fresh memory storage and the fake clock."""
    return make_desk()
