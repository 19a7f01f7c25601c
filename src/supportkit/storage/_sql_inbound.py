"""The SQL raw inbound and keyed-state ports (``sk_raw_inbound``, ``sk_kv``).

A raw message's lease lives in ``sk_raw_inbound.claimed_until`` (integer
microseconds, NULL = free; core schema version 3). A claim is one
conditional ``UPDATE ... SET claimed_until = until, status = 'pending'
WHERE id = ? AND (status = 'failed' OR (status = 'pending' AND the lease is
free))`` that changed one row or none: on PostgreSQL (and MariaDB) the row
lock makes two concurrent claims of one row end with one winner (the WHERE
is re-checked after the lock); SQLite serialises writers anyway.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .._convert import dumps
from ..domain._errors import DuplicateError, NotFound
from ..ports._storage import KeyValueStore, RawInbound, RawInboundStore
from ..ports._store_inbound import CLAIMABLE_STATUSES
from ._sql_base import KEY, SqlBase, from_us, like_escape, to_us

__all__ = ["SqlKeyValueStore", "SqlRawInboundStore"]


class SqlRawInboundStore(SqlBase, RawInboundStore):
    """Raw inbound messages, unique per (channel, external id)."""

    def add_raw_inbound(self, raw: RawInbound) -> bool:
        if raw.external_id is not None:
            row = self.one(
                "SELECT 1 FROM sk_raw_inbound WHERE desk = ? AND channel = ? AND external_id = ?",
                (self.desk, raw.channel, raw.external_id),
            )
            if row is not None:
                return False
        try:
            self.x(
                "INSERT INTO sk_raw_inbound (desk, id, channel, external_id, received_at, raw, "
                "status, ticket_id, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.desk,
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
            "UPDATE sk_raw_inbound SET status = ?, ticket_id = ?, error = ? "
            "WHERE desk = ? AND id = ?",
            (status, ticket_id, error, self.desk, raw_id),
        )
        if cur.rowcount != 1:
            raise NotFound("raw inbound message", raw_id)

    def list_raw_inbound(self, status: str | None = None, limit: int = 100) -> list[RawInbound]:
        cols = "id, channel, received_at, raw, external_id, status, ticket_id, error"
        if status is None:
            rows = self.all(
                f"SELECT {cols} FROM sk_raw_inbound WHERE desk = ? ORDER BY received_at, id "
                "LIMIT ?",
                (self.desk, limit),
            )
        else:
            rows = self.all(
                f"SELECT {cols} FROM sk_raw_inbound WHERE desk = ? AND status = ? "
                "ORDER BY received_at, id LIMIT ?",
                (self.desk, status, limit),
            )
        return [
            RawInbound(r[0], r[1], from_us(r[2]), bytes(r[3]), r[4], r[5], r[6], r[7])  # type: ignore[arg-type]
            for r in rows
        ]

    def claim_raw_inbound(self, raw_id: str, now: datetime, until: datetime) -> RawInbound | None:
        cur = self.x(
            "UPDATE sk_raw_inbound SET claimed_until = ?, status = 'pending' "
            f"WHERE desk = ? AND id = ? AND {_FREE}",
            (to_us(until), self.desk, raw_id, to_us(now)),
        )
        if cur.rowcount != 1:
            return None
        row = self.one(
            f"SELECT {_RAW_COLS} FROM sk_raw_inbound WHERE desk = ? AND id = ?", (self.desk, raw_id)
        )
        return _raw_row(row)

    def raw_inbound_by_key(self, channel: str, external_id: str) -> RawInbound | None:
        row = self.one(
            f"SELECT {_RAW_COLS} FROM sk_raw_inbound WHERE desk = ? AND channel = ? "
            "AND external_id = ?",
            (self.desk, channel, external_id),
        )
        return None if row is None else _raw_row(row)

    def claimable_raw_inbound(
        self, now: datetime, channel_prefix: str = "", limit: int = 100
    ) -> list[RawInbound]:
        rows = self.all(
            f"SELECT {_RAW_COLS} FROM sk_raw_inbound WHERE desk = ? AND {_FREE} "
            "AND channel LIKE ? ESCAPE '\\' "
            "ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END, received_at, id LIMIT ?",
            (self.desk, to_us(now), like_escape(channel_prefix.replace("\x00", "")) + "%", limit),
        )
        return [_raw_row(r) for r in rows]


_RAW_COLS = "id, channel, received_at, raw, external_id, status, ticket_id, error"
#: claimable: pending or failed, and the last lease (the last attempt's) ran out, so a failed
#: row is retried once per lease and never holds back the pending rows behind it
_FREE = "(status IN ('pending', 'failed') AND (claimed_until IS NULL OR claimed_until <= ?))"
assert all(f"'{s}'" in _FREE for s in CLAIMABLE_STATUSES)


def _raw_row(r: Any) -> RawInbound:
    return RawInbound(r[0], r[1], from_us(r[2]), bytes(r[3]), r[4], r[5], r[6], r[7])  # type: ignore[arg-type]


class SqlKeyValueStore(SqlBase, KeyValueStore):
    """JSON values in ``sk_kv`` under (namespace, key)."""

    def kv_get(self, namespace: str, key: str) -> Any | None:
        row = self.one(
            'SELECT value FROM sk_kv WHERE desk = ? AND namespace = ? AND "key" = ?',
            (self.desk, namespace, key),
        )
        return None if row is None else json.loads(row[0])

    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        self.x(
            self.upsert_sql("sk_kv", ("desk", "namespace", KEY), ("value",)),
            (self.desk, namespace, key, dumps(value)),
        )

    def kv_items(self, namespace: str) -> list[tuple[str, Any]]:
        rows = self.all(
            'SELECT "key", value FROM sk_kv WHERE desk = ? AND namespace = ? ORDER BY "key"',
            (self.desk, namespace),
        )
        return [(r[0], json.loads(r[1])) for r in rows]
