"""Complaint metrics: how many complaints, how fast they are resolved, their share of tickets.

A complaint is a ticket on the complaint lifecycle (the one definition the
complaint paths use: :func:`supportkit.domain.is_complaint`). Its
resolution time runs from receipt to the answer (``resolved_at``, set when
the complaint is answered) or, if it was closed unanswered, to closing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import attrs

from ..domain._model import Ticket, ensure_utc, is_complaint
from ..ports._desks import DEFAULT_DESK, check_desk_key
from ..ports._storage import TicketQuery
from ._sections import add_section
from ._stats import DurationSummary, Rate

__all__ = [
    "ComplaintMetrics",
    "complaint_metrics",
    "sql_complaint_metrics",
    "stored_complaint_metrics",
    "with_complaints",
]


@attrs.frozen
class ComplaintMetrics:
    """Complaints among the tickets received in a window."""

    complaints: int = 0
    tickets: int = 0
    resolved: int = 0
    resolution: DurationSummary = attrs.Factory(DurationSummary)

    @property
    def share(self) -> Rate:
        """Complaints out of all tickets received in the window."""
        return Rate(self.complaints, self.tickets)

    def to_dict(self) -> dict[str, Any]:
        return {
            "complaints": self.complaints,
            "tickets": self.tickets,
            "share_pct": self.share.pct,
            "resolved": self.resolved,
            "resolution": attrs.asdict(self.resolution),
        }

    def describe(self) -> str:
        """One line for a report."""
        pct = self.share.pct
        share = "n/a" if pct is None else f"{pct:.1f}%"
        median = self.resolution.median
        res = "n/a" if median is None else f"{median / 3600:.1f} h"
        return (
            f"complaints: {self.complaints} of {self.tickets} tickets ({share}), "
            f"{self.resolved} resolved, median resolution {res}"
        )


def complaint_metrics(
    tickets: Iterable[Ticket],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    lifecycle: str = "complaint",
) -> ComplaintMetrics:
    """Complaint metrics of the *tickets* received in ``[since, until)``."""
    lo = ensure_utc(since) if since else None
    hi = ensure_utc(until) if until else None
    total = complaints = 0
    durations: list[float] = []
    for t in tickets:
        if (lo is not None and t.received_at < lo) or (hi is not None and t.received_at >= hi):
            continue
        total += 1
        if not is_complaint(t, lifecycle=lifecycle):
            continue
        complaints += 1
        end = t.resolved_at or t.closed_at
        if end is not None:
            durations.append((end - t.received_at).total_seconds())
    return ComplaintMetrics(complaints, total, len(durations), DurationSummary.of(durations))


def all_tickets(uow: Any, page: int = 500) -> Iterator[Ticket]:
    """Every stored ticket, oldest first, read one page at a time."""
    offset = 0
    while True:
        batch = uow.find_tickets(TicketQuery(limit=page, offset=offset, oldest_first=True))
        if not batch:
            return
        yield from batch
        offset += len(batch)


def stored_complaint_metrics(
    uow: Any,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    lifecycle: str = "complaint",
) -> ComplaintMetrics:
    """:func:`complaint_metrics` over every ticket stored (read a page at a time)."""
    return complaint_metrics(all_tickets(uow), since=since, until=until, lifecycle=lifecycle)


def sql_complaint_metrics(
    conn: Any,
    *,
    dialect: str = "sqlite",
    since: datetime | None = None,
    until: datetime | None = None,
    lifecycle: str = "complaint",
    desk: str = DEFAULT_DESK,
) -> ComplaintMetrics:
    """:func:`complaint_metrics` computed in the database (SQLite or PostgreSQL) over *desk*'s
    tickets: the counts are aggregated there and only the complaints' resolution times
    come back. A complaint is a ticket on the *lifecycle* (the column :func:`is_complaint`
    reads); its end is ``resolved_at``, else ``closed_at``."""
    from ..storage.sql import qmark_to_format, to_us

    where: list[str] = ["desk = ?"]
    params: list[Any] = [check_desk_key(desk)]
    if since is not None:
        where.append("received_at >= ?")
        params.append(to_us(ensure_utc(since)))
    if until is not None:
        where.append("received_at < ?")
        params.append(to_us(ensure_utc(until)))
    window = " AND ".join(where)
    cur = conn.cursor()
    try:

        def rows(sql: str, args: list[Any]) -> list[Any]:
            cur.execute(qmark_to_format(sql) if dialect == "postgresql" else sql, tuple(args))
            return list(cur.fetchall())

        [(tickets, complaints)] = rows(
            "SELECT COUNT(*), COUNT(CASE WHEN lifecycle = ? THEN 1 END) FROM sk_tickets "
            f"WHERE {window}",
            [lifecycle, *params],
        )
        ends = rows(
            "SELECT COALESCE(resolved_at, closed_at) - received_at FROM sk_tickets "
            f"WHERE {window} AND lifecycle = ? AND COALESCE(resolved_at, closed_at) IS NOT NULL",
            [*params, lifecycle],
        )
    finally:
        cur.close()
    durations = [int(d) / 1_000_000 for (d,) in ends]
    return ComplaintMetrics(
        int(complaints or 0), int(tickets), len(durations), DurationSummary.of(durations)
    )


def with_complaints(text: str, fmt: str, complaints: ComplaintMetrics) -> str:
    """A rendered report (table, json, csv or html) with the complaint figures added."""
    return add_section(
        text,
        fmt,
        key="complaints",
        title="Complaints",
        data=complaints.to_dict(),
        plain=complaints.describe(),
    )
