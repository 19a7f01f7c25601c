"""Replies made in other processes, pushed to the live connections this process holds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..domain._events import MessageAdded
from ..domain._model import Direction
from ..ports._channel import DeliveryReceipt, OutboundMessage
from ._subscriber import RelaySubscriber

__all__ = ["LiveChannel", "QueuedOutbound", "follow_replies"]

log = logging.getLogger("supportkit.relay")


class LiveChannel(Protocol):
    """A channel that holds customers' connections in a process (the live chat's
    :class:`~supportkit.channels.chat.ChatChannel`)."""

    name: str

    def connected(self, address: str) -> bool: ...

    def deliver(self, outbound: OutboundMessage) -> DeliveryReceipt: ...


class QueuedOutbound(Protocol):
    """Where the message queued for a stored reply is found
    (:class:`~supportkit.channels.OutboundDispatcher`)."""

    def outbound(self, delivery_id: str) -> OutboundMessage | None: ...


def follow_replies(
    subscriber: RelaySubscriber, dispatcher: QueuedOutbound, channel: LiveChannel
) -> Callable[[], None]:
    """Push to *channel*'s connections here the replies other processes add on its tickets.

    The process that stores a reply delivers it through its own channel, which
    holds no connection when the customer's chat is open in another process.
    Each reply another process made on a ticket of *channel* reaches this
    process through *subscriber*; when this process holds the customer's
    connection, the message the dispatcher queued for it (the same
    :class:`~supportkit.channels.OutboundMessage` every channel gets) is pushed
    there. Returns a function that stops following.
    """

    def on_remote(desk: Any, *, event: Any, seq: int, **_: Any) -> None:
        if not isinstance(event, MessageAdded) or event.channel != channel.name:
            return
        if event.direction != Direction.OUTBOUND.value:
            return
        outbound = dispatcher.outbound(event.message_id)
        if outbound is None or not channel.connected(outbound.recipient):
            return  # not sent (a record), or the customer is connected elsewhere
        receipt = channel.deliver(outbound)
        log.debug("reply %s of another process: %s", event.message_id, receipt.detail)

    subscriber.remote.connect(on_remote, weak=False)
    return lambda: subscriber.remote.disconnect(on_remote)
