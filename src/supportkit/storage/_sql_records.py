"""The SQL typed-record ports: SLA clocks, outbound deliveries, used feedback tokens,
feedback answers and automatic acknowledgements."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._convert import dumps
from ..ports._storage import (
    AcknowledgementStore,
    ClaimedFeedbackToken,
    Cursor,
    CursorStore,
    DeliveryStore,
    FeedbackAnswer,
    FeedbackAnswerStore,
    FeedbackTokenStore,
    SlaClockRecord,
    SlaClockStore,
    StoredDelivery,
)
from ._sql_base import KEY, SqlBase, from_us, to_us

__all__ = [
    "SqlAcknowledgementStore",
    "SqlCursorStore",
    "SqlDeliveryStore",
    "SqlFeedbackAnswerStore",
    "SqlFeedbackTokenStore",
    "SqlSlaClockStore",
]

_CLOCK_COLS = '"key", ticket_id, kind, archived, excluded, data'


def _clock(r: Any) -> SlaClockRecord:
    return SlaClockRecord(r[0], r[1], r[2], json.loads(r[5]), bool(r[3]), bool(r[4]))


class SqlSlaClockStore(SqlBase, SlaClockStore):
    """Clocks in ``sk_sla_clocks``, keyed by ``key``, indexed by ticket."""

    def get_sla_clock(self, key: str) -> SlaClockRecord | None:
        row = self.one(
            f'SELECT {_CLOCK_COLS} FROM sk_sla_clocks WHERE desk = ? AND "key" = ?',
            (self.desk, key),
        )
        return None if row is None else _clock(row)

    def sla_clocks_for(self, ticket_id: str) -> list[SlaClockRecord]:
        rows = self.all(
            f"SELECT {_CLOCK_COLS} FROM sk_sla_clocks WHERE desk = ? AND ticket_id = ? "
            'AND archived = 0 ORDER BY "key"',
            (self.desk, ticket_id),
        )
        return [_clock(r) for r in rows]

    def put_sla_clock(self, record: SlaClockRecord) -> None:
        r = record
        self.x(
            self.upsert_sql(
                "sk_sla_clocks",
                ("desk", KEY),
                ("ticket_id", "kind", "archived", "excluded", "data"),
            ),
            (
                self.desk,
                r.key,
                r.ticket_id,
                r.kind,
                int(r.archived),
                int(r.excluded),
                dumps(dict(r.data)),
            ),
        )

    def sla_clocks_after(self, key: str | None, limit: int = 500) -> list[SlaClockRecord]:
        rows = self.all(
            f'SELECT {_CLOCK_COLS} FROM sk_sla_clocks WHERE desk = ? AND "key" > ? '
            'ORDER BY "key" LIMIT ?',
            (self.desk, key or "", limit),
        )
        return [_clock(r) for r in rows]


class SqlDeliveryStore(SqlBase, DeliveryStore):
    """Deliveries in ``sk_deliveries``; channel ids in ``sk_delivery_ids``."""

    def get_delivery(self, delivery_id: str) -> StoredDelivery | None:
        row = self.one(
            "SELECT id, ticket_id, status, data FROM sk_deliveries WHERE desk = ? AND id = ?",
            (self.desk, delivery_id),
        )
        return None if row is None else StoredDelivery(row[0], row[1], row[2], json.loads(row[3]))

    def put_delivery(self, delivery: StoredDelivery) -> None:
        d = delivery
        self.x(
            self.upsert_sql("sk_deliveries", ("desk", "id"), ("ticket_id", "status", "data")),
            (self.desk, d.id, d.ticket_id, d.status, dumps(d.data)),
        )

    def index_external_id(self, external_id: str, ticket_id: str, delivery_id: str) -> None:
        self.x(
            self.upsert_sql(
                "sk_delivery_ids", ("desk", "external_id"), ("ticket_id", "delivery_id")
            ),
            (self.desk, external_id, ticket_id, delivery_id),
        )

    def ticket_for_external_id(self, external_id: str) -> str | None:
        row = self.one(
            "SELECT ticket_id FROM sk_delivery_ids WHERE desk = ? AND external_id = ?",
            (self.desk, external_id),
        )
        return None if row is None else str(row[0])


class SqlFeedbackTokenStore(SqlBase, FeedbackTokenStore):
    """Used tokens in ``sk_feedback_tokens``; the primary key decides a race."""

    def claim_feedback_token(self, token_id: str, ticket_id: str, at: datetime) -> bool:
        cur = self.x(
            self.insert_ignore_sql(
                "sk_feedback_tokens", ("desk", "token_id"), ("ticket_id", "used_at")
            ),
            (self.desk, token_id, ticket_id, to_us(at)),
        )
        return bool(cur.rowcount == 1)

    def get_feedback_token(self, token_id: str) -> ClaimedFeedbackToken | None:
        row = self.one(
            "SELECT token_id, ticket_id, used_at FROM sk_feedback_tokens "
            "WHERE desk = ? AND token_id = ?",
            (self.desk, token_id),
        )
        if row is None:
            return None
        return ClaimedFeedbackToken(row[0], row[1], from_us(row[2]))  # type: ignore[arg-type]


_ANSWER_COLS = "ticket_id, csat, nps, comment, at"


def _answer(r: Any) -> FeedbackAnswer:
    return FeedbackAnswer(r[0], int(r[1]), None if r[2] is None else int(r[2]), r[3], from_us(r[4]))  # type: ignore[arg-type]


class SqlFeedbackAnswerStore(SqlBase, FeedbackAnswerStore):
    """Answers in ``sk_feedback_answers``; the primary key (desk, ticket) decides a race."""

    def add_feedback_answer(self, answer: FeedbackAnswer) -> bool:
        a = answer
        cur = self.x(
            self.insert_ignore_sql(
                "sk_feedback_answers", ("desk", "ticket_id"), ("csat", "nps", "comment", "at")
            ),
            (self.desk, a.ticket_id, a.csat, a.nps, a.comment, to_us(a.at)),
        )
        return bool(cur.rowcount == 1)

    def get_feedback_answer(self, ticket_id: str) -> FeedbackAnswer | None:
        row = self.one(
            f"SELECT {_ANSWER_COLS} FROM sk_feedback_answers WHERE desk = ? AND ticket_id = ?",
            (self.desk, ticket_id),
        )
        return None if row is None else _answer(row)

    def feedback_answers_after(
        self, ticket_id: str | None, limit: int = 500
    ) -> list[FeedbackAnswer]:
        rows = self.all(
            f"SELECT {_ANSWER_COLS} FROM sk_feedback_answers WHERE desk = ? AND ticket_id > ? "
            "ORDER BY ticket_id LIMIT ?",
            (self.desk, ticket_id or "", limit),
        )
        return [_answer(r) for r in rows]


class SqlAcknowledgementStore(SqlBase, AcknowledgementStore):
    """One row per acknowledgement in ``sk_acknowledgements``, indexed by sender and time.

    A claim takes the coordination port's named lock on the sender first
    (PostgreSQL: an advisory transaction lock; SQLite: writers are serialised
    already; MariaDB: a row lock), so concurrent claims count each other.
    """

    if TYPE_CHECKING:

        def lock(self, name: str) -> None: ...  # the coordination port's, same unit of work

    def claim_acknowledgement(
        self, sender: str, at: datetime, *, window: timedelta, limit: int
    ) -> bool:
        self.lock(f"acknowledgement:{sender}")
        start = to_us(at - window)
        row = self.one(
            "SELECT COUNT(*) FROM sk_acknowledgements WHERE desk = ? AND sender = ? AND at > ?",
            (self.desk, sender, start),
        )
        if int(row[0]) >= limit:
            return False
        self.x(
            "DELETE FROM sk_acknowledgements WHERE desk = ? AND sender = ? AND at <= ?",
            (self.desk, sender, start),
        )
        self.x(
            "INSERT INTO sk_acknowledgements (desk, sender, at) VALUES (?, ?, ?)",
            (self.desk, sender, to_us(at)),
        )
        return True

    def acknowledgements_since(self, sender: str, since: datetime) -> list[datetime]:
        rows = self.all(
            "SELECT at FROM sk_acknowledgements WHERE desk = ? AND sender = ? AND at > ? "
            "ORDER BY at",
            (self.desk, sender, to_us(since)),
        )
        return [from_us(r[0]) for r in rows]  # type: ignore[misc]


class SqlCursorStore(SqlBase, CursorStore):
    """Cursors in ``sk_cursors``, keyed by name."""

    def get_cursor(self, name: str) -> Cursor | None:
        row = self.one(
            "SELECT name, position, epoch, state FROM sk_cursors WHERE desk = ? AND name = ?",
            (self.desk, name),
        )
        return None if row is None else Cursor(row[0], int(row[1]), row[2], json.loads(row[3]))

    def put_cursor(self, cursor: Cursor) -> None:
        c = cursor
        self.x(
            self.upsert_sql("sk_cursors", ("desk", "name"), ("position", "epoch", "state")),
            (self.desk, c.name, c.position, c.epoch, dumps(dict(c.state))),
        )
