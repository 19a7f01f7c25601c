"""supportkit.channels: the channel adapters and the outbound delivery path.

The port (:class:`Channel`, :class:`OutboundMessage`, :class:`ChannelRegistry`,
...) lives in :mod:`supportkit.ports`; it is re-exported here for channel
authors. Web adapters (``supportkit.channels.webhook``, ``.chat``) need the
``web`` extra (starlette, httpx) and are imported from their modules.
"""

from ..ports._channel import (
    AUTO_SUBMITTED,
    Channel,
    ChannelRegistry,
    DeliveryError,
    DeliveryReceipt,
    MessageDelivered,
    OutboundMessage,
    PermanentDeliveryError,
    RetryPolicy,
    TransientDeliveryError,
    is_automated_meta,
)
from ._dispatch import OutboundDispatcher
from ._inbound import Address, InboundMessage
from ._notify import DEFAULT_TEMPLATES, CustomerNotifier, NotificationTemplate, TrackingLinks
from ._receive import receive_inbound
from .memory import MemoryChannel
from .phone import CallInProgress, CallRecord, PhoneChannel

__all__ = [
    "AUTO_SUBMITTED",
    "DEFAULT_TEMPLATES",
    "Address",
    "CallInProgress",
    "CallRecord",
    "Channel",
    "ChannelRegistry",
    "CustomerNotifier",
    "DeliveryError",
    "DeliveryReceipt",
    "InboundMessage",
    "MemoryChannel",
    "MessageDelivered",
    "NotificationTemplate",
    "OutboundDispatcher",
    "OutboundMessage",
    "PermanentDeliveryError",
    "PhoneChannel",
    "RetryPolicy",
    "TrackingLinks",
    "TransientDeliveryError",
    "is_automated_meta",
    "receive_inbound",
]
