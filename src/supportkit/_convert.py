"""The one cattrs converter: every (un)structuring of supportkit values goes through here.

Storage backends and webhooks turn entities, values and events into
JSON-compatible data with :func:`unstructure` and back with :func:`structure`;
events travel as ``{"type": <stable name>, ...fields}``.
"""

from __future__ import annotations

import importlib
import json
import json.encoder
from datetime import UTC, datetime, time
from typing import Any, TypeVar

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.json import make_converter

from .domain._errors import ValidationError
from .domain._events import EVENT_TYPES, DomainEvent, event_type

__all__ = [
    "converter",
    "dumps",
    "event_from_data",
    "event_to_data",
    "loads",
    "structure",
    "unstructure",
]

T = TypeVar("T")


def _make() -> cattrs.Converter:
    conv = make_converter()
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(time, lambda t: t.isoformat())
    conv.register_structure_hook(time, lambda v, _: time.fromisoformat(v))
    conv.register_unstructure_hook(frozenset, lambda s: sorted(s))
    conv.register_structure_hook(Any, lambda v, _: v)
    from .domain._model import Ticket

    conv.register_unstructure_hook(
        Ticket, make_dict_unstructure_fn(Ticket, conv, events=override(omit=True))
    )
    conv.register_structure_hook(
        Ticket, make_dict_structure_fn(Ticket, conv, events=override(omit=True))
    )
    return conv


def _structure_datetime(value: Any, _: Any) -> datetime:
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


converter = _make()


def unstructure(value: Any) -> Any:
    return converter.unstructure(value)


def structure(data: Any, cls: type[T]) -> T:
    return converter.structure(data, cls)


def event_to_data(event: DomainEvent) -> dict[str, Any]:
    data: dict[str, Any] = converter.unstructure(event)
    data["type"] = event_type(event)
    return data


#: Modules of supportkit that define event types beyond the domain's own; imported on
#: demand so a process that reads the outbox decodes every event supportkit can store.
_EVENT_MODULES = (
    "supportkit.ports._channel",
    "supportkit.extensions",
    "supportkit.knowledge",
)


def event_from_data(data: dict[str, Any]) -> DomainEvent:
    data = dict(data)
    name = data.pop("type")
    cls = EVENT_TYPES.get(name)
    if cls is None:
        for module in _EVENT_MODULES:
            importlib.import_module(module)
        cls = EVENT_TYPES.get(name)
    if cls is None:
        raise ValidationError(
            f"unknown event type {name!r} in stored data; import the module that "
            "registers it (register_event) before reading the outbox"
        )
    return converter.structure(data, cls)


#: built once: ``json.dumps`` with non-default options builds a new encoder per call
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
#: the same encoder's C core, built once too (``JSONEncoder.encode`` builds it on every
#: call, a third of the cost of encoding an event); no circular check: what is encoded
#: here is unstructured data, a tree. None on an interpreter without the C accelerator.
_C_MAKE: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE: Any = (
    _C_MAKE(None, str, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    if _C_MAKE is not None
    else None
)


def dumps(value: Any) -> str:
    """*value* as compact JSON (non-ASCII kept as is; unknown types through ``str``)."""
    if _C_ENCODE is None:  # pragma: no cover - CPython ships the accelerator
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def loads(text: str | bytes) -> Any:
    return json.loads(text)
