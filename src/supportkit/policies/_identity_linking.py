"""Which senders prove who they are, and whether the desk links profiles by it."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["IdentityLinking"]


def _channels(value: Iterable[str]) -> frozenset[str]:
    return frozenset({value} if isinstance(value, str) else value)


@attrs.frozen
class IdentityLinking:
    """The desk's rule for one customer across channels (``SupportDesk(identity_linking=...)``).

    *verified_channels*: a message's sender on these channels is a verified
    identity (the mailbox that wrote, the number the telephony system
    reports). A host that authenticates a sender (a signed-in user, a signed
    webhook) says so per message with ``desk.receive(..., sender_verified=True)``.
    *enabled*: False keeps every profile apart (contacts are not looked at).
    """

    verified_channels: frozenset[str] = attrs.field(
        default=frozenset({"email", "phone"}), converter=_channels
    )
    enabled: bool = True
