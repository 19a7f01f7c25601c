"""Summaries the calculators produce, and the streaming accumulators behind them.

Durations are reported in seconds (``float``) so that a report serialises to
JSON, CSV or SQL without conversion; ``timedelta(seconds=x)`` turns one back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs

__all__ = [
    "AGEING_BUCKETS",
    "RESPONSE_HISTOGRAM",
    "CsatSummary",
    "DurationSummary",
    "NpsSummary",
    "Rate",
    "bucket_index",
    "percentile",
    "summary_from_ranks",
]

#: Upper bounds (seconds, exclusive) and labels of the backlog ageing buckets.
AGEING_BUCKETS: tuple[tuple[float, str], ...] = (
    (4 * 3600, "<4h"),
    (24 * 3600, "4h-1d"),
    (3 * 86400, "1-3d"),
    (7 * 86400, "3-7d"),
    (math.inf, ">7d"),
)

#: Upper bounds (seconds, exclusive) and labels of the first response time histogram.
RESPONSE_HISTOGRAM: tuple[tuple[float, str], ...] = (
    (15 * 60, "<15m"),
    (30 * 60, "15-30m"),
    (3600, "30m-1h"),
    (2 * 3600, "1-2h"),
    (4 * 3600, "2-4h"),
    (8 * 3600, "4-8h"),
    (24 * 3600, "8h-1d"),
    (3 * 86400, "1-3d"),
    (math.inf, ">3d"),
)

PERCENTILES = (50.0, 90.0, 95.0)


def bucket_index(buckets: Sequence[tuple[float, str]], seconds: float) -> int:
    """The index of the first bucket whose upper bound is above *seconds*."""
    for i, (upper, _) in enumerate(buckets):
        if seconds < upper:
            return i
    return len(buckets) - 1


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """The *p*-th percentile of ascending *sorted_values*, interpolated linearly.

    The position is ``(n - 1) * p / 100`` (numpy's default, "type 7"), so the
    50th percentile is the usual median. ``None`` for no values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    n = len(sorted_values)
    if n == 0:
        return None
    lo, hi, frac = percentile_ranks(n, p)
    a, b = sorted_values[lo], sorted_values[hi]
    return a + (b - a) * frac


def percentile_ranks(n: int, p: float) -> tuple[int, int, float]:
    """The two 0-based ranks a percentile of *n* values interpolates between, and the weight."""
    pos = (n - 1) * p / 100.0
    lo = math.floor(pos)
    return lo, min(lo + 1, n - 1), pos - lo


@attrs.frozen
class DurationSummary:
    """Count, mean, median, p90 and p95 of a set of durations (seconds)."""

    count: int = 0
    mean: float | None = None
    median: float | None = None
    p90: float | None = None
    p95: float | None = None

    @classmethod
    def of(cls, values: list[float]) -> DurationSummary:
        """Summarise *values* (sorted in place)."""
        if not values:
            return cls()
        values.sort()
        return cls(
            len(values),
            math.fsum(values) / len(values),
            percentile(values, 50),
            percentile(values, 90),
            percentile(values, 95),
        )


def summary_from_ranks(n: int, total: float, at_rank: Mapping[int, float]) -> DurationSummary:
    """The summary of *n* values summing to *total*, from the values at the ranks the
    percentiles interpolate between (all that a database needs to send back)."""
    if n == 0:
        return DurationSummary()

    def pct(p: float) -> float:
        lo, hi, frac = percentile_ranks(n, p)
        a, b = at_rank[lo], at_rank[hi]
        return a + (b - a) * frac

    return DurationSummary(n, total / n, pct(50), pct(90), pct(95))


@attrs.frozen
class Rate:
    """``numerator`` out of ``denominator``; ``pct`` is ``None`` when nothing was counted."""

    numerator: int = 0
    denominator: int = 0

    @property
    def pct(self) -> float | None:
        return None if self.denominator == 0 else 100.0 * self.numerator / self.denominator


@attrs.frozen
class CsatSummary:
    """CSAT: ``satisfied`` (answers of 4 or 5) out of ``responses``, and the mean score.

    ``by_score`` counts the answers of each score 1-5 (for the chart).
    """

    responses: int = 0
    satisfied: int = 0
    total: int = 0
    by_score: tuple[int, ...] = (0, 0, 0, 0, 0)

    @classmethod
    def of_counts(cls, counts: Sequence[int]) -> CsatSummary:
        """The summary of the answers counted per score 1-5."""
        return cls(
            sum(counts),
            counts[3] + counts[4],
            sum((i + 1) * n for i, n in enumerate(counts)),
            tuple(counts),
        )

    @property
    def pct(self) -> float | None:
        return None if self.responses == 0 else 100.0 * self.satisfied / self.responses

    @property
    def mean(self) -> float | None:
        return None if self.responses == 0 else self.total / self.responses


@attrs.frozen
class NpsSummary:
    """NPS: % promoters (9-10) minus % detractors (0-6) among the answers that have a score.

    ``by_score`` counts the answers of each score 0-10 (for the chart).
    """

    responses: int = 0
    promoters: int = 0
    detractors: int = 0
    by_score: tuple[int, ...] = (0,) * 11

    @classmethod
    def of_counts(cls, counts: Sequence[int]) -> NpsSummary:
        """The summary of the answers counted per score 0-10."""
        return cls(sum(counts), counts[9] + counts[10], sum(counts[:7]), tuple(counts))

    @property
    def passives(self) -> int:
        return self.responses - self.promoters - self.detractors

    @property
    def score(self) -> float | None:
        if self.responses == 0:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.responses
