"""A report is one consistent snapshot: a write that lands between its queries is not seen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supportkit import FakeClock, SupportDesk
from supportkit.metrics import data_range, read_snapshot, sql_metrics, stored_feedback
from supportkit.ports import FeedbackAnswer
from supportkit.storage.sqlite import SQLiteStorage

MON = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class _WritesAfterTheFirstQuery:
    """A sqlite3 connection that lets another process's write land after the first query."""

    def __init__(self, conn: Any, write: Callable[[], None]) -> None:
        self._conn, self._write, self.queries = conn, write, 0

    @property
    def in_transaction(self) -> bool:
        return bool(self._conn.in_transaction)

    def execute(self, sql: str, *args: Any) -> Any:
        return self._conn.execute(sql, *args)

    def cursor(self) -> Any:
        outer, cur = self, self._conn.cursor()

        class _Cursor:
            def execute(self, sql: str, params: Any = ()) -> None:
                cur.execute(sql, params)
                outer.queries += 1
                if outer.queries == 1:
                    outer._write()

            def fetchall(self) -> list[Any]:
                return list(cur.fetchall())

            def fetchone(self) -> Any:
                return cur.fetchone()

            def close(self) -> None:
                cur.close()

        return _Cursor()


def _desk(path: Path, clock: FakeClock) -> tuple[SupportDesk, SQLiteStorage]:
    storage = SQLiteStorage(path)
    return SupportDesk(storage, clock=clock), storage


def test_a_write_between_the_queries_of_a_report_is_not_seen(tmp_path: Path) -> None:
    clock = FakeClock(MON)
    desk, storage = _desk(tmp_path / "desk.sqlite3", clock)
    for i in range(3):
        t = desk.receive("email", f"c{i}@example.com", "help")
        clock.advance(minutes=10)
        desk.reply(t.id, "ann", "hi")
    before = sql_metrics(storage.connection(), at=clock.now())
    other_desk, other = _desk(tmp_path / "desk.sqlite3", clock)

    def write() -> None:
        other_desk.receive("chat", "late@example.com", "a ticket during the report")

    conn = _WritesAfterTheFirstQuery(storage.connection(), write)
    during = sql_metrics(conn, at=clock.now())
    assert conn.queries > 5  # the write landed while the report was still querying
    assert during == before
    after = sql_metrics(storage.connection(), at=clock.now())
    assert after.total.tickets == 4
    assert after.total.backlog == before.total.backlog + 1
    other.close()
    storage.close()


def test_the_snapshot_reader_reads_feedback_and_range_in_the_same_transaction(
    tmp_path: Path,
) -> None:
    clock = FakeClock(MON)
    desk, storage = _desk(tmp_path / "desk.sqlite3", clock)
    desk.receive("email", "a@example.com", "help")
    clock.advance(hours=2)
    t = desk.receive("email", "b@example.com", "more help")
    with storage.unit_of_work() as uow:
        uow.add_feedback_answer(FeedbackAnswer(t.id, 4, 9, "", MON))
        uow.commit()
    conn = storage.connection()
    with read_snapshot(conn) as snap:
        assert conn.in_transaction
        assert data_range(snap) == (MON, MON + __import__("datetime").timedelta(hours=2))
        assert [f.csat for f in stored_feedback(snap)] == [4]
        report = sql_metrics(conn, at=clock.now(), feedback=stored_feedback(snap))
    assert not conn.in_transaction
    assert report.total.csat.responses == 1
    storage.close()
