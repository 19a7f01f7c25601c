"""The channel port: retry policy, registry, entry-point plugins, the automatic-message flag."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import EntryPoint

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit import ConfigurationError, NotFound, PluginError
from supportkit.channels import (
    Channel,
    ChannelRegistry,
    MemoryChannel,
    RetryPolicy,
    is_automated_meta,
)


def test_backoff_doubles_from_the_base_and_is_capped() -> None:
    policy = RetryPolicy(base=timedelta(seconds=10), max_delay=timedelta(seconds=50))
    assert [policy.delay(n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 50, 50]


@given(st.integers(1, 60), st.integers(1, 3600), st.floats(1, 4))
def test_backoff_never_shrinks_and_never_passes_the_cap(n: int, base: int, factor: float) -> None:
    policy = RetryPolicy(base=timedelta(seconds=base), factor=factor)
    assert policy.delay(n) <= policy.delay(n + 1) <= policy.max_delay


def test_policy_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert not policy.gives_up_after(2)
    assert policy.gives_up_after(3)


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ConfigurationError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigurationError, match="backoff"):
        RetryPolicy(base=timedelta(0))


def test_registry_routes_aliases_to_their_channel() -> None:
    webhook = MemoryChannel("webhook", aliases=("telegram",))
    registry = ChannelRegistry([webhook])
    registry.add(MemoryChannel("email"), also_for=["webform"])
    assert registry.get("telegram") is webhook
    assert registry.get("webform").name == "email"
    assert "webform" in registry
    assert registry.names() == ["email", "webhook"]


def test_registry_names_what_it_knows_when_a_channel_is_missing() -> None:
    with pytest.raises(NotFound, match=r"sms.*\['email'\]"):
        ChannelRegistry([MemoryChannel("email")]).get("sms")


def test_registry_refuses_two_channels_for_one_ticket_channel() -> None:
    registry = ChannelRegistry([MemoryChannel("email")])
    with pytest.raises(ConfigurationError, match="two channels are named 'email'"):
        registry.add(MemoryChannel("email"))
    with pytest.raises(ConfigurationError, match="delivered by 'email'"):
        registry.add(MemoryChannel("other"), also_for=["email"])


def test_registry_refuses_objects_that_are_not_channels() -> None:
    with pytest.raises(PluginError, match=r"not a supportkit\.ports\.Channel"):
        ChannelRegistry([object()])  # type: ignore[list-item]


def test_a_channel_without_a_name_is_refused() -> None:
    with pytest.raises(PluginError, match="has no name"):
        ChannelRegistry([MemoryChannel("")])


def _eps(*pairs: tuple[str, str]) -> ChannelRegistry:
    eps = [EntryPoint(name, value, "supportkit.channels") for name, value in pairs]
    return ChannelRegistry(entry_points=lambda: eps)


def test_entry_point_plugins_are_loaded_and_built() -> None:
    registry = _eps(("memory", "supportkit.channels.memory:MemoryChannel"))
    assert set(registry.plugins()) == {"memory"}
    channel = registry.load("memory", "sms")
    assert registry.get("sms") is channel


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("supportkit.nowhere:Thing", "failed to import"),
        ("supportkit.channels._dispatch:OutboundDispatcher", "not a subclass"),
        ("supportkit.ports._channel:Channel", "is abstract"),
    ],
)
def test_a_broken_plugin_is_named_in_the_error(value: str, message: str) -> None:
    with pytest.raises(
        PluginError, match=rf"channel plugin 'broken' \(entry point broken = .*{message}"
    ):
        _eps(("broken", value)).plugins()


def test_loading_an_unknown_plugin_lists_the_installed_ones() -> None:
    registry = _eps(("memory", "supportkit.channels.memory:MemoryChannel"))
    with pytest.raises(PluginError, match=r"no channel plugin named 'sms'.*\['memory'\]"):
        registry.load("sms")


def test_a_plugin_that_fails_to_build_is_named() -> None:
    registry = _eps(("memory", "supportkit.channels.memory:MemoryChannel"))
    with pytest.raises(PluginError, match="'memory' failed to build"):
        registry.load("memory", unknown_setting=1)


def test_installed_entry_points_are_read_without_error() -> None:
    assert isinstance(ChannelRegistry().plugins(), dict)


def test_base_channel_says_clearly_it_does_not_normalise() -> None:
    class OutOnly(Channel):
        name = "out"

        def deliver(self, outbound):  # type: ignore[no-untyped-def]
            raise NotImplementedError

    from datetime import UTC, datetime

    from supportkit import ChannelError

    with pytest.raises(ChannelError, match=r"'out'.*does not normalise"):
        OutOnly().normalise({}, received_at=datetime.now(UTC))


@pytest.mark.parametrize(
    ("meta", "automated"),
    [
        (None, False),
        ({}, False),
        ({"auto_submitted": "no"}, False),
        ({"auto_submitted": False}, False),
        ({"auto_submitted": "auto-replied"}, True),
        ({"auto_submitted": True}, True),
        ({"auto_submitted": "bounce"}, True),
    ],
)
def test_the_automatic_flag_follows_rfc_3834_values(
    meta: dict[str, object], automated: bool
) -> None:
    assert is_automated_meta(meta) is automated
