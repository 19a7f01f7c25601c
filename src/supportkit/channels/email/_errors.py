"""Email channel errors: whether trying again later can help.

::

    ChannelError (supportkit.domain)
     +-- TransientChannelError     4xx, connection refused/reset, timeout: retry with backoff
     +-- PermanentChannelError     5xx, bad credentials, rejected recipient: store and report

``retryable`` lets an outbox decide without importing the email package.
"""

from __future__ import annotations

from typing import ClassVar

from supportkit.domain._errors import ChannelError

__all__ = ["PermanentChannelError", "TransientChannelError"]


class TransientChannelError(ChannelError):
    """The server or network failed for now; the same delivery may succeed later."""

    retryable: ClassVar[bool] = True

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)


class PermanentChannelError(ChannelError):
    """The server refused for good; retrying the same delivery will fail again."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)
