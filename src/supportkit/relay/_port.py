"""The event relay port: what a broker adapter implements, and the message it carries.

A relayed event is a domain event with the key of its desk and its outbox
sequence number. ``(desk, seq)`` identifies it across processes and brokers:
a consumer that meets a key again has met a duplicate (delivery is at least
once) and drops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from .._convert import dumps, event_from_data, event_to_data, loads
from ..domain._errors import ValidationError
from ..domain._events import DomainEvent, event_type

__all__ = [
    "EventFeed",
    "EventRelay",
    "RelayedEvent",
    "Subscription",
    "decode",
    "encode",
]


@attrs.frozen
class RelayedEvent:
    """A domain event on its way through a broker.

    ``seq`` is the event's outbox sequence number: with ``desk`` it is the
    idempotency key (:attr:`key`), the same however often the event is relayed.
    """

    desk: str
    seq: int
    event: DomainEvent

    @property
    def key(self) -> str:
        """``"<desk>:<seq>"``: the idempotency key (AMQP ``message_id``, a stream field)."""
        return f"{self.desk}:{self.seq}"

    @property
    def type(self) -> str:
        """The event's stable type name, e.g. ``"ticket.message_added"``."""
        return event_type(self.event)


def encode(message: RelayedEvent) -> bytes:
    """The wire form: UTF-8 JSON ``{"desk", "seq", "event": {"type", ...}}``."""
    body = {"desk": message.desk, "seq": message.seq, "event": event_to_data(message.event)}
    return dumps(body).encode()


def decode(body: bytes | str) -> RelayedEvent:
    """Read a message made by :func:`encode`; ValidationError says what is wrong with it."""
    try:
        data = loads(body)
        desk, seq, event = data["desk"], data["seq"], data["event"]
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError(
            f"not a relayed supportkit event ({exc!r}): expected JSON with desk, seq and event"
        ) from exc
    if not isinstance(desk, str) or not isinstance(seq, int) or not isinstance(event, dict):
        raise ValidationError(
            f"not a relayed supportkit event: desk {desk!r}, seq {seq!r} (want str, int, object)"
        )
    try:
        decoded = event_from_data(event)
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError(f"relayed event {desk}:{seq} does not decode: {exc!r}") from exc
    return RelayedEvent(desk, seq, decoded)


@runtime_checkable
class EventRelay(Protocol):
    """Hands batches of events to a broker.

    :meth:`publish` returns only once the broker has every message of the
    batch (RabbitMQ: publisher confirms; Redis: the server's reply to each
    ``XADD``), and raises :class:`~supportkit.relay.RelayError` otherwise, so
    the caller marks a batch relayed only when it is safe to. Delivery is at
    least once: a batch published again (after a crash between publishing and
    marking) carries the same keys.
    """

    def publish(self, batch: Sequence[RelayedEvent]) -> None: ...

    def close(self) -> None: ...


class Subscription(Protocol):
    """One process's subscription to a broker's events (its own connection)."""

    def fetch(self, timeout: float) -> list[RelayedEvent]:
        """The events that arrived, waiting up to *timeout* seconds for the first one."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class EventFeed(Protocol):
    """A broker a process can subscribe to (every adapter is both relay and feed)."""

    def subscribe(self, desk: str | None = None) -> Subscription:
        """Start receiving the events of desk *desk* (every desk: None) published from now on."""
        ...


def describe(value: Any) -> str:
    """A URL without its password, for log lines and error messages."""
    text = str(value)
    if "@" in text and "://" in text:
        scheme, rest = text.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else text
    return text
