"""The blinker signals of one desk."""

from __future__ import annotations

import blinker

from .domain._errors import ValidationError
from .domain._events import EVENT_TYPES, DomainEvent

__all__ = ["DeskSignals"]


class DeskSignals:
    """The blinker signals of one desk (never global: two desks never see each other).

    - ``event``: every domain event, ``sender`` is the desk, keyword ``event``.
    - ``for_type(name)``: events of one type, e.g. ``"ticket.status_changed"``.
    - ``subscriber_failed``: a subscriber raised; keywords ``event``, ``receiver``, ``error``.
    - ``published``: this process is about to signal stored events (after their commit,
      or from :meth:`~supportkit.SupportDesk.publish_pending`); keyword ``events``, the
      :class:`~supportkit.ports.StoredEvent` list with their outbox sequence numbers.
      The relay's subscriber listens here so it does not signal them again.
    """

    def __init__(self) -> None:
        self._ns = blinker.Namespace()
        self.event = self._ns.signal("event")
        self.subscriber_failed = self._ns.signal("subscriber_failed")
        self.published = self._ns.signal("published")
        #: the per-type signals asked for so far; delivery looks here, so a type
        #: nobody subscribed to costs one dict lookup
        self.typed: dict[str, blinker.NamedSignal] = {}

    def for_type(self, name: str | type[DomainEvent]) -> blinker.NamedSignal:
        if isinstance(name, type):
            name = name.type_name
        signal = self.typed.get(name)
        if signal is None:
            if name not in EVENT_TYPES:
                raise ValidationError(
                    f"unknown event type {name!r}; known types: {sorted(EVENT_TYPES)}"
                )
            signal = self.typed[name] = self._ns.signal(f"event:{name}")
        return signal
