"""Domain objects and events to plain data and back: the one converter, public.

Storage backends, webhooks, event relays and host APIs turn entities, values
and events into JSON-compatible data with the same rules supportkit's own
backends use: aware datetimes as ISO-8601 strings in UTC, frozensets as sorted
lists, enums by value, events as ``{"type": <stable name>, ...fields}``.

>>> from datetime import UTC, datetime
>>> from supportkit import TicketReceived
>>> from supportkit.convert import event_from_data, event_to_data
>>> e = TicketReceived("t1", datetime(2026, 1, 5, 9, tzinfo=UTC), 1, "email", "c1", "Hello")
>>> data = event_to_data(e)
>>> data["type"], data["at"]
('ticket.received', '2026-01-05T09:00:00+00:00')
>>> event_from_data(data) == e
True
"""

from __future__ import annotations

from typing import Any, TypeVar

import cattrs

from . import _convert
from .domain._errors import ValidationError

__all__ = [
    "converter",
    "dumps",
    "event_from_data",
    "event_to_data",
    "from_data",
    "loads",
    "to_data",
]

T = TypeVar("T")

#: the cattrs converter itself, for registering hooks of a host's own attrs classes
converter = _convert.converter
dumps = _convert.dumps
loads = _convert.loads
event_to_data = _convert.event_to_data
event_from_data = _convert.event_from_data


def to_data(value: Any) -> Any:
    """*value* (an entity, value, event, or a collection of them) as JSON-compatible data."""
    return _convert.unstructure(value)


def from_data(data: Any, cls: type[T]) -> T:
    """Rebuild a *cls* from data made by :func:`to_data`.

    Data that does not fit *cls* raises :class:`~supportkit.ValidationError`
    naming the class and what was wrong.
    """
    try:
        return _convert.structure(data, cls)
    except (cattrs.BaseValidationError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise
        detail = (
            "; ".join(cattrs.transform_error(exc))
            if isinstance(exc, cattrs.BaseValidationError)
            else repr(exc)
        )
        raise ValidationError(f"cannot read a {cls.__name__} from {data!r}: {detail}") from exc
