"""The columns of a metrics report and how their values read, shared by every renderer."""

from __future__ import annotations

from collections.abc import Callable

from ._report import GroupMetrics

__all__ = ["_COLUMNS", "_num", "_pct", "fmt_duration"]


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


_COLUMNS: tuple[tuple[str, Callable[[GroupMetrics], str]], ...] = (
    ("tickets", lambda g: str(g.tickets)),
    ("resolved", lambda g: str(g.resolved)),
    ("1st resp med", lambda g: fmt_duration(g.first_response.median)),
    ("1st resp p90", lambda g: fmt_duration(g.first_response.p90)),
    ("resol med", lambda g: fmt_duration(g.resolution.median)),
    ("resol p90", lambda g: fmt_duration(g.resolution.p90)),
    ("next resp med", lambda g: fmt_duration(g.next_response.median)),
    ("FCR", lambda g: _pct(g.first_contact_resolution.pct)),
    ("reopen", lambda g: _pct(g.reopen.pct)),
    ("escal", lambda g: _pct(g.escalation.pct)),
    ("CSAT", lambda g: _pct(g.csat.pct)),
    ("NPS", lambda g: _num(g.nps.score, 0)),
    ("SLA", lambda g: _pct(_sla_overall(g))),
    ("backlog", lambda g: str(g.backlog)),
)
