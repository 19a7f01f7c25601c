"""The channel-neutral inbound message now lives with the channel port (re-exported here)."""

from ..ports._inbound_message import Address, InboundMessage

__all__ = ["Address", "InboundMessage"]
