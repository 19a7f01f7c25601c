"""Redis Streams through redis-py: one ``XADD`` per event, a batch in one round trip.

Each event is a stream entry with fields ``desk``, ``seq`` (the idempotency
key is ``<desk>:<seq>``), ``type`` and ``body`` (the JSON of
:func:`~supportkit.relay.encode`). :meth:`publish` returns once Redis answered
every ``XADD`` of the batch (sent in one pipeline). The stream is trimmed to
about ``maxlen`` entries (``MAXLEN ~``), so it holds the recent past, not
history.

URL: ``redis://host:6379/0?stream=supportkit[&maxlen=100000]`` (``rediss://``
for TLS). A consumer that must not miss events while it is down reads the
stream with a consumer group (``XREADGROUP``) from where it stopped; a
:class:`~supportkit.relay.RelaySubscriber` reads from the moment it starts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from ..domain._errors import ConfigurationError, RelayError, ValidationError
from ._port import RelayedEvent, decode, describe, encode
from ._url import client_library, positive, split_url

__all__ = ["RedisStreamRelay"]

log = logging.getLogger("supportkit.relay")

#: the name a subscription's connection gives itself (``CLIENT LIST`` shows it)
SUBSCRIBER_NAME = "supportkit-relay-subscriber"


class RedisStreamRelay:
    """Appends relayed events to a Redis stream and reads them back for subscribers."""

    def __init__(self, url: str) -> None:
        self._redis = client_library("redis", "redis", "Redis Streams")
        rest, values = split_url(url, {"stream": "supportkit", "maxlen": "100000"})
        if not values["stream"]:
            raise ConfigurationError(f"give the stream a name in {describe(url)}")
        maxlen = positive(values, "maxlen", describe(url))
        if maxlen != int(maxlen):
            raise ConfigurationError(f"maxlen must be a whole number in {describe(url)}")
        self.maxlen = int(maxlen)
        self.url = url
        self.stream = values["stream"]
        self._rest = rest
        try:
            self._client = self._redis.Redis.from_url(rest, socket_connect_timeout=5)
        except ValueError as exc:
            raise ConfigurationError(f"bad Redis URL {describe(url)}: {exc}") from exc
        self._lock = threading.Lock()

    def publish(self, batch: Sequence[RelayedEvent]) -> None:
        """Append *batch* in one round trip; returns once Redis stored every entry."""
        if not batch:
            return
        with self._lock:
            pipe = self._client.pipeline(transaction=False)
            for message in batch:
                pipe.xadd(
                    self.stream,
                    {
                        "desk": message.desk,
                        "seq": message.seq,
                        "type": message.type,
                        "body": encode(message),
                    },
                    maxlen=self.maxlen,
                    approximate=True,
                )
            try:
                ids = pipe.execute(raise_on_error=True)
            except self._redis.RedisError as exc:
                raise RelayError(
                    f"Redis at {describe(self.url)} did not take a batch of {len(batch)} "
                    f"events on stream {self.stream!r}: {exc!r}"
                ) from exc
        if len(ids) != len(batch) or not all(ids):
            raise RelayError(f"Redis answered {len(ids)} of {len(batch)} XADDs; relay again")

    def subscribe(self, desk: str | None = None) -> RedisStreamSubscription:
        """A subscription on its own connection, reading entries added from now on."""
        return RedisStreamSubscription(self, desk)

    def close(self) -> None:
        self._client.close()


class RedisStreamSubscription:
    """Reads the stream from the entry that was last when it subscribed (``XREAD BLOCK``)."""

    def __init__(self, relay: RedisStreamRelay, desk: str | None) -> None:
        self.desk = desk
        self.stream = relay.stream
        self._errors = relay._redis.RedisError
        self._lost = relay._redis.ConnectionError
        self._client = relay._redis.Redis.from_url(
            relay._rest, socket_connect_timeout=5, client_name=SUBSCRIBER_NAME
        )
        try:
            last = self._client.xrevrange(self.stream, count=1)
        except self._errors as exc:
            self._client.close()
            raise RelayError(f"cannot subscribe to stream {self.stream!r}: {exc!r}") from exc
        self.last_id: bytes | str = last[0][0] if last else b"0-0"

    def fetch(self, timeout: float) -> list[RelayedEvent]:
        for attempt in (1, 2):  # a dropped connection is opened again, from the same entry
            try:
                answer = self._client.xread(
                    {self.stream: self.last_id}, count=1000, block=max(1, int(timeout * 1000))
                )
                break
            except self._errors as exc:
                if attempt == 2 or not isinstance(exc, self._lost):
                    raise RelayError(f"lost the Redis subscription: {exc!r}") from exc
                log.info("Redis subscription connection lost (%r); reading on", exc)
        out: list[RelayedEvent] = []
        for _stream, entries in answer or ():
            for entry_id, fields in entries:
                self.last_id = entry_id
                try:
                    message = decode(fields[b"body"])
                except (KeyError, ValidationError) as exc:
                    log.warning("dropped stream entry %r: no supportkit event (%s)", entry_id, exc)
                    continue
                if self.desk is None or message.desk == self.desk:
                    out.append(message)
        return out

    def close(self) -> None:
        self._client.close()
