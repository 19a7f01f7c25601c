"""RabbitMQ (AMQP 0-9-1) through pika: a topic exchange, publisher confirms.

Each event is a persistent message on a durable topic exchange with routing
key ``<desk>.<event type>`` (``default.ticket.message_added``), ``message_id``
``<desk>:<seq>`` (the idempotency key), ``content_type`` JSON and headers
``desk``, ``seq`` and ``type``. Publisher confirms are on: :meth:`publish`
sends the whole batch, then returns once the broker acknowledged every
message of it (the acks come in while the next messages are sent, so a batch
costs about one round trip, not one per message); a nack, a closed channel or
no ack within ``confirm_timeout`` seconds raises RelayError.

URL: ``amqp://user:password@host:5672/vhost?exchange=supportkit[&queue=name][&confirm_timeout=30]``.
With ``queue``, a durable queue of that name is declared and bound to every
event (``#``), so events published while its consumer is down wait for it; without it
the broker keeps events only for the queues bound at the time (each
:class:`~supportkit.relay.RelaySubscriber` binds its own while it runs).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from ..domain._errors import ConfigurationError, RelayError, ValidationError
from ._port import RelayedEvent, decode, describe, encode
from ._url import client_library, positive, split_url

__all__ = ["RabbitMQRelay"]

log = logging.getLogger("supportkit.relay")


class RabbitMQRelay:
    """Publishes relayed events to a RabbitMQ exchange and subscribes to them."""

    def __init__(self, url: str) -> None:
        self._pika = client_library("pika", "rabbitmq", "RabbitMQ")
        rest, values = split_url(
            url, {"exchange": "supportkit", "queue": "", "confirm_timeout": "30"}
        )
        if not values["exchange"]:
            raise ConfigurationError(f"give the exchange a name in {describe(url)}")
        self.url = url
        self.exchange = values["exchange"]
        self.queue = values["queue"] or None
        self.confirm_timeout = positive(values, "confirm_timeout", describe(url))
        try:
            self._params = self._pika.URLParameters(rest)
        except ValueError as exc:
            raise ConfigurationError(f"bad RabbitMQ URL {describe(url)}: {exc}") from exc
        self._conn: Any = None
        self._channel: Any = None
        self._confirms = _Confirms()
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        pika = self._pika
        try:
            conn = pika.BlockingConnection(self._params)
            channel = conn.channel()
            channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            if self.queue:
                channel.queue_declare(self.queue, durable=True)
                channel.queue_bind(self.queue, self.exchange, routing_key="#")
        except pika.exceptions.AMQPError as exc:
            raise RelayError(
                f"cannot reach RabbitMQ at {describe(self.url)}: {exc!r}; is the server up?"
            ) from exc
        return conn, channel

    def _open_channel(self) -> Any:
        if self._channel is None or not self._channel.is_open:
            self._close_quietly()
            self._conn, self._channel = self._connect()
            self._confirms = _Confirms()
            # Confirm mode on the channel underneath the blocking adapter: the blocking
            # channel's own confirm mode waits for each ack before the next publish.
            self._channel._impl.confirm_delivery(
                ack_nack_callback=self._confirms.on_confirm, callback=self._confirms.on_select
            )
            self._wait(lambda: self._confirms.selected, "confirm mode")
        return self._channel

    def _wait(self, done: Any, what: str) -> None:
        deadline = time.monotonic() + self.confirm_timeout
        while not done():
            if not self._channel.is_open:
                raise _ChannelLost(f"RabbitMQ closed the channel while waiting for {what}")
            if time.monotonic() > deadline:
                raise RelayError(
                    f"RabbitMQ did not confirm {what} within {self.confirm_timeout}s "
                    f"on exchange {self.exchange!r}; the batch is published again"
                )
            self._conn.process_data_events(time_limit=0.001)

    def publish(self, batch: Sequence[RelayedEvent]) -> None:
        """Publish *batch*; returns once RabbitMQ confirmed every message (else RelayError)."""
        pika = self._pika
        with self._lock:
            for attempt in (1, 2):  # a connection idle past its heartbeat is opened again once
                try:
                    if self._conn is not None and self._conn.is_open:
                        self._conn.process_data_events(time_limit=0)  # heartbeats; a dead socket
                    impl = self._open_channel()._impl
                    confirms = self._confirms
                    tags = confirms.expect(len(batch))
                    for message in batch:
                        impl.basic_publish(
                            self.exchange,
                            f"{message.desk}.{message.type}",
                            encode(message),
                            pika.BasicProperties(
                                content_type="application/json",
                                delivery_mode=pika.DeliveryMode.Persistent,
                                message_id=message.key,
                                type=message.type,
                                headers={"desk": message.desk, "seq": message.seq},
                            ),
                        )
                    self._wait(lambda c=confirms: not c.pending, f"{len(batch)} messages")
                    if confirms.nacked & tags:
                        raise RelayError(
                            f"RabbitMQ refused {len(confirms.nacked & tags)} of a batch of "
                            f"{len(batch)} events on exchange {self.exchange!r} (nack)"
                        )
                    return
                except RelayError:
                    self._close_quietly()
                    raise
                except (pika.exceptions.AMQPError, _ChannelLost) as exc:
                    # a dropped connection, or a channel the broker closed (an exchange deleted
                    # meanwhile): connect, declare and publish the whole batch again, once
                    self._close_quietly()
                    if attempt == 2:
                        raise RelayError(
                            f"lost RabbitMQ at {describe(self.url)} while publishing "
                            f"{len(batch)} events: {exc!r}"
                        ) from exc
                    log.info("RabbitMQ connection lost (%r); connecting again", exc)

    def subscribe(self, desk: str | None = None) -> RabbitMQSubscription:
        """A subscription on its own connection: a private queue bound to *desk*'s events."""
        return RabbitMQSubscription(self, desk)

    def _close_quietly(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except Exception:  # already broken: nothing to flush
                log.debug("closing a broken RabbitMQ connection", exc_info=True)

    def close(self) -> None:
        with self._lock:
            self._close_quietly()


class _ChannelLost(Exception):
    """The broker closed the publishing channel (it says why in its log)."""


class _Confirms:
    """The delivery tags of one confirm-mode channel still waiting for the broker's ack."""

    def __init__(self) -> None:
        self.selected = False
        self.next_tag = 0
        self.pending: set[int] = set()
        self.nacked: set[int] = set()

    def on_select(self, frame: Any) -> None:
        self.selected = True

    def expect(self, n: int) -> set[int]:
        """Tags of the next *n* publishes (a channel numbers them 1, 2, ...)."""
        tags = set(range(self.next_tag + 1, self.next_tag + n + 1))
        self.next_tag += n
        self.pending |= tags
        self.nacked.clear()
        return tags

    def on_confirm(self, frame: Any) -> None:
        method = frame.method
        tag = int(method.delivery_tag)
        done = {t for t in self.pending if t <= tag} if method.multiple else {tag}
        self.pending -= done
        if type(method).__name__ == "Nack":
            self.nacked |= done


class RabbitMQSubscription:
    """A server-named, exclusive queue bound to the exchange: gone when this process is."""

    def __init__(self, relay: RabbitMQRelay, desk: str | None) -> None:
        self.desk = desk
        self._pika = relay._pika
        self._conn, channel = relay._connect()
        self._inbox: list[RelayedEvent] = []
        try:
            q = channel.queue_declare("", exclusive=True, auto_delete=True)
            name = q.method.queue
            channel.queue_bind(name, relay.exchange, routing_key=f"{desk}.#" if desk else "#")
            channel.basic_consume(name, self._on_message, auto_ack=True)
        except self._pika.exceptions.AMQPError as exc:
            self.close()
            raise RelayError(f"cannot subscribe to exchange {relay.exchange!r}: {exc!r}") from exc
        self._channel = channel

    def _on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        try:
            message = decode(body)
        except ValidationError as exc:
            log.warning("dropped a message on %s that is no supportkit event: %s", method, exc)
            return
        if self.desk is None or message.desk == self.desk:  # a prefix binding is not exact
            self._inbox.append(message)

    def fetch(self, timeout: float) -> list[RelayedEvent]:
        try:
            self._conn.process_data_events(time_limit=timeout)
        except self._pika.exceptions.AMQPError as exc:
            raise RelayError(f"lost the RabbitMQ subscription: {exc!r}") from exc
        out, self._inbox = self._inbox, []
        return out

    def close(self) -> None:
        if self._conn is not None and self._conn.is_open:
            try:
                self._conn.close()
            except Exception:
                log.debug("closing a broken RabbitMQ subscription", exc_info=True)
