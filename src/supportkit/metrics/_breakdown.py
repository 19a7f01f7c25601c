"""What the tickets are about: a breakdown by category or by tag, and the top topics.

Support managers look here for "many questions about one feature". The
aggregation is one function, :func:`breakdown`, over small per-ticket
records (:class:`TopicFacts`); they come from stored tickets
(:func:`topic_facts_of`, :func:`iter_topic_facts`) or straight from a SQL
database (:func:`sql_topic_facts`), so both paths count the same way.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ..domain._errors import ValidationError
from ..domain._model import Ticket, ensure_utc
from ..ports._desks import DEFAULT_DESK, check_desk_key
from ..ports._storage import TicketQuery, UnitOfWork
from ._records import NO_KIND, period_key
from ._stats import DurationSummary, Rate
from ._topics import TOPIC_DIMENSIONS, TopicsView, topics_of, topics_over_time

__all__ = [
    "NO_CATEGORY",
    "NO_TAG",
    "TopicFacts",
    "TopicRow",
    "breakdown",
    "iter_topic_facts",
    "sql_topic_facts",
    "sql_topics",
    "top_topics",
    "topic_facts_of",
]

NO_CATEGORY = "(no category)"
NO_TAG = "(no tag)"
_NONE = {"category": NO_CATEGORY, "tag": NO_TAG, "kind": NO_KIND}
_US = 1_000_000


@attrs.frozen
class TopicFacts:
    """What a breakdown needs of one ticket."""

    id: str
    received_at: datetime
    category: str | None = None
    tags: frozenset[str] = frozenset()
    kind: str | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    reopen_count: int = 0
    escalation_count: int = 0


@attrs.frozen
class TopicRow:
    """One topic: how many tickets (and what share of the window's), how they went."""

    key: str
    tickets: int
    share: Rate
    resolved: int
    reopened: int
    escalated: int
    first_response: DurationSummary
    resolution: DurationSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "tickets": self.tickets,
            "share_pct": self.share.pct,
            "resolved": self.resolved,
            "reopened": self.reopened,
            "escalated": self.escalated,
            "first_response": attrs.asdict(self.first_response),
            "resolution": attrs.asdict(self.resolution),
        }


def topic_facts_of(ticket: Ticket) -> TopicFacts:
    """The breakdown facts of a stored ticket."""
    return TopicFacts(
        ticket.id,
        ticket.received_at,
        ticket.category,
        frozenset(ticket.tags),
        ticket.kind,
        ticket.first_response_at,
        ticket.resolved_at,
        ticket.reopen_count,
        ticket.escalation_count,
    )


def iter_topic_facts(uow: UnitOfWork, *, page: int = 500) -> Iterator[TopicFacts]:
    """Every stored ticket's breakdown facts, one page of tickets at a time."""
    offset = 0
    while True:
        batch = uow.find_tickets(TicketQuery(limit=page, offset=offset, oldest_first=True))
        if not batch:
            return
        yield from (topic_facts_of(t) for t in batch)
        offset += len(batch)


def _dt(us: int | None) -> datetime | None:
    from ..storage.sql import from_us

    return from_us(us)


def sql_topic_facts(
    conn: Any,
    *,
    dialect: str = "sqlite",
    since: datetime | None = None,
    until: datetime | None = None,
    desk: str = DEFAULT_DESK,
) -> Iterator[TopicFacts]:
    """The breakdown facts of *desk*'s tickets received in ``[since, until)``, read from
    ``sk_tickets``."""
    from ..storage.sql import qmark_to_format, to_us

    where: list[str] = ["desk = ?"]
    params: list[Any] = [check_desk_key(desk)]
    if since is not None:
        where.append("received_at >= ?")
        params.append(to_us(ensure_utc(since)))
    if until is not None:
        where.append("received_at < ?")
        params.append(to_us(ensure_utc(until)))
    sql = (
        "SELECT id, received_at, category, tags, first_response_at, resolved_at, reopen_count, "
        f"escalation_count, custom_fields FROM sk_tickets WHERE {' AND '.join(where)}"
    )
    cur = conn.cursor()
    try:
        cur.execute(qmark_to_format(sql) if dialect == "postgresql" else sql, tuple(params))
        for row in cur:
            tags = json.loads(row[3]) if row[3] and row[3] != "[]" else []
            received = _dt(row[1])
            assert received is not None
            yield TopicFacts(
                row[0],
                received,
                row[2],
                frozenset(tags),
                _kind(row[8]),
                _dt(row[4]),
                _dt(row[5]),
                int(row[6]),
                int(row[7]),
            )
    finally:
        cur.close()


