"""An in-memory channel for tests and demos, like httpx's ``MockTransport``.

It keeps what it delivered in :attr:`MemoryChannel.sent`; a *handler* can
answer each delivery instead (return a receipt, or raise a DeliveryError)
to script failures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..domain._errors import MalformedMessage
from ..ports._channel import (
    Channel,
    DeliveryError,
    DeliveryReceipt,
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from ..ports._clock import Clock, SystemClock
from ._inbound import Address, InboundMessage

__all__ = ["MemoryChannel"]

Handler = Callable[[OutboundMessage], DeliveryReceipt | None]


class MemoryChannel(Channel):
    """Delivers into a list; inbound payloads are plain mappings.

    >>> ch = MemoryChannel("chat")
    >>> ch.fail_next(2)              # the next two deliveries fail transiently
    >>> ch.fail_next(1, permanent=True)
    """

    def __init__(
        self,
        name: str = "memory",
        *,
        aliases: tuple[str, ...] = (),
        handler: Handler | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()
        self.aliases = aliases
        self.handler = handler
        self.sent: list[OutboundMessage] = []
        self.attempts: list[OutboundMessage] = []
        self._failures: list[DeliveryError] = []
        self._lock = threading.Lock()

    def fail_next(self, times: int = 1, *, permanent: bool = False, error: str = "") -> None:
        """Make the next *times* deliveries raise a transient (or permanent) DeliveryError."""
        cls = PermanentDeliveryError if permanent else TransientDeliveryError
        detail = error or ("recipient refused" if permanent else "temporarily unavailable")
        with self._lock:
            self._failures.extend(cls(f"{self.name}: {detail}") for _ in range(times))

    def normalise(self, payload: Any, *, received_at: datetime) -> InboundMessage:
        if not isinstance(payload, Mapping):
            raise MalformedMessage(
                f"{self.name}: expected a mapping with sender and text, got "
                f"{type(payload).__name__}"
            )
        sender = payload.get("sender")
        text = payload.get("text")
        if not isinstance(sender, str) or not sender.strip():
            raise MalformedMessage(f"{self.name}: payload has no 'sender' string")
        if not isinstance(text, str) or not text.strip():
            raise MalformedMessage(f"{self.name}: the payload has no 'text'")
        ext = payload.get("external_id")
        return InboundMessage(
            channel=self.name,
            external_id=str(ext) if ext is not None else None,
            sender=Address(sender.strip(), str(payload.get("name") or "")),
            subject=str(payload.get("subject") or ""),
            text=text,
            full_text=text,
            in_reply_to=payload.get("in_reply_to"),
            received_at=received_at,
        )

    def deliver(self, outbound: OutboundMessage) -> DeliveryReceipt:
        with self._lock:
            self.attempts.append(outbound)
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            raise failure
        receipt = self.handler(outbound) if self.handler else None
        if receipt is None:
            receipt = DeliveryReceipt(
                outbound.delivery_id,
                self.name,
                self.clock.now(),
                external_id=f"{self.name}-{len(self.sent) + 1}",
            )
        with self._lock:
            self.sent.append(outbound)
        return receipt

    def texts(self) -> list[str]:
        """The texts delivered so far, in order."""
        return [m.text for m in self.sent]
