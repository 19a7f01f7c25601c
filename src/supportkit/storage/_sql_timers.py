"""The SQL timers port (:class:`~supportkit.ports.TimerStore`): ``sk_timers`` by due time."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .._convert import dumps
from ..ports._storage import Timer, TimerStore
from ._sql_base import KEY, SqlBase, from_us, to_us

__all__ = ["SqlTimerStore", "timers_from_rows"]


def timers_from_rows(rows: list[Any]) -> list[Timer]:
    """Timer rows ``(key, due_at, kind, ticket_id, payload)`` as timers."""
    return [Timer(r[0], from_us(r[1]), r[2], r[3], json.loads(r[4])) for r in rows]  # type: ignore[arg-type]


class SqlTimerStore(SqlBase, TimerStore):
    """Timers keyed by ``key``, indexed by due time."""

    def schedule_timer(self, timer: Timer) -> None:
        self.x(
            self.upsert_sql("sk_timers", ("desk", KEY), ("due_at", "kind", "ticket_id", "payload")),
            (
                self.desk,
                timer.key,
                to_us(timer.due_at),
                timer.kind,
                timer.ticket_id,
                dumps(timer.payload),
            ),
        )

    def cancel_timer(self, key: str) -> None:
        self.x('DELETE FROM sk_timers WHERE desk = ? AND "key" = ?', (self.desk, key))

    def _timers(self, rows: list[Any]) -> list[Timer]:
        return timers_from_rows(rows)

    def due_timers(self, now: datetime, limit: int = 1000) -> list[Timer]:
        return self._timers(
            self.all(
                'SELECT "key", due_at, kind, ticket_id, payload FROM sk_timers WHERE desk = ? '
                'AND due_at <= ? ORDER BY due_at, "key" LIMIT ?',
                (self.desk, to_us(now), limit),
            )
        )

    def timers_for(self, ticket_id: str) -> list[Timer]:
        return self._timers(
            self.all(
                'SELECT "key", due_at, kind, ticket_id, payload FROM sk_timers WHERE desk = ? '
                'AND ticket_id = ? ORDER BY due_at, "key"',
                (self.desk, ticket_id),
            )
        )
