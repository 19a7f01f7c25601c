"""Topics over time: what customers ask about, week by week, and what is growing.

"Many questions about one feature means it needs improving" (seed 002): the
topics view counts the tickets of each topic per week, for three kinds of
topic: the ticket's **category** (product area), its **tags**, and its
**kind** of support. For each topic it gives the count in the current
period (the week holding the report's instant), the change against the
previous period, and the topics that grew most.

Weeks are UTC calendar weeks keyed by their Monday, the same keys as the
metrics' ``group_by="week"`` (:func:`~supportkit.metrics.period_key`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from ..domain._errors import ValidationError
from ..domain._model import ensure_utc
from ._complaints import all_tickets
from ._records import period_key
from ._sections import add_section

__all__ = [
    "TOPIC_DIMENSIONS",
    "TopicTrend",
    "TopicsView",
    "stored_topics",
    "topics_of",
    "topics_over_time",
    "weeks_covering",
    "with_topics",
]

#: the kinds of topic the view counts
TOPIC_DIMENSIONS = ("category", "tag", "kind")


class _Topical(Protocol):
    @property
    def received_at(self) -> datetime: ...
    @property
    def category(self) -> str | None: ...
    @property
    def tags(self) -> frozenset[str]: ...
    @property
    def kind(self) -> str | None: ...


@attrs.frozen
class TopicTrend:
    """One topic's tickets per week (oldest first) and its change against the previous week."""

    dimension: str
    topic: str
    counts: tuple[int, ...]

    @property
    def current(self) -> int:
        return self.counts[-1] if self.counts else 0

    @property
    def previous(self) -> int:
        return self.counts[-2] if len(self.counts) > 1 else 0

    @property
    def change(self) -> int:
        """Tickets this period minus tickets the period before."""
        return self.current - self.previous

    @property
    def change_pct(self) -> float | None:
        """The change in percent of the previous period; None when it had none."""
        return None if self.previous == 0 else 100.0 * self.change / self.previous

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "topic": self.topic,
            "counts": list(self.counts),
            "current": self.current,
            "previous": self.previous,
            "change": self.change,
            "change_pct": self.change_pct,
        }


@attrs.frozen
class TopicsView:
    """The topics of the tickets received in the view's weeks (see the module docstring)."""

    at: datetime
    weeks: tuple[str, ...]
    trends: tuple[TopicTrend, ...]

    def of(self, dimension: str) -> list[TopicTrend]:
        """The trends of one kind of topic, most tickets this period first."""
        return [t for t in self.trends if t.dimension == dimension]

    def trend(self, dimension: str, topic: str) -> TopicTrend:
        for t in self.trends:
            if (t.dimension, t.topic) == (dimension, topic):
                return t
        return TopicTrend(dimension, topic, tuple(0 for _ in self.weeks))

    def top_growing(self, n: int = 5) -> list[TopicTrend]:
        """The topics that grew most against the previous period (growth only)."""
        growing = [t for t in self.trends if t.change > 0]
        growing.sort(key=lambda t: (-t.change, -t.current, t.dimension, t.topic))
        return growing[:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "weeks": list(self.weeks),
            "topics": [t.to_dict() for t in self.trends],
            "top_growing": [t.to_dict() for t in self.top_growing()],
        }

    def render(self, *, limit: int = 10) -> str:
        """A plain-text table: per kind of topic, counts per week and the change."""
        lines = [f"topics per week (weeks starting {', '.join(self.weeks)}):"]
        for dim in TOPIC_DIMENSIONS:
            rows = self.of(dim)[:limit]
            if not rows:
                continue
            width = max(len(r.topic) for r in rows)
            lines.append(f"  {dim}")
            for r in rows:
                counts = " ".join(f"{c:>3}" for c in r.counts)
                lines.append(f"    {r.topic:<{width}}  {counts}   change {_signed(r.change)}")
        growing = self.top_growing()
        if growing:
            top = ", ".join(f"{t.dimension} {t.topic} {_signed(t.change)}" for t in growing)
            lines.append(f"  top growing: {top}")
        else:
            lines.append("  top growing: none")
        return "\n".join(lines)


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def topics_of(ticket: _Topical) -> Iterator[tuple[str, str]]:
    """The (dimension, topic) pairs of a ticket: its category, each tag, its kind."""
    if ticket.category:
        yield "category", ticket.category
    for tag in sorted(ticket.tags):
        yield "tag", tag
    if ticket.kind:
        yield "kind", ticket.kind


def topics_over_time(tickets: Iterable[_Topical], *, at: datetime, weeks: int = 4) -> TopicsView:
    """Count the topics of *tickets* per week over the *weeks* weeks up to the one of *at*.

    Tickets received after *at*, or before the first week, are left out.
    """
    if weeks < 2:
        raise ValidationError(f"a topics view needs at least 2 weeks to compare, got {weeks}")
    at = ensure_utc(at)
    last = period_key(at, "week")
    monday = datetime.fromisoformat(last).date()
    keys = tuple((monday - timedelta(weeks=weeks - 1 - i)).isoformat() for i in range(weeks))
    index = {k: i for i, k in enumerate(keys)}
    counts: dict[tuple[str, str], Counter[int]] = {}
    for t in tickets:
        if t.received_at > at:
            continue
        i = index.get(period_key(t.received_at, "week"))
        if i is None:
            continue
        for topic in topics_of(t):
            counts.setdefault(topic, Counter())[i] += 1
    trends = [
        TopicTrend(dim, topic, tuple(c[i] for i in range(weeks)))
        for (dim, topic), c in counts.items()
    ]
    trends.sort(
        key=lambda t: (TOPIC_DIMENSIONS.index(t.dimension), -t.current, -sum(t.counts), t.topic)
    )
    return TopicsView(at, keys, tuple(trends))


def weeks_covering(first: datetime | None, at: datetime, *, most: int = 26) -> int:
    """How many weeks a topics view needs to cover from the week of *first* (the data's first
    ticket) to the week of *at*: at least 2 (a change needs a previous week), at most *most*."""
    if first is None:
        return 2
    a = datetime.fromisoformat(period_key(ensure_utc(at), "week"))
    f = datetime.fromisoformat(period_key(ensure_utc(first), "week"))
    return max(2, min(most, (a - f).days // 7 + 1))


def stored_topics(uow: Any, *, at: datetime, weeks: int = 4) -> TopicsView:
    """:func:`topics_over_time` over the stored tickets (read a page at a time)."""
    return topics_over_time(all_tickets(uow), at=at, weeks=weeks)


def with_topics(text: str, fmt: str, topics: TopicsView) -> str:
    """A rendered report (table, json, csv or html) with the topics view added."""
    return add_section(
        text,
        fmt,
        key="topics",
        title="Topics over time",
        data=topics.to_dict(),
        plain=topics.render(),
    )
