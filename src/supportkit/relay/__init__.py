"""Events across processes: the outbox relayed to a broker, and signalled in every process.

Every use case stores its events in the outbox with a sequence number, in
its own transaction. :func:`relay_once` (run by ``supportkit worker``, or a
host's own loop: :func:`run_relay`) claims a batch under a lease, publishes
it to RabbitMQ or Redis Streams and marks it relayed once the broker has it.
A :class:`RelaySubscriber` in each process receives the broker's events and
signals those other processes made on the desk's blinker signals.

Delivery is **at least once**: a relay that dies between publishing and
marking leaves its claim to expire and the batch is published again. Every
message carries its desk key and sequence number (:attr:`RelayedEvent.key`),
the idempotency key consumers drop duplicates by.

::

    relay = open_relay("amqp://guest:guest@127.0.0.1:5672/?exchange=supportkit")
    relay_once(desk, relay)                       # -> how many events it published
    RelaySubscriber(desk, "redis://127.0.0.1:6379/0?stream=supportkit").start()
"""

from __future__ import annotations

from ..domain._errors import RelayError
from ._live import LiveChannel, QueuedOutbound, follow_replies
from ._memory import MemoryRelay
from ._open import BrokerRelay, open_relay
from ._port import EventFeed, EventRelay, RelayedEvent, Subscription, decode, encode
from ._rabbitmq import RabbitMQRelay
from ._redis import RedisStreamRelay
from ._relay import relay_once, run_relay
from ._subscriber import RelaySubscriber

__all__ = [
    "BrokerRelay",
    "EventFeed",
    "EventRelay",
    "LiveChannel",
    "MemoryRelay",
    "QueuedOutbound",
    "RabbitMQRelay",
    "RedisStreamRelay",
    "RelayError",
    "RelaySubscriber",
    "RelayedEvent",
    "Subscription",
    "decode",
    "encode",
    "follow_replies",
    "open_relay",
    "relay_once",
    "run_relay",
]
