"""The unit of work shared by the SQL backends (SQLite and PostgreSQL).

Statements are written once with ``?`` placeholders and translated for
psycopg's ``%s``. Rows map to entities in the two functions below; JSON
columns go through the one cattrs converter (:mod:`supportkit._convert`).
Driver exceptions are wrapped in :class:`StorageError` ``from`` the original.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from .._convert import dumps, event_from_data, event_to_data, structure, unstructure
from ..domain._errors import (
    ConcurrencyConflict,
    DuplicateError,
    NotFound,
    StorageError,
    TicketNotFound,
    ValidationError,
)
from ..domain._events import DomainEvent
from ..domain._model import (
    Agent,
    Attachment,
    Customer,
    Direction,
    HistoryEntry,
    Identity,
    Message,
    Priority,
    Team,
    Ticket,
)
from ..ports._storage import RawInbound, StoredEvent, TicketQuery, Timer, UnitOfWork

__all__ = ["SqlUnitOfWork", "from_us", "to_us"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(dt: datetime | None) -> int | None:
    """An aware datetime as integer microseconds since the epoch."""
    if dt is None:
        return None
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int | None) -> datetime | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


_TICKET_COLS = (
    "id, number, subject, customer_id, channel, status, priority, category, tier, team_id, "
    "assignee_id, tags, custom_fields, language, lifecycle, version, received_at, "
    "registered_at, first_response_at, last_customer_message_at, resolved_at, closed_at, "
    "updated_at, resolution, close_reason, reopen_count, escalation_count"
)
_MSG_COLS = (
    "id, ticket_id, direction, channel, author, text, html, attachments, external_id, "
    "in_reply_to, meta, created_at"
)


def _tags_out(tags: frozenset[str]) -> str:
    return json.dumps(sorted(tags)) if tags else "[]"


_TICKET_NAMES = tuple(c.strip() for c in _TICKET_COLS.split(","))
_TIME_NAMES = frozenset(n for n in _TICKET_NAMES if n.endswith("_at"))
_SETTABLE = tuple(n for n in _TICKET_NAMES if n not in ("id", "number"))
_set = object.__setattr__


def _row_to_ticket(r: Sequence[Any]) -> Ticket:
    """A ticket from its row, built without re-running the entity's converters:
    the columns were written from a valid ticket, so re-validating is waste on
    the hottest path of every use case."""
    t = object.__new__(Ticket)
    for name, value in zip(_TICKET_NAMES, r, strict=True):
        _set(t, name, from_us(value) if name in _TIME_NAMES else value)
    _set(t, "priority", Priority(r[6]))
    _set(t, "tags", frozenset(json.loads(r[11])) if r[11] != "[]" else frozenset())
    _set(t, "custom_fields", json.loads(r[12]) if r[12] != "{}" else {})
    _set(t, "events", [])
    return t


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


class SqlUnitOfWork(UnitOfWork):
    """A unit of work over a DB-API connection; subclasses manage the transaction."""

    dialect: str = "sqlite"
    #: exception classes of the driver meaning "unique constraint violated"
    integrity_errors: tuple[type[BaseException], ...] = ()
    driver_errors: tuple[type[BaseException], ...] = ()

    def __init__(self) -> None:
        self._cur: Any = None
        self._sql_cache: dict[str, str] = {}
        self._allocated: set[int] = set()
        #: rows as read in this unit of work, to write back only what changed
        self._loaded: dict[str, tuple[Any, ...]] = {}

    # -- helpers --------------------------------------------------------------------
    def q(self, sql: str) -> str:
        """Translate ``?`` placeholders for the driver."""
        if self.dialect == "sqlite":
            return sql
        out = self._sql_cache.get(sql)
        if out is None:
            out = self._sql_cache[sql] = sql.replace("%", "%%").replace("?", "%s")
        return out

    def x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self._cur.execute(self.q(sql), params)
        except self.integrity_errors as exc:
            raise DuplicateError(f"a unique value is stored already: {exc}") from exc
        except self.driver_errors as exc:
            raise StorageError(f"{self.dialect} failed: {exc}") from exc

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.x(sql, params)
        return self._cur.fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self.x(sql, params)
        return list(self._cur.fetchall())

    # -- tickets ------------------------------------------------------------------------
    def next_ticket_number(self) -> int:
        if self.dialect == "sqlite":
            row = self.one(
                "UPDATE sk_counters SET value = value + 1 WHERE name = 'ticket_number' "
                "RETURNING value"
            )
        else:
            row = self.one("SELECT nextval('sk_ticket_number')")
        self._allocated.add(int(row[0]))
        return int(row[0])

    def add_ticket(self, ticket: Ticket) -> None:
        ticket.version = 1
        params = _ticket_row(ticket)
        try:
            self.x(
                f"INSERT INTO sk_tickets ({_TICKET_COLS}) VALUES ({', '.join('?' * 27)})", params
            )
        except DuplicateError as exc:
            ticket.version = 0
            raise DuplicateError(
                f"ticket id {ticket.id!r} or number {ticket.number} exists already"
            ) from exc.__cause__
        self._loaded[ticket.id] = params
        if ticket.number not in self._allocated:  # a number chosen by the caller
            if self.dialect == "sqlite":
                self.x(
                    "UPDATE sk_counters SET value = ? WHERE name = 'ticket_number' AND value < ?",
                    (ticket.number, ticket.number),
                )
            else:
                self.x(
                    "SELECT setval('sk_ticket_number', GREATEST(?, "
                    "(SELECT last_value FROM sk_ticket_number)))",
                    (ticket.number,),
                )

    def get_ticket(self, ticket_id: str) -> Ticket:
        row = self.one(f"SELECT {_TICKET_COLS} FROM sk_tickets WHERE id = ?", (ticket_id,))
        if row is None:
            raise TicketNotFound(ticket_id)
        self._loaded[ticket_id] = tuple(row)
        return _row_to_ticket(row)

    def get_ticket_by_number(self, number: int) -> Ticket:
        row = self.one(f"SELECT {_TICKET_COLS} FROM sk_tickets WHERE number = ?", (number,))
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
        sql = f"UPDATE sk_tickets SET {sets + ', ' if sets else ''}version = ? WHERE id = ? AND version = ?"
        params = (*(row[i] for i in changed), new_version, ticket.id, expected_version)
        cur = self.x(sql, params)
        if cur.rowcount != 1:
            found = self.one("SELECT version FROM sk_tickets WHERE id = ?", (ticket.id,))
            if found is None:
                raise TicketNotFound(ticket.id)
            raise ConcurrencyConflict("ticket", ticket.id, expected_version, int(found[0]))
        ticket.version = new_version
        self._loaded[ticket.id] = (*row[:15], new_version, *row[16:])

    def _where(self, q: TicketQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
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
        if q.text:
            clauses.append("LOWER(subject) LIKE ? ESCAPE '\\'")
            escaped = q.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

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

    # -- messages and history ----------------------------------------------------------
    def add_message(self, message: Message) -> None:
        m = message
        try:
            self.x(
                f"INSERT INTO sk_messages ({_MSG_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
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
            f"SELECT {_MSG_COLS} FROM sk_messages WHERE ticket_id = ? ORDER BY seq", (ticket_id,)
        )
        return [_row_to_message(r) for r in rows]

    def find_message_by_external_id(self, external_id: str) -> Message | None:
        row = self.one(f"SELECT {_MSG_COLS} FROM sk_messages WHERE external_id = ?", (external_id,))
        return None if row is None else _row_to_message(row)

    def set_message_external_id(self, message_id: str, external_id: str) -> None:
        try:
            row = self.one(
                "UPDATE sk_messages SET external_id = ? WHERE id = ? AND external_id IS NULL "
                "RETURNING seq",
                (external_id, message_id),
            )
        except DuplicateError as exc:
            raise DuplicateError(
                f"external id {external_id!r} belongs to another message already; "
                f"it cannot also be message {message_id!r}'s"
            ) from exc.__cause__
        if row is not None:
            return
        found = self.one("SELECT external_id FROM sk_messages WHERE id = ?", (message_id,))
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
            "INSERT INTO sk_history (ticket_id, at, actor, event, from_status, to_status, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.ticket_id, to_us(e.at), e.actor, e.event, e.from_status, e.to_status, e.reason),
        )

    def history_for(self, ticket_id: str) -> list[HistoryEntry]:
        rows = self.all(
            "SELECT ticket_id, at, actor, event, from_status, to_status, reason FROM sk_history "
            "WHERE ticket_id = ? ORDER BY seq",
            (ticket_id,),
        )
        return [HistoryEntry(r[0], from_us(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]  # type: ignore[arg-type]

    # -- customers, agents, teams ---------------------------------------------------------
    def add_customer(self, customer: Customer) -> None:
        try:
            self.x(
                "INSERT INTO sk_customers (id, data) VALUES (?, ?)",
                (customer.id, dumps(unstructure(customer))),
            )
        except DuplicateError as exc:
            raise DuplicateError(f"customer id {customer.id!r} exists already") from exc.__cause__
        for ident in customer.identities:
            try:
                self.x(
                    "INSERT INTO sk_identities (channel, address, customer_id) VALUES (?, ?, ?)",
                    (ident.channel, ident.address, customer.id),
                )
            except DuplicateError as exc:
                raise DuplicateError(
                    f"identity {ident.channel}:{ident.address} belongs to another customer "
                    "already; merge the customers instead"
                ) from exc.__cause__

    def _identity_owner(self, ident: Identity) -> str | None:
        row = self.one(
            "SELECT customer_id FROM sk_identities WHERE channel = ? AND address = ?",
            (ident.channel, ident.address),
        )
        return None if row is None else str(row[0])

    def _put_identities(self, customer: Customer) -> None:
        for ident in customer.identities:
            self.x(
                "INSERT INTO sk_identities (channel, address, customer_id) VALUES (?, ?, ?)",
                (ident.channel, ident.address, customer.id),
            )

    def save_customer(self, customer: Customer) -> None:
        for ident in customer.identities:
            owner = self._identity_owner(ident)
            if owner is not None and owner != customer.id:
                raise DuplicateError(
                    f"identity {ident.channel}:{ident.address} belongs to customer {owner!r}"
                )
        cur = self.x(
            "UPDATE sk_customers SET data = ? WHERE id = ?",
            (dumps(unstructure(customer)), customer.id),
        )
        if cur.rowcount != 1:
            raise NotFound("customer", customer.id)
        self.x("DELETE FROM sk_identities WHERE customer_id = ?", (customer.id,))
        self._put_identities(customer)

    def get_customer(self, customer_id: str) -> Customer:
        row = self.one("SELECT data FROM sk_customers WHERE id = ?", (customer_id,))
        if row is None:
            raise NotFound("customer", customer_id)
        return structure(json.loads(row[0]), Customer)

    def find_customer_by_identity(self, identity: Identity) -> Customer | None:
        owner = self._identity_owner(identity)
        return None if owner is None else self.get_customer(owner)

    def _upsert_json(self, table: str, key: str, data: Any) -> None:
        self.x(
            f"INSERT INTO {table} (id, data) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (key, dumps(unstructure(data))),
        )

    def save_agent(self, agent: Agent) -> None:
        self._upsert_json("sk_agents", agent.id, agent)

    def get_agent(self, agent_id: str) -> Agent:
        row = self.one("SELECT data FROM sk_agents WHERE id = ?", (agent_id,))
        if row is None:
            raise NotFound("agent", agent_id, "add it with SupportDesk.add_agent()")
        return structure(json.loads(row[0]), Agent)

    def list_agents(self) -> list[Agent]:
        return [
            structure(json.loads(r[0]), Agent)
            for r in self.all("SELECT data FROM sk_agents ORDER BY id")
        ]

    def save_team(self, team: Team) -> None:
        self._upsert_json("sk_teams", team.id, team)

    def list_teams(self) -> list[Team]:
        return [
            structure(json.loads(r[0]), Team)
            for r in self.all("SELECT data FROM sk_teams ORDER BY id")
        ]

    # -- events --------------------------------------------------------------------------
    def add_events(self, events: Iterable[DomainEvent]) -> list[int]:
        rows: list[Any] = []
        for e in events:
            data = event_to_data(e)
            rows.extend((e.ticket_id, data["type"], to_us(e.at), dumps(data)))
        if not rows:
            return []
        seqs: list[int] = []
        per = 4 * 200  # parameters per statement, well under every driver's limit
        for i in range(0, len(rows), per):
            chunk = rows[i : i + per]
            values = ", ".join(["(?, ?, ?, ?, 0)"] * (len(chunk) // 4))
            got = self.all(
                "INSERT INTO sk_events (ticket_id, type, at, payload, published) "
                f"VALUES {values} RETURNING seq",
                chunk,
            )
            seqs.extend(sorted(int(r[0]) for r in got))
        return seqs

    def _stored(self, rows: list[Any]) -> list[StoredEvent]:
        return [StoredEvent(int(r[0]), event_from_data(json.loads(r[1])), bool(r[2])) for r in rows]

    def pending_events(self, limit: int = 1000) -> list[StoredEvent]:
        return self._stored(
            self.all(
                "SELECT seq, payload, published FROM sk_events WHERE published = 0 "
                "ORDER BY seq LIMIT ?",
                (limit,),
            )
        )

    def mark_published(self, seqs: Iterable[int]) -> None:
        ids = list(seqs)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            self.x(
                f"UPDATE sk_events SET published = 1 WHERE seq IN ({', '.join('?' * len(chunk))})",
                chunk,
            )

    def events_for(self, ticket_id: str) -> list[StoredEvent]:
        return self._stored(
            self.all(
                "SELECT seq, payload, published FROM sk_events WHERE ticket_id = ? ORDER BY seq",
                (ticket_id,),
            )
        )

    def events_since(self, seq: int, limit: int = 1000) -> list[StoredEvent]:
        return self._stored(
            self.all(
                "SELECT seq, payload, published FROM sk_events WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            )
        )

    # -- timers ----------------------------------------------------------------------------
    def schedule_timer(self, timer: Timer) -> None:
        self.x(
            "INSERT INTO sk_timers (key, due_at, kind, ticket_id, payload) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at, kind = excluded.kind, "
            "ticket_id = excluded.ticket_id, payload = excluded.payload",
            (timer.key, to_us(timer.due_at), timer.kind, timer.ticket_id, dumps(timer.payload)),
        )

    def cancel_timer(self, key: str) -> None:
        self.x("DELETE FROM sk_timers WHERE key = ?", (key,))

    def _timers(self, rows: list[Any]) -> list[Timer]:
        return [Timer(r[0], from_us(r[1]), r[2], r[3], json.loads(r[4])) for r in rows]  # type: ignore[arg-type]

    def due_timers(self, now: datetime, limit: int = 1000) -> list[Timer]:
        return self._timers(
            self.all(
                "SELECT key, due_at, kind, ticket_id, payload FROM sk_timers WHERE due_at <= ? "
                "ORDER BY due_at, key LIMIT ?",
                (to_us(now), limit),
            )
        )

    def timers_for(self, ticket_id: str) -> list[Timer]:
        return self._timers(
            self.all(
                "SELECT key, due_at, kind, ticket_id, payload FROM sk_timers WHERE ticket_id = ? "
                "ORDER BY due_at, key",
                (ticket_id,),
            )
        )

    # -- raw inbound -------------------------------------------------------------------------
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

    # -- kv ------------------------------------------------------------------------------------
    def kv_get(self, namespace: str, key: str) -> Any | None:
        row = self.one("SELECT value FROM sk_kv WHERE namespace = ? AND key = ?", (namespace, key))
        return None if row is None else json.loads(row[0])

    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        self.x(
            "INSERT INTO sk_kv (namespace, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
            (namespace, key, dumps(value)),
        )

    def kv_items(self, namespace: str) -> list[tuple[str, Any]]:
        rows = self.all(
            "SELECT key, value FROM sk_kv WHERE namespace = ? ORDER BY key", (namespace,)
        )
        return [(r[0], json.loads(r[1])) for r in rows]
