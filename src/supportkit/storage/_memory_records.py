"""The in-memory typed-record ports (SLA clocks, deliveries, feedback tokens and answers,
acknowledgements) and the undo log."""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs

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

__all__ = ["MemoryRecordStores", "RecordData"]


class RecordData:
    """The tables of the typed-record ports."""

    def __init__(self) -> None:
        self.sla_clocks: dict[str, SlaClockRecord] = {}
        self.sla_keys: list[str] = []  # sorted, for the keyset scan
        self.deliveries: dict[str, StoredDelivery] = {}
        self.delivery_ids: dict[str, str] = {}
        self.feedback_tokens: dict[str, ClaimedFeedbackToken] = {}
        self.feedback_answers: dict[str, FeedbackAnswer] = {}
        self.acknowledgements: dict[str, tuple[datetime, ...]] = {}
        self.cursors: dict[str, Cursor] = {}


class MemoryRecordStores(
    SlaClockStore,
    DeliveryStore,
    FeedbackTokenStore,
    FeedbackAnswerStore,
    AcknowledgementStore,
    CursorStore,
):
    """Typed records in dicts; every write pushes its inverse on the unit of work's undo log."""

    _d: RecordData
    _undo: list[Callable[[], None]]

    def _put(self, table: dict[str, Any], key: str, value: Any) -> None:
        missing = object()
        old = table.get(key, missing)
        table[key] = value

        def undo() -> None:
            if old is missing:
                table.pop(key, None)
            else:
                table[key] = old

        self._undo.append(undo)

    # -- SLA clocks -------------------------------------------------------------------------
    def get_sla_clock(self, key: str) -> SlaClockRecord | None:
        found = self._d.sla_clocks.get(key)
        return None if found is None else _copy_clock(found)

    def sla_clocks_for(self, ticket_id: str) -> list[SlaClockRecord]:
        return sorted(
            (
                _copy_clock(r)
                for r in self._d.sla_clocks.values()
                if r.ticket_id == ticket_id and not r.archived
            ),
            key=lambda r: r.key,
        )

    def put_sla_clock(self, record: SlaClockRecord) -> None:
        d = self._d
        if record.key not in d.sla_clocks:
            bisect.insort(d.sla_keys, record.key)
            self._undo.append(lambda: d.sla_keys.remove(record.key))
        self._put(d.sla_clocks, record.key, _copy_clock(record))

    def sla_clocks_after(self, key: str | None, limit: int = 500) -> list[SlaClockRecord]:
        d = self._d
        start = 0 if key is None else bisect.bisect_right(d.sla_keys, key)
        return [_copy_clock(d.sla_clocks[k]) for k in d.sla_keys[start : start + limit]]

    # -- deliveries -------------------------------------------------------------------------
    def get_delivery(self, delivery_id: str) -> StoredDelivery | None:
        found = self._d.deliveries.get(delivery_id)
        return None if found is None else attrs.evolve(found, data=copy.deepcopy(found.data))

    def put_delivery(self, delivery: StoredDelivery) -> None:
        stored = attrs.evolve(delivery, data=copy.deepcopy(delivery.data))
        self._put(self._d.deliveries, delivery.id, stored)

    def index_external_id(self, external_id: str, ticket_id: str, delivery_id: str) -> None:
        self._put(self._d.delivery_ids, external_id, ticket_id)

    def ticket_for_external_id(self, external_id: str) -> str | None:
        return self._d.delivery_ids.get(external_id)

    # -- feedback tokens --------------------------------------------------------------------
    def claim_feedback_token(self, token_id: str, ticket_id: str, at: datetime) -> bool:
        if token_id in self._d.feedback_tokens:
            return False
        self._put(self._d.feedback_tokens, token_id, ClaimedFeedbackToken(token_id, ticket_id, at))
        return True

    def get_feedback_token(self, token_id: str) -> ClaimedFeedbackToken | None:
        return self._d.feedback_tokens.get(token_id)

    # -- feedback answers -------------------------------------------------------------------
    def add_feedback_answer(self, answer: FeedbackAnswer) -> bool:
        if answer.ticket_id in self._d.feedback_answers:
            return False
        self._put(self._d.feedback_answers, answer.ticket_id, answer)
        return True

    def get_feedback_answer(self, ticket_id: str) -> FeedbackAnswer | None:
        return self._d.feedback_answers.get(ticket_id)

    def feedback_answers_after(
        self, ticket_id: str | None, limit: int = 500
    ) -> list[FeedbackAnswer]:
        answers = self._d.feedback_answers
        keys = sorted(k for k in answers if k > (ticket_id or ""))
        return [answers[k] for k in keys[:limit]]

    # -- acknowledgements -------------------------------------------------------------------
    def claim_acknowledgement(
        self, sender: str, at: datetime, *, window: timedelta, limit: int
    ) -> bool:
        start = at - window
        recent = tuple(t for t in self._d.acknowledgements.get(sender, ()) if t > start)
        if len(recent) >= limit:
            return False
        self._put(self._d.acknowledgements, sender, (*recent, at))
        return True

    def acknowledgements_since(self, sender: str, since: datetime) -> list[datetime]:
        return sorted(t for t in self._d.acknowledgements.get(sender, ()) if t > since)

    # -- cursors ----------------------------------------------------------------------------
    def get_cursor(self, name: str) -> Cursor | None:
        found = self._d.cursors.get(name)
        return (
            None if found is None else attrs.evolve(found, state=copy.deepcopy(dict(found.state)))
        )

    def put_cursor(self, cursor: Cursor) -> None:
        self._put(
            self._d.cursors,
            cursor.name,
            attrs.evolve(cursor, state=copy.deepcopy(dict(cursor.state))),
        )


def _copy_clock(r: SlaClockRecord) -> SlaClockRecord:
    return attrs.evolve(r, data=copy.deepcopy(dict(r.data)))
