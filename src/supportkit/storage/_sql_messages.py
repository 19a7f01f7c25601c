"""The SQL messages and history port (:class:`~supportkit.ports.MessageStore`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .._convert import dumps, structure, unstructure
from ..domain._errors import DuplicateError, NotFound, ValidationError
from ..domain._model import Attachment, Direction, HistoryEntry, Message
from ..ports._storage import MessageStore
from ._sql_base import SqlBase, from_us, to_us

__all__ = ["SqlMessageStore"]

_MSG_COLS = (
    "id, ticket_id, direction, channel, author, text, html, attachments, external_id, "
    "in_reply_to, meta, created_at"
)


def _row_to_message(r: Sequence[Any]) -> Message:
    return Message(
        id=r[0],
        ticket_id=r[1],
        direction=Direction(r[2]),
        channel=r[3],
        author=r[4],
        text=r[5],
        html=r[6],
        attachments=tuple(structure(a, Attachment) for a in json.loads(r[7]))
        if r[7] != "[]"
        else (),
        external_id=r[8],
        in_reply_to=r[9],
        meta=json.loads(r[10]) if r[10] != "{}" else {},
        created_at=from_us(r[11]),  # type: ignore[arg-type]
    )


class SqlMessageStore(SqlBase, MessageStore):
    """Messages in ``sk_messages`` and transitions in ``sk_history``, in insertion order."""

    def add_message(self, message: Message) -> None:
        m = message
        try:
            self.x(
                f"INSERT INTO sk_messages (desk, {_MSG_COLS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.desk,
                    m.id,
                    m.ticket_id,
                    m.direction.value,
                    m.channel,
                    m.author,
                    m.text,
                    m.html,
                    dumps(unstructure(list(m.attachments))) if m.attachments else "[]",
                    m.external_id,
                    m.in_reply_to,
                    dumps(m.meta) if m.meta else "{}",
                    to_us(m.created_at),
                ),
            )
        except DuplicateError as exc:
            raise DuplicateError(
                f"a message with id {m.id!r} or external id {m.external_id!r} is stored already "
                "(duplicate delivery)"
            ) from exc.__cause__

    def messages_for(self, ticket_id: str) -> list[Message]:
        rows = self.all(
            f"SELECT {_MSG_COLS} FROM sk_messages WHERE desk = ? AND ticket_id = ? ORDER BY seq",
            (self.desk, ticket_id),
        )
        return [_row_to_message(r) for r in rows]

    def find_message_by_external_id(self, external_id: str) -> Message | None:
        row = self.one(
            f"SELECT {_MSG_COLS} FROM sk_messages WHERE desk = ? AND external_id = ?",
            (self.desk, external_id),
        )
        return None if row is None else _row_to_message(row)

    def set_message_external_id(self, message_id: str, external_id: str) -> None:
        try:
            row = self.one(
                "UPDATE sk_messages SET external_id = ? WHERE desk = ? AND id = ? "
                "AND external_id IS NULL RETURNING seq",
                (external_id, self.desk, message_id),
            )
        except DuplicateError as exc:
            raise DuplicateError(
                f"external id {external_id!r} belongs to another message already; "
                f"it cannot also be message {message_id!r}'s"
            ) from exc.__cause__
        if row is not None:
            return
        found = self.one(
            "SELECT external_id FROM sk_messages WHERE desk = ? AND id = ?", (self.desk, message_id)
        )
        if found is None:
            raise NotFound("message", message_id)
        if found[0] != external_id:
            raise ValidationError(
                f"message {message_id!r} has external id {found[0]!r} already; "
                f"it cannot become {external_id!r}"
            )

    def add_history(self, entry: HistoryEntry) -> None:
        e = entry
        self.x(
            "INSERT INTO sk_history (desk, ticket_id, at, actor, event, from_status, to_status, "
            "reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.desk,
                e.ticket_id,
                to_us(e.at),
                e.actor,
                e.event,
                e.from_status,
                e.to_status,
                e.reason,
            ),
        )

    def history_for(self, ticket_id: str) -> list[HistoryEntry]:
        rows = self.all(
            "SELECT ticket_id, at, actor, event, from_status, to_status, reason FROM sk_history "
            "WHERE desk = ? AND ticket_id = ? ORDER BY seq",
            (self.desk, ticket_id),
        )
        return [HistoryEntry(r[0], from_us(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]  # type: ignore[arg-type]
