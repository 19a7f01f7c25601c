"""The coordination port on SQL: row locks, advisory locks, SKIP LOCKED claims and leases.

PostgreSQL takes real locks (``SELECT ... FOR UPDATE``, ``pg_advisory_xact_lock``)
and claims rows with ``FOR UPDATE SKIP LOCKED``, so concurrent claimers never
wait on each other nor take the same row. SQLite serialises writers
(``BEGIN IMMEDIATE``), so its locks are already held and a claim is a plain
conditional ``UPDATE``. Leases are stored as ``*_owner``/``*_until`` columns
(schema component ``coordination``), so a claim outlives its transaction and
expires when its process dies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..domain._errors import TicketNotFound
from ..domain._model import Ticket
from ..ports._storage import CoordinationStore, StoredEvent, Timer
from ._coordination_schema import NOT_DONE
from ._sql_base import SqlBase, to_us
from ._sql_outbox import stored_events
from ._sql_tickets import _TICKET_COLS, _row_to_ticket
from ._sql_timers import timers_from_rows

__all__ = ["SqlCoordinationStore"]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class SqlCoordinationStore(SqlBase, CoordinationStore):
    """:class:`~supportkit.ports.CoordinationStore` for SQLite, PostgreSQL and alike.

    ``row_locks`` says the database takes ``SELECT ... FOR UPDATE [SKIP LOCKED]``
    (PostgreSQL, MariaDB/MySQL); without it (SQLite) writers must be serialised.
    Named locks are PostgreSQL advisory locks, or a row of ``sk_locks`` elsewhere.
    """

    #: the database takes row locks (``FOR UPDATE``); False: writers are serialised
    row_locks: bool | None = None

    def _pg(self) -> bool:
        if self.row_locks is not None:
            return self.row_locks
        return self.dialect != "sqlite"

    def get_ticket_for_update(self, ticket_id: str) -> Ticket:
        lock = " FOR UPDATE" if self._pg() else ""  # SQLite: writers are serialised already
        row = self.one(
            f"SELECT {_TICKET_COLS} FROM sk_tickets WHERE desk = ? AND id = ?{lock}",
            (self.desk, ticket_id),
        )
        if row is None:
            raise TicketNotFound(ticket_id)
        self._loaded[ticket_id] = tuple(row)
        return _row_to_ticket(row)

    def lock(self, name: str) -> None:
        if not self._pg():
            return  # writers are serialised: the whole database is held already
        if self.dialect == "postgresql":
            self.x("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (f"{self.desk}:{name}",))
            return
        self.x(self.insert_ignore_sql("sk_locks", ("desk", "name"), ()), (self.desk, name))
        self.x(
            "SELECT name FROM sk_locks WHERE desk = ? AND name = ? FOR UPDATE", (self.desk, name)
        )

    def waiting_tickets(
        self, statuses: Sequence[str], *, team_ids: Sequence[str] | None = None, limit: int = 50
    ) -> list[Ticket]:
        if not statuses:
            return []
        params: list[Any] = [self.desk, *statuses]
        team = ""
        if team_ids is not None:
            team = " AND (team_id IS NULL" + (
                f" OR team_id IN ({_marks(len(team_ids))}))" if team_ids else ")"
            )
            params.extend(team_ids)
        lock = " FOR UPDATE SKIP LOCKED" if self._pg() else ""
        # the waiting index leaves resolved and closed tickets out: the term that says so
        # lets the database use it (a lifecycle waiting in either status does without)
        done = "" if {"resolved", "closed"} & set(statuses) else f" AND {NOT_DONE}"
        rows = self.all(
            f"SELECT {_TICKET_COLS} FROM sk_tickets WHERE desk = ? AND assignee_id IS NULL "
            f"AND status IN ({_marks(len(statuses))}){done}{team} "
            "ORDER BY priority DESC, COALESCE(registered_at, received_at), number "
            f"LIMIT ?{lock}",
            (*params, limit),
        )
        out = []
        for r in rows:
            self._loaded[r[0]] = tuple(r)
            out.append(_row_to_ticket(r))
        return out

    def open_loads(
        self, statuses: Sequence[str], agent_ids: Iterable[str] | None = None
    ) -> dict[str, int]:
        if not statuses:
            return {}
        params: list[Any] = [self.desk, *statuses]
        if agent_ids is None:
            who = "assignee_id IS NOT NULL"
        else:
            ids = list(agent_ids)
            if not ids:
                return {}
            who = f"assignee_id IN ({_marks(len(ids))})"
            params.extend(ids)
        rows = self.all(
            f"SELECT assignee_id, COUNT(*) FROM sk_tickets WHERE desk = ? AND status IN "
            f"({_marks(len(statuses))}) AND {who} GROUP BY assignee_id",
            params,
        )
        return {str(r[0]): int(r[1]) for r in rows}

    # -- outbox claims ---------------------------------------------------------------------
    def claim_events(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 100
    ) -> list[StoredEvent]:
        lock = " FOR UPDATE SKIP LOCKED" if self._pg() else ""
        seqs = [
            int(r[0])
            for r in self.all(
                "SELECT seq FROM sk_events WHERE desk = ? AND relayed = 0 "
                f"AND (relay_until IS NULL OR relay_until < ?) ORDER BY seq LIMIT ?{lock}",
                (self.desk, to_us(now), limit),
            )
        ]
        if not seqs:
            return []
        marks = _marks(len(seqs))
        self.x(
            f"UPDATE sk_events SET relay_owner = ?, relay_until = ? WHERE seq IN ({marks})",
            (owner, to_us(lease_until), *seqs),
        )
        rows = self.all(
            f"SELECT seq, payload, published FROM sk_events WHERE seq IN ({marks}) ORDER BY seq",
            seqs,
        )
        return stored_events(rows)

    def mark_relayed(self, seqs: Iterable[int], owner: str) -> int:
        return self._set_relayed(seqs, "relay_owner = ?", owner)

    def skip_relay(self, seqs: Iterable[int]) -> int:
        return self._set_relayed(seqs, "desk = ?", self.desk)

    def _set_relayed(self, seqs: Iterable[int], whose: str, param: str) -> int:
        """Mark the not yet relayed events of *seqs* that *whose* selects relayed (by 500)."""
        ids = sorted(set(seqs))
        done = 0
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            cur = self.x(
                "UPDATE sk_events SET relayed = 1, relay_owner = NULL, relay_until = NULL "
                f"WHERE {whose} AND relayed = 0 AND seq IN ({_marks(len(chunk))})",
                (param, *chunk),
            )
            done += max(cur.rowcount, 0)
        return done

    # -- timer leases -------------------------------------------------------------------
    def claim_timers(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 100
    ) -> list[Timer]:
        lock = " FOR UPDATE SKIP LOCKED" if self._pg() else ""
        rows = self.all(
            'SELECT "key", due_at, kind, ticket_id, payload FROM sk_timers WHERE desk = ? '
            "AND due_at <= ? AND (lease_until IS NULL OR lease_until < ?) "
            f'ORDER BY due_at, "key" LIMIT ?{lock}',
            (self.desk, to_us(now), to_us(now), limit),
        )
        if not rows:
            return []
        self.x(
            "UPDATE sk_timers SET lease_owner = ?, lease_until = ? "
            f'WHERE desk = ? AND "key" IN ({_marks(len(rows))})',
            (owner, to_us(lease_until), self.desk, *(r[0] for r in rows)),
        )
        return timers_from_rows(rows)

    def take_timer(self, timer: Timer, owner: str) -> bool:
        cur = self.x(
            'DELETE FROM sk_timers WHERE desk = ? AND "key" = ? AND lease_owner = ? AND due_at = ?',
            (self.desk, timer.key, owner, to_us(timer.due_at)),
        )
        return bool(cur.rowcount == 1)

    def release_timers(self, keys: Iterable[str], owner: str) -> None:
        ids = sorted(set(keys))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            self.x(
                "UPDATE sk_timers SET lease_owner = NULL, lease_until = NULL "
                f'WHERE desk = ? AND lease_owner = ? AND "key" IN ({_marks(len(chunk))})',
                (self.desk, owner, *chunk),
            )
