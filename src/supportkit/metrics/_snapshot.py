"""One consistent read of a desk's database for a report.

:func:`read_snapshot` opens one read transaction on a DB-API connection
(REPEATABLE READ on PostgreSQL) and hands out a :class:`SnapshotReader`: the
read side of the storage ports (tickets, key-value, SLA clocks) over that
same transaction. :func:`~supportkit.metrics.sql_metrics`, the feedback,
the desk's SLA outcomes, the topic breakdown and the complaint figures all
read inside it, so every number of one report describes the same moment
even while the desk keeps writing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ..ports._desks import DEFAULT_DESK, check_desk_key
from ..storage.sql import (
    SqlFeedbackAnswerStore,
    SqlKeyValueStore,
    SqlSlaClockStore,
    SqlTicketStore,
    from_us,
)
from ._sql_acc import Sql

__all__ = ["SnapshotReader", "data_range", "read_snapshot"]


class SnapshotReader(SqlTicketStore, SqlKeyValueStore, SqlSlaClockStore, SqlFeedbackAnswerStore):
    """The storage ports' reads (``find_tickets``, ``kv_items``, ``sla_clocks_after``,
    ``feedback_answers_after``, ...)
    over a report's snapshot connection. Meant for reading: it never commits."""

    def __init__(self, conn: Any, dialect: str, desk: str = DEFAULT_DESK) -> None:
        super().__init__()
        self.conn = conn
        self.dialect = dialect
        self.desk = check_desk_key(desk)
        self.paramstyle = "qmark" if dialect == "sqlite" else "format"
        self._cur = conn.cursor()


@contextmanager
def read_snapshot(
    conn: Any, dialect: str = "sqlite", desk: str = DEFAULT_DESK
) -> Iterator[SnapshotReader]:
    """A :class:`SnapshotReader` of *desk* inside one read transaction on *conn* (see
    :meth:`Sql.snapshot`); call :func:`sql_metrics` on the same *conn* in the block."""
    with Sql(conn, dialect).snapshot():
        reader = SnapshotReader(conn, dialect, desk)
        try:
            yield reader
        finally:
            reader._cur.close()


def data_range(reader: SnapshotReader) -> tuple[datetime | None, datetime | None]:
    """The first ticket's reception and the last stored change (tickets and their history):
    the window a report covers when none is given."""
    row = reader.one(
        "SELECT MIN(t.received_at), MAX(COALESCE(t.updated_at, t.received_at)), "
        "(SELECT MAX(h.at) FROM sk_history h WHERE h.desk = ?) FROM sk_tickets t "
        "WHERE t.desk = ?",
        (reader.desk, reader.desk),
    )
    if row is None or row[0] is None:
        return None, None
    last = max(v for v in (row[1], row[2]) if v is not None)
    return from_us(row[0]), from_us(last)
