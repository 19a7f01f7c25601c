"""EmailChannel passes the ChannelContract suite against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from supportkit.channels import Channel, ChannelRegistry
from supportkit.channels.email import EmailChannel, PermanentChannelError, parse_email
from supportkit.testing.channel_contract import ChannelContract

RAW = (
    b"From: Ann Lee <ann@example.com>\r\nTo: desk@support.example\r\n"
    b"Subject: Invoice\r\nMessage-ID: <m-1@example.com>\r\n\r\nMy invoice is wrong\r\n"
)


@pytest.mark.email_servers
class TestEmailChannel(ChannelContract):
    @pytest.fixture
    def channel(self, mail_servers: Any) -> Iterator[Channel]:
        _, smtp = mail_servers
        # built the way a host builds it: the entry point, with settings
        registry = ChannelRegistry()
        channel = registry.load(
            "email",
            address="Support <desk@support.example>",
            sender=f"smtp://127.0.0.1:{smtp.port}",
        )
        assert isinstance(channel, EmailChannel)
        yield channel
        # whatever the suite delivered reached the server as well-formed mail
        for raw in smtp.received:
            assert parse_email(raw).sender.address == "desk@support.example"

    @pytest.fixture
    def inbound_payload(self) -> Any:
        return RAW


def test_the_entry_point_builds_a_bare_channel_that_refuses_to_deliver_clearly() -> None:
    channel = ChannelRegistry().load("email")
    assert isinstance(channel, EmailChannel)
    assert channel.name == "email"
    from supportkit.ports import OutboundMessage

    with pytest.raises(PermanentChannelError, match="from_settings"):
        channel.deliver(OutboundMessage("d", "t", 1, "email", "ann@example.com", "hi"))


def test_settings_are_checked_when_the_channel_is_built() -> None:
    from supportkit import PluginError

    with pytest.raises(PluginError, match="unknown keys"):
        ChannelRegistry().load("email", sender={"hots": "mail.example.com"})
    with pytest.raises(PluginError, match="not one email address"):
        ChannelRegistry().load("email", address="not an address")
    channel = EmailChannel.from_settings(
        address="desk@support.example",
        smtp={"host": "mail.example.com", "port": 2525},
        imap="imap://desk%40support.example:p%40ss@mail.example.com/Support",
    )
    assert channel.poller is not None
    assert (channel.poller.username, channel.poller.password) == ("desk@support.example", "p@ss")
    assert channel.poller.folder == "Support"
    assert channel.sender is not None
    assert channel.sender.port == 2525
