"""What SQLite does not write, so that a use case dirties fewer pages, and what still holds.

Ticket numbers: a new ticket's number is ``MAX(number) + 1`` (or the counter
row's + 1, whichever is higher) read inside the write transaction (writers are
serialised); the counter row follows the highest number handed out, written
once at commit, so no number is ever handed out twice and a process of an
earlier version taking ``counter + 1`` during a rolling upgrade never collides. Indexes: the assignee and team indexes hold only
tickets that have one, the waiting queue's only tickets not resolved or
closed; the queries still use them.
"""

from pathlib import Path

import attrs

from supportkit import SupportDesk
from supportkit.storage.sqlite import SQLiteStorage


def _counter(storage: SQLiteStorage) -> int:
    row = (
        storage.connection()
        .execute("SELECT value FROM sk_counters WHERE name = 'ticket_number'")
        .fetchone()
    )
    return int(row[0])


def test_new_tickets_take_the_next_number_and_the_counter_follows(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "n.sqlite3") as storage:
        desk = SupportDesk(storage)
        numbers = [desk.receive("email", f"c{i}@example.com", "help").number for i in range(3)]
        assert numbers == [1, 2, 3]
        assert _counter(storage) == 3


def test_an_earlier_version_taking_counter_plus_one_never_collides(tmp_path: Path) -> None:
    """A rolling upgrade: a process of the earlier code (``UPDATE sk_counters SET value =
    value + 1 ... RETURNING value``) writes beside this one."""
    with SQLiteStorage(tmp_path / "n.sqlite3") as storage:
        desk = SupportDesk(storage)
        assert desk.receive("email", "a@example.com", "help").number == 1
        old = storage.connection().execute(
            "UPDATE sk_counters SET value = value + 1 WHERE name = 'ticket_number' RETURNING value"
        )
        assert old.fetchone()[0] == 2  # the earlier version's next number
        assert desk.receive("email", "b@example.com", "help").number == 3


def test_a_number_handed_out_and_not_used_is_never_handed_out_again(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "n.sqlite3") as storage:
        with storage.unit_of_work() as uow:
            assert [uow.next_ticket_number(), uow.next_ticket_number()] == [1, 2]
            uow.commit()
        assert _counter(storage) == 2
        with storage.unit_of_work() as uow:
            assert uow.next_ticket_number() == 3
            # rolled back: the number may come again, as with any rolled-back write


def test_a_counter_moved_ahead_stays_a_floor_for_new_numbers(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "n.sqlite3") as storage:
        storage.connection().execute(
            "UPDATE sk_counters SET value = 41 WHERE name = 'ticket_number'"
        )
        assert SupportDesk(storage).receive("email", "a@example.com", "help").number == 42


def test_a_caller_chosen_number_moves_later_numbers_past_it(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "n.sqlite3") as storage:
        ticket = SupportDesk(storage).receive("email", "a@example.com", "help")
        ticket = attrs.evolve(ticket, id="f" * 32, number=500, events=[])
        with storage.unit_of_work() as uow:
            uow.add_ticket(ticket)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.next_ticket_number() == 501


def test_two_connections_taking_turns_never_share_a_number(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite3"
    with SQLiteStorage(path) as one, SQLiteStorage(path) as two:
        desks = [SupportDesk(one), SupportDesk(two)]
        numbers = [
            desks[i % 2].receive("email", f"c{i}@example.com", "x").number for i in range(10)
        ]
        assert numbers == list(range(1, 11))


def test_assignee_and_team_indexes_hold_only_set_values_and_queries_use_them(
    tmp_path: Path,
) -> None:
    with SQLiteStorage(tmp_path / "n.sqlite3") as storage:
        conn = storage.connection()
        for index, column in (
            ("sk_tickets_assignee", "assignee_id"),
            ("sk_tickets_team", "team_id"),
        ):
            (sql,) = conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = ?", (index,)
            ).fetchone()
            assert sql.endswith(f"WHERE {column} IS NOT NULL")
        for sql in (
            "SELECT number FROM sk_tickets WHERE assignee_id = 'a1'",
            "SELECT assignee_id, COUNT(*) FROM sk_tickets WHERE assignee_id IS NOT NULL "
            "GROUP BY assignee_id",
            "SELECT number FROM sk_tickets WHERE team_id IN ('t1', 't2')",
        ):
            plan = " ".join(str(r[-1]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert "sk_tickets_assignee" in plan or "sk_tickets_team" in plan, (sql, plan)


def test_the_waiting_queue_reads_its_index_which_leaves_resolved_and_closed_tickets_out(
    tmp_path: Path,
) -> None:
    with SQLiteStorage(tmp_path / "n.sqlite3") as storage:
        desk = SupportDesk(storage)
        waiting = desk.receive("email", "a@example.com", "waits")
        done = desk.receive("email", "b@example.com", "done")
        desk.resolve(done.id, actor="agent", resolution="fixed")
        conn = storage.connection()
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        with storage.unit_of_work() as uow:
            found = uow.waiting_tickets(["registered", "diagnosing"])
        conn.set_trace_callback(None)
        assert [t.id for t in found] == [waiting.id]
        (query,) = [s for s in statements if s.startswith("SELECT")]
        plan = " ".join(str(r[-1]) for r in conn.execute(f"EXPLAIN QUERY PLAN {query}"))
        assert "USING INDEX sk_tickets_waiting" in plan
        (indexed,) = conn.execute(
            "SELECT COUNT(*) FROM sk_tickets INDEXED BY sk_tickets_waiting WHERE desk = 'default' "
            "AND assignee_id IS NULL AND status NOT IN ('resolved', 'closed')"
        ).fetchone()
        assert indexed == 1
