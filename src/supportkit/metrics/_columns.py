"""The columns of a metrics report and how their values read, shared by every renderer."""

from __future__ import annotations

from collections.abc import Callable

from ._report import GroupMetrics, MetricsReport
from ._stats import DurationSummary

__all__ = ["_num", "_pct", "columns", "fmt_duration", "headline_durations"]


def fmt_duration(seconds: float | None) -> str:
    """A duration as people read it: ``45s``, ``12m``, ``3h 05m``, ``2d 4h``; ``-`` for none."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.0f}s"
    if s < 3600:
        return f"{sign}{s / 60:.0f}m"
    if s < 86400:
        h, m = divmod(round(s / 60), 60)
        return f"{sign}{h}h {m:02d}m"
    d, h = divmod(round(s / 3600), 24)
    return f"{sign}{d}d {h}h"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _sla_overall(g: GroupMetrics) -> float | None:
    met = sum(r.numerator for r in g.sla.values())
    total = sum(r.denominator for r in g.sla.values())
    return None if total == 0 else 100.0 * met / total


def headline_durations(
    report: MetricsReport, g: GroupMetrics
) -> tuple[DurationSummary, DurationSummary, str]:
    """First response and resolution as the report shows them: in business time when the
    report measured it (with a label saying so), else in clock time."""
    if report.business_time and g.first_response_business is not None:
        return (
            g.first_response_business,
            g.resolution_business or DurationSummary(),
            " (business time)",
        )
    return g.first_response, g.resolution, ""


def columns(report: MetricsReport) -> list[tuple[str, Callable[[GroupMetrics], str]]]:
    """The table's columns; durations in business time when the report measured it
    (headed ``(bt)``)."""

    def first(g: GroupMetrics) -> DurationSummary:
        return headline_durations(report, g)[0]

    def resolution(g: GroupMetrics) -> DurationSummary:
        return headline_durations(report, g)[1]

    def next_response(g: GroupMetrics) -> DurationSummary:
        if report.business_time and g.next_response_business is not None:
            return g.next_response_business
        return g.next_response

    mark = " (bt)" if report.business_time else ""
    return [
        ("tickets", lambda g: str(g.tickets)),
        ("resolved", lambda g: str(g.resolved)),
        (f"1st resp med{mark}", lambda g: fmt_duration(first(g).median)),
        (f"1st resp p90{mark}", lambda g: fmt_duration(first(g).p90)),
        (f"resol med{mark}", lambda g: fmt_duration(resolution(g).median)),
        (f"resol p90{mark}", lambda g: fmt_duration(resolution(g).p90)),
        (f"next resp med{mark}", lambda g: fmt_duration(next_response(g).median)),
        ("FCR", lambda g: _pct(g.first_contact_resolution.pct)),
        ("reopen", lambda g: _pct(g.reopen.pct)),
        ("escal", lambda g: _pct(g.escalation.pct)),
        ("CSAT", lambda g: _pct(g.csat.pct)),
        ("NPS", lambda g: _num(g.nps.score, 0)),
        ("SLA", lambda g: _pct(_sla_overall(g))),
        ("backlog", lambda g: str(g.backlog)),
    ]
