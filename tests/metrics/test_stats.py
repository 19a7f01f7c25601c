"""Percentiles, summaries and rates."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit.metrics import CsatSummary, DurationSummary, NpsSummary, Rate, percentile


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0], 95) == 10.0
    assert percentile([], 50) is None
    assert percentile([0.0, 100.0], 90) == pytest.approx(90.0)


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=50))
def test_percentiles_match_the_inclusive_quantiles_of_the_standard_library(
    values: list[float],
) -> None:
    q = statistics.quantiles(values, n=100, method="inclusive")
    s = DurationSummary.of(list(values))
    assert s.median == pytest.approx(statistics.median(values), abs=1e-6)
    assert s.p90 == pytest.approx(q[89], abs=1e-6)
    assert s.p95 == pytest.approx(q[94], abs=1e-6)
    assert s.count == len(values)


def test_an_empty_summary_has_no_values() -> None:
    assert DurationSummary.of([]) == DurationSummary(0, None, None, None, None)


def test_rates_without_a_denominator_have_no_percentage() -> None:
    assert Rate(0, 0).pct is None
    assert Rate(1, 4).pct == 25.0


def test_csat_is_the_share_of_four_and_five_and_the_mean() -> None:
    c = CsatSummary(responses=4, satisfied=3, total=17)
    assert c.pct == 75.0
    assert c.mean == 4.25
    assert CsatSummary().pct is None


def test_nps_is_promoters_minus_detractors_in_percent() -> None:
    n = NpsSummary(responses=10, promoters=5, detractors=2)
    assert n.passives == 3
    assert n.score == 30.0
    assert NpsSummary().score is None
