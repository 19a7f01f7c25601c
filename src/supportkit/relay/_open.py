"""``open_relay(url)``: the broker adapter a URL names."""

from __future__ import annotations

from typing import Protocol

from ..domain._errors import ConfigurationError
from ._port import EventFeed, EventRelay, describe

__all__ = ["BrokerRelay", "open_relay"]


class BrokerRelay(EventRelay, EventFeed, Protocol):
    """A broker adapter: a relay to publish to, and a feed to subscribe to."""


def open_relay(url: str) -> BrokerRelay:
    """The relay (and feed) for a broker URL; connects lazily, on first use.

    - ``amqp://guest:guest@127.0.0.1:5672/?exchange=supportkit`` (``amqps://``):
      :class:`RabbitMQRelay`, extra ``rabbitmq``;
    - ``redis://127.0.0.1:6379/0?stream=supportkit`` (``rediss://``, ``unix://``):
      :class:`RedisStreamRelay`, extra ``redis``.

    Another scheme raises ConfigurationError naming the ones there are.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(
            f"a broker URL looks like amqp://user:pw@host:5672/?exchange=supportkit or "
            f"redis://host:6379/0?stream=supportkit, got {url!r}"
        )
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("amqp", "amqps"):
        from ._rabbitmq import RabbitMQRelay

        return RabbitMQRelay(url)
    if scheme in ("redis", "rediss", "unix"):
        from ._redis import RedisStreamRelay

        return RedisStreamRelay(url)
    raise ConfigurationError(
        f"no event relay for {describe(url)!r}: use amqp:// (RabbitMQ) or redis:// "
        "(Redis Streams), or pass your own EventRelay to relay_once"
    )
