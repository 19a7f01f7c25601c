"""The SQL tickets port (:class:`~supportkit.ports.TicketStore`) for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from .._convert import dumps
from ..domain._errors import ConcurrencyConflict, DuplicateError, TicketNotFound
from ..domain._model import Priority, Ticket
from ..ports._storage import TicketQuery, TicketStore
from ._sql_base import EPOCH, SqlBase, like_escape, to_us

__all__ = ["SqlTicketStore"]

_TICKET_COLS = (
    "id, number, subject, customer_id, channel, status, priority, category, tier, team_id, "
    "assignee_id, tags, custom_fields, language, lifecycle, version, received_at, "
    "registered_at, first_response_at, last_customer_message_at, resolved_at, closed_at, "
    "updated_at, resolution, close_reason, reopen_count, escalation_count"
)


def _tags_out(tags: frozenset[str]) -> str:
    return json.dumps(sorted(tags)) if tags else "[]"


_TICKET_NAMES = tuple(c.strip() for c in _TICKET_COLS.split(","))
_TIME_NAMES = frozenset(n for n in _TICKET_NAMES if n.endswith("_at"))


def _compile_row_to_ticket() -> Callable[[Sequence[Any]], Ticket]:
    """A function building a ticket from its row with one attribute store per column
    (generated once from _TICKET_NAMES): no re-validation, no per-column loop."""
    lines = ["def row_to_ticket(r):", "    t = new(Ticket)"]
    for i, name in enumerate(_TICKET_NAMES):
        if name in _TIME_NAMES:
            value = f"None if r[{i}] is None else EPOCH + timedelta(microseconds=r[{i}])"
        elif name == "priority":
            value = f"Priority(r[{i}])"
        elif name == "tags":
            value = f"frozenset(loads(r[{i}])) if r[{i}] != '[]' else frozenset()"
        elif name == "custom_fields":
            value = f"loads(r[{i}]) if r[{i}] != '{{}}' else {{}}"
        else:
            value = f"r[{i}]"
        lines.append(f"    t.{name} = {value}")
    lines += ["    t.events = []", "    return t"]
    scope: dict[str, Any] = {
        "new": object.__new__,
        "Ticket": Ticket,
        "Priority": Priority,
        "EPOCH": EPOCH,
        "timedelta": timedelta,
        "loads": json.loads,
    }
    exec("\n".join(lines), scope)  # the source is built above from constant column names
    fn: Callable[[Sequence[Any]], Ticket] = scope["row_to_ticket"]
    return fn


#: A ticket from its row, built without re-running the entity's converters: the
#: columns were written from a valid ticket, so re-validating is waste on the
#: hottest path of every use case.
_row_to_ticket = _compile_row_to_ticket()


def _ticket_row(t: Ticket) -> tuple[Any, ...]:
    """The ticket's column values in _TICKET_COLS order."""
    return (t.id, t.number, *_ticket_values(t), t.version, *_ticket_times(t))


def _ticket_values(t: Ticket) -> tuple[Any, ...]:
    """Column values after (id, number) and before version, in UPDATE order."""
    return (
        t.subject,
        t.customer_id,
        t.channel,
        t.status,
        int(t.priority),
        t.category,
        t.tier,
        t.team_id,
        t.assignee_id,
        _tags_out(t.tags),
        dumps(t.custom_fields) if t.custom_fields else "{}",
        t.language,
        t.lifecycle,
    )


def _ticket_times(t: Ticket) -> tuple[Any, ...]:
    return (
        to_us(t.received_at),
        to_us(t.registered_at),
        to_us(t.first_response_at),
        to_us(t.last_customer_message_at),
        to_us(t.resolved_at),
        to_us(t.closed_at),
        to_us(t.updated_at),
        t.resolution,
        t.close_reason,
        t.reopen_count,
        t.escalation_count,
    )


