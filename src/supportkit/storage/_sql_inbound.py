"""The SQL raw inbound and keyed-state ports (``sk_raw_inbound``, ``sk_kv``)."""

from __future__ import annotations

import json
from typing import Any

from .._convert import dumps
from ..domain._errors import DuplicateError, NotFound
from ..ports._storage import KeyValueStore, RawInbound, RawInboundStore
from ._sql_base import SqlBase, from_us, to_us

__all__ = ["SqlKeyValueStore", "SqlRawInboundStore"]


class SqlRawInboundStore(SqlBase, RawInboundStore):
    """Raw inbound messages, unique per (channel, external id)."""

    def add_raw_inbound(self, raw: RawInbound) -> bool:
        if raw.external_id is not None:
            row = self.one(
                "SELECT 1 FROM sk_raw_inbound WHERE channel = ? AND external_id = ?",
                (raw.channel, raw.external_id),
            )
            if row is not None:
                return False
        try:
            self.x(
                "INSERT INTO sk_raw_inbound (id, channel, external_id, received_at, raw, status, "
                "ticket_id, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    raw.id,
                    raw.channel,
                    raw.external_id,
                    to_us(raw.received_at),
                    raw.raw,
                    raw.status,
                    raw.ticket_id,
                    raw.error,
                ),
            )
        except DuplicateError as exc:
            raise DuplicateError(f"raw inbound id {raw.id!r} exists already") from exc.__cause__
        return True

    def update_raw_inbound(
        self, raw_id: str, status: str, ticket_id: str | None = None, error: str | None = None
    ) -> None:
        cur = self.x(
            "UPDATE sk_raw_inbound SET status = ?, ticket_id = ?, error = ? WHERE id = ?",
            (status, ticket_id, error, raw_id),
        )
        if cur.rowcount != 1:
            raise NotFound("raw inbound message", raw_id)

    def list_raw_inbound(self, status: str | None = None, limit: int = 100) -> list[RawInbound]:
        cols = "id, channel, received_at, raw, external_id, status, ticket_id, error"
        if status is None:
            rows = self.all(
                f"SELECT {cols} FROM sk_raw_inbound ORDER BY received_at, id LIMIT ?", (limit,)
            )
        else:
            rows = self.all(
                f"SELECT {cols} FROM sk_raw_inbound WHERE status = ? ORDER BY received_at, id "
                "LIMIT ?",
                (status, limit),
            )
        return [
            RawInbound(r[0], r[1], from_us(r[2]), bytes(r[3]), r[4], r[5], r[6], r[7])  # type: ignore[arg-type]
            for r in rows
        ]


class SqlKeyValueStore(SqlBase, KeyValueStore):
    """JSON values in ``sk_kv`` under (namespace, key)."""

    def kv_get(self, namespace: str, key: str) -> Any | None:
        row = self.one("SELECT value FROM sk_kv WHERE namespace = ? AND key = ?", (namespace, key))
        return None if row is None else json.loads(row[0])

    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        self.x(
            self.upsert_sql("sk_kv", ("namespace", "key"), ("value",)),
            (namespace, key, dumps(value)),
        )

    def kv_items(self, namespace: str) -> list[tuple[str, Any]]:
        rows = self.all(
            "SELECT key, value FROM sk_kv WHERE namespace = ? ORDER BY key", (namespace,)
        )
        return [(r[0], json.loads(r[1])) for r in rows]
