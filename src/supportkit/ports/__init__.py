"""Ports: the interfaces a host or a plugin implements (storage, attachments, clock, channels)."""

from ._attachments import AttachmentStore
from ._channel import (
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
from ._clock import Clock, FakeClock, SystemClock
from ._storage import RawInbound, Storage, StoredEvent, TicketQuery, Timer, UnitOfWork

__all__ = [
    "AUTO_SUBMITTED",
    "AttachmentStore",
    "Channel",
    "ChannelRegistry",
    "Clock",
    "DeliveryError",
    "DeliveryReceipt",
    "FakeClock",
    "MessageDelivered",
    "OutboundMessage",
    "PermanentDeliveryError",
    "RawInbound",
    "RetryPolicy",
    "Storage",
    "StoredEvent",
    "SystemClock",
    "TicketQuery",
    "Timer",
    "TransientDeliveryError",
    "UnitOfWork",
    "is_automated_meta",
]