class SqlTicketStore(SqlBase, TicketStore):
    """Tickets in ``sk_tickets``; saves write only the columns that changed."""

    def bump_ticket_counter(self, number: int) -> None:
        """Move the ticket-number counter to at least *number* (a caller-chosen number)."""
        if self.dialect == "sqlite":
            self.x(
                "UPDATE sk_counters SET value = ? WHERE name = 'ticket_number' AND value < ?",
                (number, number),
            )
        else:
            self.x(
                "SELECT setval('sk_ticket_number', GREATEST(?, "
                "(SELECT last_value FROM sk_ticket_number)))",
                (number,),
            )

    def next_ticket_number(self) -> int:
        if self.dialect == "sqlite":
            # writers are serialised, so the highest number stored (one B-tree descent) is
            # taken by no one else until this transaction ends; the counter row is a lower
            # bound, moved to the highest number handed out at commit (settle_ticket_numbers)
            row = self.one(
                "SELECT MAX((SELECT COALESCE(MAX(number), 0) FROM sk_tickets), "
                "(SELECT value FROM sk_counters WHERE name = 'ticket_number'))"
            )
            number = max(int(row[0]), max(self._allocated, default=0)) + 1  # unstored ones
        else:
            number = int(self.one("SELECT nextval('sk_ticket_number')")[0])
        self._allocated.add(number)
        return number

    def add_ticket(self, ticket: Ticket) -> None:
        ticket.version = 1
        params = _ticket_row(ticket)
        try:
            self.x(
                f"INSERT INTO sk_tickets (desk, {_TICKET_COLS}) VALUES ({', '.join('?' * 28)})",
                (self.desk, *params),
            )
        except DuplicateError as exc:
            ticket.version = 0
            raise DuplicateError(
                f"ticket id {ticket.id!r} or number {ticket.number} exists already"
            ) from exc.__cause__
        self._loaded[ticket.id] = params
        if ticket.number not in self._allocated:  # a number chosen by the caller
            self.bump_ticket_counter(ticket.number)

    def settle_ticket_numbers(self) -> None:
        """Before commit (SQLite; a sequence keeps them on PostgreSQL): move the counter
        row to the highest number handed out in this unit of work, used on a ticket or not.

        So no number is handed out twice, and a process of an earlier version that still
        runs beside this one during a rolling upgrade (it takes ``counter + 1``) never
        collides with the numbers given here: one UPDATE per new ticket, at commit."""
        if self._allocated and self.dialect == "sqlite":
            self.bump_ticket_counter(max(self._allocated))
            self._allocated.clear()

    def get_ticket(self, ticket_id: str) -> Ticket:
        row = self.one(
            f"SELECT {_TICKET_COLS} FROM sk_tickets WHERE desk = ? AND id = ?",
            (self.desk, ticket_id),
        )
        if row is None:
            raise TicketNotFound(ticket_id)
        self._loaded[ticket_id] = tuple(row)
        return _row_to_ticket(row)

    def get_ticket_by_number(self, number: int) -> Ticket:
        row = self.one(
            f"SELECT {_TICKET_COLS} FROM sk_tickets WHERE desk = ? AND number = ?",
            (self.desk, number),
        )
        if row is None:
            raise TicketNotFound(f"#{number}")
        self._loaded[row[0]] = tuple(row)
        return _row_to_ticket(row)

    def save_ticket(self, ticket: Ticket, expected_version: int) -> None:
        new_version = expected_version + 1
        row = _ticket_row(ticket)
        before = self._loaded.get(ticket.id)
        if before is not None and before[15] == expected_version:
            # only the columns that changed: SQLite and PostgreSQL then touch only the
            # indexes over those columns instead of rewriting every index entry
            changed = [i for i in range(2, len(row)) if i != 15 and row[i] != before[i]]
        else:
            changed = [i for i in range(2, len(row)) if i != 15]
        sets = ", ".join(f"{_TICKET_NAMES[i]} = ?" for i in changed)
        sql = f"UPDATE sk_tickets SET {sets + ', ' if sets else ''}version = ? WHERE desk = ? AND id = ? AND version = ?"
        params = (*(row[i] for i in changed), new_version, self.desk, ticket.id, expected_version)
        cur = self.x(sql, params)
        if cur.rowcount != 1:
            found = self.one(
                "SELECT version FROM sk_tickets WHERE desk = ? AND id = ?", (self.desk, ticket.id)
            )
            if found is None:
                raise TicketNotFound(ticket.id)
            raise ConcurrencyConflict("ticket", ticket.id, expected_version, int(found[0]))
        ticket.version = new_version
        self._loaded[ticket.id] = (*row[:15], new_version, *row[16:])

    def _where(self, q: TicketQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = ["desk = ?"]
        params: list[Any] = [self.desk]
        statuses = q.statuses()
        if statuses is not None:
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})" if statuses else "1=0")
            params.extend(statuses)
        for col, val in (
            ("customer_id", q.customer_id),
            ("assignee_id", q.assignee_id),
            ("team_id", q.team_id),
            ("tier", q.tier),
            ("channel", q.channel),
        ):
            if val is not None:
                clauses.append(f"{col} = ?")
                params.append(val)
        if q.priority is not None:
            clauses.append("priority = ?")
            params.append(int(q.priority))
        if q.team_ids is not None:
            named = [t for t in q.team_ids if t is not None]
            either = [f"team_id IN ({', '.join('?' * len(named))})"] if named else []
            if len(named) < len(q.team_ids):
                either.append("team_id IS NULL")
            clauses.append(f"({' OR '.join(either)})" if either else "1=0")
            params.extend(named)
        if q.tag is not None:  # tags are stored as a sorted JSON list of strings
            clauses.append("tags LIKE ? ESCAPE '\\'")
            params.append(f"%{like_escape(json.dumps(q.tag))}%")
        for op, bound in (("<", q.before_number), (">", q.after_number)):
            if bound is not None:
                clauses.append(f"number {op} ?")
                params.append(bound)
        if q.resolved_before is not None:
            clauses.append("resolved_at < ?")
            params.append(to_us(q.resolved_before))
        if q.text and "\x00" in q.text:
            clauses.append("1 = 0")  # subjects never hold a NUL (and SQLite's LIKE stops at one)
        elif q.text:
            clauses.append("LOWER(subject) LIKE ? ESCAPE '\\'")
            params.append(f"%{like_escape(q.text.lower())}%")
        return " WHERE " + " AND ".join(clauses), params

    def find_tickets(self, query: TicketQuery) -> list[Ticket]:
        where, params = self._where(query)
        order = "ASC" if query.oldest_first else "DESC"
        rows = self.all(
            f"SELECT {_TICKET_COLS} FROM sk_tickets{where} ORDER BY number {order} "
            "LIMIT ? OFFSET ?",
            (*params, query.limit, query.offset),
        )
        return [_row_to_ticket(r) for r in rows]

    def count_tickets(self, query: TicketQuery) -> int:
        where, params = self._where(query)
        return int(self.one(f"SELECT COUNT(*) FROM sk_tickets{where}", params)[0])
