"""Every shipped channel passes the ChannelContract suite plugin authors run."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from supportkit import SupportDesk
from supportkit.channels import Channel, MemoryChannel, PhoneChannel
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
