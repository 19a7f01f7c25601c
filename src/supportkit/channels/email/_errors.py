"""Email channel errors: whether trying again later can help.

::

    ChannelError (supportkit.domain)
     +-- DeliveryError (supportkit.ports)
          +-- TransientDeliveryError
          |    +-- TransientChannelError   4xx, connection refused/reset, timeout: retry with backoff
          +-- PermanentDeliveryError
               +-- PermanentChannelError   5xx, bad credentials, rejected recipient: store and report

They are the port's delivery errors, so the
:class:`~supportkit.channels.OutboundDispatcher` retries or records them
like any channel's; IMAP failures use the same two classes (retry the poll
later, or fix the configuration). ``retryable`` lets a caller decide
without importing the email package; ``code`` is the SMTP reply code, if any.
"""

from __future__ import annotations

from typing import ClassVar

from supportkit.ports._channel import PermanentDeliveryError, TransientDeliveryError

__all__ = ["PermanentChannelError", "TransientChannelError"]


class TransientChannelError(TransientDeliveryError):
    """The server or network failed for now; the same delivery may succeed later."""

    retryable: ClassVar[bool] = True

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)


class PermanentChannelError(PermanentDeliveryError):
    """The server refused for good; retrying the same delivery will fail again."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)