def _kind(custom_fields: str | None) -> str | None:
    """``custom_fields["kind"]``, as :attr:`Ticket.kind <supportkit.Ticket.kind>` reads it."""
    if not custom_fields or custom_fields == "{}":
        return None
    kind = json.loads(custom_fields).get("kind")
    return None if kind is None else str(kind)


class _Topic:
    __slots__ = ("esc", "frt", "reopened", "res", "resolved", "tickets")

    def __init__(self) -> None:
        self.tickets = self.resolved = self.reopened = self.esc = 0
        self.frt: list[float] = []
        self.res: list[float] = []

    def add(self, t: TopicFacts) -> None:
        self.tickets += 1
        self.reopened += t.reopen_count > 0
        self.esc += t.escalation_count > 0
        if t.first_response_at is not None:
            self.frt.append((t.first_response_at - t.received_at).total_seconds())
        if t.resolved_at is not None:
            self.resolved += 1
            self.res.append((t.resolved_at - t.received_at).total_seconds())


def breakdown(
    tickets: Iterable[TopicFacts],
    *,
    by: str = "category",
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[TopicRow, ...]:
    """The tickets received in ``[since, until)`` per category or per tag, most tickets first.

    A ticket's topics are :func:`~supportkit.metrics.topics_of` (the topics
    view's definition): by ``tag`` it counts under each of its tags (shares
    can add up to more than 100%); tickets without one are :data:`NO_TAG`,
    :data:`NO_CATEGORY` or ``(no kind)``.
    """
    if by not in TOPIC_DIMENSIONS:
        raise ValidationError(f"cannot break down by {by!r}; use one of {list(TOPIC_DIMENSIONS)}")
    lo = ensure_utc(since) if since else None
    hi = ensure_utc(until) if until else None
    topics: dict[str, _Topic] = defaultdict(_Topic)
    total = 0
    for t in tickets:
        if (lo is not None and t.received_at < lo) or (hi is not None and t.received_at >= hi):
            continue
        total += 1
        keys = [topic for dim, topic in topics_of(t) if dim == by] or [_NONE[by]]
        for key in keys:
            topics[key].add(t)
    rows = [
        TopicRow(
            key,
            x.tickets,
            Rate(x.tickets, total),
            x.resolved,
            x.reopened,
            x.esc,
            DurationSummary.of(x.frt),
            DurationSummary.of(x.res),
        )
        for key, x in topics.items()
    ]
    return tuple(sorted(rows, key=lambda r: (-r.tickets, r.key)))


def top_topics(rows: Iterable[TopicRow], n: int = 10) -> tuple[TopicRow, ...]:
    """The *n* topics with the most tickets, leaving out "no category", "no tag", "no kind"."""
    return tuple(r for r in rows if r.key not in _NONE.values())[:n]


def sql_topics(
    conn: Any,
    *,
    dialect: str = "sqlite",
    at: datetime,
    weeks: int = 4,
    desk: str = DEFAULT_DESK,
) -> TopicsView:
    """:func:`topics_over_time` over *desk*'s tickets read straight from ``sk_tickets`` (only
    the weeks' tickets and only the topic columns, as :func:`sql_topic_facts` reads them)."""
    if weeks < 2:
        raise ValidationError(f"a topics view needs at least 2 weeks to compare, got {weeks}")
    at = ensure_utc(at)
    monday = datetime.fromisoformat(period_key(at, "week")).replace(tzinfo=UTC)
    first = monday - timedelta(weeks=weeks - 1)
    facts = sql_topic_facts(conn, dialect=dialect, since=first, until=None, desk=desk)
    return topics_over_time(facts, at=at, weeks=weeks)
