"""The contract every channel plugin passes: subclass :class:`ChannelContract`, give one factory.

>>> # in your plugin's tests
>>> # class TestSmsChannel(ChannelContract):
>>> #     @pytest.fixture
>>> #     def channel(self):
>>> #         return SmsChannel(gateway=FakeGateway())

Optional hooks: override ``inbound_payload`` (a payload your
``normalise`` accepts), ``customer_address`` (a recipient your channel
can reach) and ``capabilities`` (drop ``"deliver"`` for an
inbound-only channel, ``"normalise"`` for an outbound-only one); tests of a
capability a channel lacks are skipped with the reason. Hypothesis
strategies for channel inputs are :func:`outbound_messages` and :func:`texts`.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportkit.domain._errors import MalformedMessage, SupportKitError
from supportkit.ports import InboundMessage
from supportkit.ports._channel import (
    Channel,
    ChannelRegistry,
    DeliveryError,
    DeliveryReceipt,
    OutboundMessage,
)

__all__ = ["ChannelContract", "outbound_messages", "texts"]

_NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def texts() -> st.SearchStrategy[str]:
    """Message texts as customers write them: any script, emoji, blank lines, long words."""
    return st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=400
    ).filter(lambda s: s.strip() != "")


def outbound_messages(channel: str = "memory") -> st.SearchStrategy[OutboundMessage]:
    """Outbound messages for *channel* with varied texts, languages and subjects."""
    return st.builds(
        OutboundMessage,
        delivery_id=st.uuids().map(lambda u: u.hex),
        ticket_id=st.uuids().map(lambda u: u.hex),
        ticket_number=st.integers(1, 10**9),
        channel=st.just(channel),
        recipient=st.just("customer@example.com"),
        text=texts(),
        subject=st.text(max_size=120),
        language=st.sampled_from(["en", "ru", "de"]),
        kind=st.sampled_from(["reply", "notification"]),
    )


class ChannelContract:
    """Behaviour every :class:`~supportkit.ports.Channel` must show."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"deliver", "normalise"})
    #: the customer's address on this channel (an email, a phone number, a user id)
    customer_address: ClassVar[str] = "ann@example.com"

    @pytest.fixture
    def channel(self) -> Channel:
        raise NotImplementedError("override the `channel` fixture to build your channel")

    @pytest.fixture
    def inbound_payload(self) -> Any:
        """A payload ``normalise`` accepts; None skips the inbound tests."""
        return {"sender": "ann@example.com", "text": "My invoice is wrong", "external_id": "m-1"}

    def require(self, capability: str) -> None:
        if capability not in self.capabilities:
            pytest.skip(f"the channel does not declare {capability!r}")

    def outbound(self, channel: Channel, **changes: Any) -> OutboundMessage:
        values: dict[str, Any] = {
            "delivery_id": "d-1",
            "ticket_id": "t-1",
            "ticket_number": 1,
            "channel": channel.name,
            "recipient": self.customer_address,
            "text": "We have fixed your invoice.",
            "subject": "Invoice",
        }
        values.update(changes)
        return OutboundMessage(**values)

    # -- identity ------------------------------------------------------------------------
    def test_channel_has_a_name(self, channel: Channel) -> None:
        assert isinstance(channel, Channel)
        assert isinstance(channel.name, str)
        assert channel.name.strip()

    def test_registry_accepts_the_channel(self, channel: Channel) -> None:
        registry = ChannelRegistry([channel])
        assert registry.get(channel.name) is channel
        for alias in channel.aliases:
            assert registry.get(alias) is channel

    # -- outbound ------------------------------------------------------------------------
    def test_deliver_returns_a_receipt_for_that_delivery(self, channel: Channel) -> None:
        self.require("deliver")
        receipt = channel.deliver(self.outbound(channel))
        assert isinstance(receipt, DeliveryReceipt)
        assert receipt.delivery_id == "d-1"
        assert receipt.delivered_at.tzinfo is not None

    def test_deliver_non_ascii_text(self, channel: Channel) -> None:
        self.require("deliver")
        out = self.outbound(channel, text="Здравствуйте! Заявка решена ✅", language="ru")
        assert channel.deliver(out).delivery_id == out.delivery_id

    def test_deliver_fails_only_with_delivery_errors(self, channel: Channel) -> None:
        self.require("deliver")
        # an unreachable recipient may be refused, but only with a DeliveryError
        with contextlib.suppress(DeliveryError):
            channel.deliver(self.outbound(channel, recipient=""))

    @settings(
        max_examples=15,
        deadline=timedelta(seconds=5),
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(data=st.data())
    def test_deliver_any_text(self, channel: Channel, data: st.DataObject) -> None:
        self.require("deliver")
        drawn = data.draw(outbound_messages(channel.name))
        out = self.outbound(
            channel,
            delivery_id=drawn.delivery_id,
            text=drawn.text,
            subject=drawn.subject,
            language=drawn.language,
            kind=drawn.kind,
        )
        assert channel.deliver(out).delivery_id == out.delivery_id

    # -- inbound -------------------------------------------------------------------------
    def test_normalise_gives_an_inbound_message(
        self, channel: Channel, inbound_payload: Any
    ) -> None:
        self.require("normalise")
        if inbound_payload is None or not channel.receives:
            pytest.skip("no inbound payload for this channel")
        msg = channel.normalise(inbound_payload, received_at=_NOW)
        assert isinstance(msg, InboundMessage)
        assert msg.sender.address.strip()
        assert msg.text.strip() or msg.html or msg.attachments
        assert msg.received_at is None or msg.received_at.tzinfo is not None

    def test_normalise_refuses_garbage_with_a_clear_error(self, channel: Channel) -> None:
        self.require("normalise")
        if not channel.receives:
            pytest.skip("outbound-only channel")
        garbage: Any
        for garbage in (None, 42, [], {"nothing": "useful"}):
            with pytest.raises(SupportKitError) as info:
                channel.normalise(garbage, received_at=_NOW)
            assert isinstance(info.value, MalformedMessage | SupportKitError)
            assert str(info.value)

    def test_outbound_only_channel_says_so(self, channel: Channel) -> None:
        if channel.receives:
            pytest.skip("the channel receives")
        with pytest.raises(SupportKitError, match=channel.name):
            channel.normalise({}, received_at=_NOW)

    # -- through a desk --------------------------------------------------------------------
    def test_a_reply_reaches_the_channel_through_the_dispatcher(self, channel: Channel) -> None:
        self.require("deliver")
        from supportkit.channels import OutboundDispatcher
        from supportkit.desk import SupportDesk
        from supportkit.ports._clock import FakeClock

        dispatcher = OutboundDispatcher(ChannelRegistry([channel]))
        desk = SupportDesk(clock=FakeClock(_NOW), extensions=[dispatcher])
        ticket = desk.receive(channel.name, self.customer_address, "Hello")
        reply = desk.reply(ticket.id, "agent-1", "Hello Ann, we are on it.")
        record = dispatcher.status(reply.id)
        assert record is not None
        assert record["status"] == "delivered", record
