"""The result of a metrics run: one :class:`GroupMetrics` per group and a total."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._stats import CsatSummary, DurationSummary, NpsSummary, Rate

__all__ = ["GroupMetrics", "MetricsReport"]


@attrs.frozen
class GroupMetrics:
    """Every metric of one group of tickets (``key`` is the group, ``"all"`` for the total).

    Flow metrics (``tickets`` onwards) are over the tickets received in the
    report's window; ``backlog`` and ``ageing`` are over every ticket open at
    the report's instant; feedback and given SLA outcomes are selected by
    their own ``at``.
    """

    key: str
    tickets: int = 0
    resolved: int = 0
    first_response: DurationSummary = attrs.Factory(DurationSummary)
    resolution: DurationSummary = attrs.Factory(DurationSummary)
    next_response: DurationSummary = attrs.Factory(DurationSummary)
    first_response_business: DurationSummary | None = None
    resolution_business: DurationSummary | None = None
    next_response_business: DurationSummary | None = None
    first_contact_resolution: Rate = attrs.Factory(Rate)
    reopen: Rate = attrs.Factory(Rate)
    escalation: Rate = attrs.Factory(Rate)
    escalation_by_tier: Mapping[str, Rate] = attrs.Factory(dict)
    csat: CsatSummary = attrs.Factory(CsatSummary)
    nps: NpsSummary = attrs.Factory(NpsSummary)
    sla: Mapping[str, Rate] = attrs.Factory(dict)
    backlog: int = 0
    ageing: Mapping[str, int] = attrs.Factory(dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible values; rates and summaries become small dicts."""
        out: dict[str, Any] = {"key": self.key, "tickets": self.tickets, "resolved": self.resolved}
        for name in (
            "first_response",
            "resolution",
            "next_response",
            "first_response_business",
            "resolution_business",
            "next_response_business",
        ):
            value = getattr(self, name)
            out[name] = None if value is None else attrs.asdict(value)
        for name in ("first_contact_resolution", "reopen", "escalation"):
            out[name] = _rate(getattr(self, name))
        out["escalation_by_tier"] = {k: _rate(v) for k, v in self.escalation_by_tier.items()}
        out["csat"] = {
            "responses": self.csat.responses,
            "satisfied": self.csat.satisfied,
            "pct": self.csat.pct,
            "mean": self.csat.mean,
            "by_score": list(self.csat.by_score),
        }
        out["nps"] = {
            "responses": self.nps.responses,
            "promoters": self.nps.promoters,
            "passives": self.nps.passives,
            "detractors": self.nps.detractors,
            "score": self.nps.score,
            "by_score": list(self.nps.by_score),
        }
        out["sla"] = {k: _rate(v) for k, v in self.sla.items()}
        out["backlog"] = self.backlog
        out["ageing"] = dict(self.ageing)
        return out


def _rate(r: Rate) -> dict[str, Any]:
    return {"numerator": r.numerator, "denominator": r.denominator, "pct": r.pct}


@attrs.frozen
class MetricsReport:
    """Metrics for a window, grouped by one dimension, with the total and the charts' series."""

    at: datetime
    since: datetime | None
    until: datetime | None
    group_by: str | None
    total: GroupMetrics
    groups: tuple[GroupMetrics, ...]
    agent_load: Mapping[str, int]
    backlog_series: tuple[tuple[datetime, int], ...]
    first_response_histogram: tuple[tuple[str, int], ...]
    business_time: bool = False

    def group(self, key: str) -> GroupMetrics:
        """The metrics of one group; a group with no tickets is all zeros."""
        for g in self.groups:
            if g.key == key:
                return g
        return GroupMetrics(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "group_by": self.group_by,
            "business_time": self.business_time,
            "total": self.total.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "agent_load": dict(self.agent_load),
            "backlog_series": [[t.isoformat(), n] for t, n in self.backlog_series],
            "first_response_histogram": [list(b) for b in self.first_response_histogram],
        }
