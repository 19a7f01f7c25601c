"""The real brokers for relay tests: RabbitMQ and Redis on this machine.

Locally a broker that does not answer skips its tests with the reason; under
CI=true it fails them, because CI must run them. Each test gets its own
exchange (RabbitMQ) or stream (Redis), removed afterwards, and an independent
reader (the broker's own client, not supportkit's) of everything published.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from supportkit.relay import RelayedEvent, decode

from ..pg import IN_CI

AMQP_URL = os.environ.get("SUPPORTKIT_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_URL = os.environ.get("SUPPORTKIT_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _rabbitmq_down() -> str | None:
    try:
        import pika
    except ImportError:
        return "pika is not installed (pip install 'supportkit[rabbitmq]')"
    params = pika.URLParameters(AMQP_URL)
    params.connection_attempts = 1
    params.socket_timeout = 3
    try:
        pika.BlockingConnection(params).close()
    except pika.exceptions.AMQPError as exc:
        return f"no RabbitMQ server answers at {AMQP_URL}: {exc!r}"
    return None


def _redis_down() -> str | None:
    try:
        import redis
    except ImportError:
        return "redis-py is not installed (pip install 'supportkit[redis]')"
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"no Redis server answers at {REDIS_URL}: {exc!r}"
    finally:
        client.close()
    return None


def require(broker: str) -> None:
    reason = _rabbitmq_down() if broker == "rabbitmq" else _redis_down()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI must run the {broker} relay tests, but {reason}")
        pytest.skip(reason)


class Broker:
    """One test's exchange or stream on a real broker, with an independent reader."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = f"sk-test-{uuid.uuid4().hex[:10]}"
        sep = "&" if "?" in AMQP_URL else "?"
        if kind == "rabbitmq":
            import pika

            self.url = f"{AMQP_URL}{sep}exchange={self.name}"
            self._conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
            ch = self._conn.channel()
            ch.exchange_declare(self.name, exchange_type="topic", durable=True)
            ch.queue_declare(self.name, exclusive=True)
            ch.queue_bind(self.name, self.name, routing_key="#")
            self._channel = ch
        else:
            import redis

            self.url = f"{REDIS_URL}?stream={self.name}"
            self._client: Any = redis.Redis.from_url(REDIS_URL)

    def rebind(self) -> None:
        """Bind the reader's queue again (after the exchange was deleted and declared anew)."""
        self._channel.queue_bind(self.name, self.name, routing_key="#")

    def delivered(self) -> list[RelayedEvent]:
        """Everything published so far that the reader has not taken yet, in broker order."""
        out: list[RelayedEvent] = []
        if self.kind == "rabbitmq":
            while True:
                method, _props, body = self._channel.basic_get(self.name, auto_ack=True)
                if method is None:
                    return out
                out.append(decode(body))
        entries = self._client.xrange(self.name, "-", "+")
        self._client.xtrim(self.name, maxlen=0)
        return [decode(fields[b"body"]) for _id, fields in entries]

    def close(self) -> None:
        if self.kind == "rabbitmq":
            self._channel.exchange_delete(self.name)
            self._conn.close()
        else:
            self._client.delete(self.name)
            self._client.close()


@pytest.fixture(params=["rabbitmq", "redis"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    require(request.param)
    b = Broker(request.param)
    try:
        yield b
    finally:
        b.close()
