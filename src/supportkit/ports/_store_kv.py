"""The keyed-state port: small JSON values under (namespace, key).

For state with no entity of its own: routing cursors, channel positions,
webhook idempotency keys. Values are JSON-compatible (dicts, lists, strings,
numbers, booleans, None) and come back equal to what was put, as copies.
Every method runs inside the unit of work's transaction and sees that
transaction's own earlier writes. Anything read as a collection in the hot
path deserves a typed port of its own instead (see the SLA clock port).
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["KeyValueStore"]


class KeyValueStore(abc.ABC):
    """Small JSON values under (namespace, key)."""

    @abc.abstractmethod
    def kv_get(self, namespace: str, key: str) -> Any | None:
        """The value stored under (namespace, key), or None."""

    @abc.abstractmethod
    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        """Store *value* under (namespace, key), replacing any value (last write wins)."""

    @abc.abstractmethod
    def kv_items(self, namespace: str) -> list[tuple[str, Any]]:
        """Every (key, value) of *namespace*, ordered by key."""
