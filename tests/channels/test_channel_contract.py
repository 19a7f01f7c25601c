"""Every shipped channel passes the ChannelContract suite plugin authors run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from supportkit import SupportDesk
from supportkit.channels import (
    Channel,
    DeliveryReceipt,
    MemoryChannel,
    OutboundMessage,
    PermanentDeliveryError,
    PhoneChannel,
)
from supportkit.channels.chat import ChatChannel
from supportkit.channels.webhook import WebhookChannel
from supportkit.testing.channel_contract import ChannelContract

from .conftest import Receiver


class TestMemoryChannel(ChannelContract):
    @pytest.fixture
    def channel(self) -> Channel:
        return MemoryChannel("email")


class TestChatChannel(ChannelContract):
    capabilities: ClassVar[frozenset[str]] = frozenset({"deliver"})

    @pytest.fixture
    def channel(self) -> Channel:
        return ChatChannel()


class TestWebhookChannel(ChannelContract):
    capabilities: ClassVar[frozenset[str]] = frozenset({"deliver"})

    @pytest.fixture
    def channel(self, http_receiver: Receiver) -> Channel:
        return WebhookChannel(http_receiver.url, "secret", aliases=("telegram",))


class TestPhoneChannel(ChannelContract):
    capabilities: ClassVar[frozenset[str]] = frozenset({"normalise"})

    @pytest.fixture
    def channel(self) -> Channel:
        return PhoneChannel(SupportDesk())

    @pytest.fixture
    def inbound_payload(self) -> Any:
        return {"id": "c1", "from": "+100", "start_time": "2026-01-05T09:00:00Z", "notes": "hi"}


class _Sms(Channel):
    name = "sms"
    receives = False

    def deliver(self, outbound: OutboundMessage) -> DeliveryReceipt:
        if not outbound.recipient.startswith("+"):
            raise PermanentDeliveryError(f"{outbound.recipient!r} is not a phone number")
        return DeliveryReceipt(outbound.delivery_id, self.name, datetime.now(UTC))


class TestAPluginWithItsOwnAddresses(ChannelContract):
    """The docs' SMS example: a channel whose customers are phone numbers."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"deliver"})
    customer_address: ClassVar[str] = "+15550100"

    @pytest.fixture
    def channel(self) -> Channel:
        return _Sms()
