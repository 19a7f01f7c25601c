"""The streaming metrics calculator.

Tickets go through :meth:`MetricsCalculator.add` one at a time. Every
metric is a counter or a sum per group, except the percentiles, which
keep the durations of their group (memory grows with the tickets only
there). Feedback and SLA outcomes are read first and kept per ticket until
that ticket goes by, so they can be grouped by the ticket's channel, tier,
team, agent or priority.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain._definitions import is_first_contact_resolution
from ..domain._errors import ValidationError
from ..domain._model import ensure_utc
from ..policies._calendar import BusinessCalendar
from ._records import (
    DIMENSIONS,
    SLA_TARGETS,
    UNASSIGNED,
    FeedbackRecord,
    SlaOutcome,
    TicketFacts,
    group_key,
)
from ._report import GroupMetrics, MetricsReport
from ._stats import (
    AGEING_BUCKETS,
    RESPONSE_HISTOGRAM,
    CsatSummary,
    DurationSummary,
    NpsSummary,
    Rate,
    bucket_index,
)

__all__ = ["MetricsCalculator", "compute_metrics"]

_DAY_US = 86_400_000_000
MAX_SERIES_DAYS = 366


def _us(at: datetime) -> int:
    d = at - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_options(
    group_by: str | None,
    at: datetime | None,
    since: datetime | None,
    until: datetime | None,
    sla_targets: Mapping[str, timedelta] | None,
) -> tuple[datetime, datetime | None, datetime | None, dict[str, timedelta]]:
    """The report's instant, window and SLA targets, checked (both calculators' options)."""
    if group_by is not None and group_by not in DIMENSIONS:
        raise ValidationError(f"cannot group by {group_by!r}; use one of {list(DIMENSIONS)}")
    instant = at or until
    if instant is None:
        raise ValidationError("give the report an instant: at=... or until=...")
    since_ = ensure_utc(since) if since else None
    until_ = ensure_utc(until) if until else None
    if since_ and until_ and since_ >= until_:
        raise ValidationError(
            f"since ({since_.isoformat()}) must be before until ({until_.isoformat()})"
        )
    targets = dict(sla_targets or {})
    for name, target in targets.items():
        if name not in SLA_TARGETS:
            raise ValidationError(f"unknown SLA target {name!r}; use {list(SLA_TARGETS)}")
        if target < timedelta(0):
            raise ValidationError(f"SLA target {name} is negative ({target})")
    return ensure_utc(instant), since_, until_, targets


def count_feedback(csat: list[int], nps: list[int], f: FeedbackRecord) -> None:
    """Count one answer in the per-score counters: CSAT 1-5, NPS 0-10."""
    csat[f.csat - 1] += 1
    if f.nps is not None:
        nps[f.nps] += 1


def sla_rates(met: Mapping[str, int], total: Mapping[str, int]) -> dict[str, Rate]:
    """Met out of judged, per SLA target that has any outcome (in the targets' order)."""
    return {t: Rate(met.get(t, 0), total[t]) for t in SLA_TARGETS if total.get(t, 0)}


class _Group:
    __slots__ = (
        "ageing",
        "at_tier",
        "backlog",
        "csat",
        "esc",
        "esc_tier",
        "fcr",
        "frt",
        "frt_b",
        "nps",
        "nrt",
        "nrt_b",
        "reopen",
        "reopen_den",
        "res",
        "res_b",
        "resolved",
        "sla_met",
        "sla_total",
        "tickets",
    )

    def __init__(self) -> None:
        self.tickets = self.resolved = self.fcr = self.reopen = self.reopen_den = self.esc = 0
        self.frt: list[float] = []
        self.res: list[float] = []
        self.nrt: list[float] = []
        self.frt_b: list[float] = []
        self.res_b: list[float] = []
        self.nrt_b: list[float] = []
        self.at_tier: Counter[str] = Counter()
        self.esc_tier: Counter[str] = Counter()
        self.csat = [0] * 5  # answers per score 1-5
        self.nps = [0] * 11  # answers per score 0-10
        self.sla_met: Counter[str] = Counter()
        self.sla_total: Counter[str] = Counter()
        self.backlog = 0
        self.ageing = [0] * len(AGEING_BUCKETS)

    def add_feedback(self, f: FeedbackRecord) -> None:
        count_feedback(self.csat, self.nps, f)

    def add_outcome(self, target: str, met: bool) -> None:
        self.sla_total[target] += 1
        self.sla_met[target] += met

    def result(self, key: str, business: bool) -> GroupMetrics:
        return GroupMetrics(
            key=key,
            tickets=self.tickets,
            resolved=self.resolved,
            first_response=DurationSummary.of(self.frt),
            resolution=DurationSummary.of(self.res),
            next_response=DurationSummary.of(self.nrt),
            first_response_business=DurationSummary.of(self.frt_b) if business else None,
            resolution_business=DurationSummary.of(self.res_b) if business else None,
            next_response_business=DurationSummary.of(self.nrt_b) if business else None,
            first_contact_resolution=Rate(self.fcr, self.resolved),
            reopen=Rate(self.reopen, self.reopen_den),
            escalation=Rate(self.esc, self.tickets),
            escalation_by_tier={
                t: Rate(self.esc_tier[t], self.at_tier[t]) for t in sorted(self.at_tier)
            },
            csat=CsatSummary.of_counts(self.csat),
            nps=NpsSummary.of_counts(self.nps),
            sla=sla_rates(self.sla_met, self.sla_total),
            backlog=self.backlog,
            ageing={label: n for (_, label), n in zip(AGEING_BUCKETS, self.ageing, strict=True)},
        )


class MetricsCalculator:
    """Consumes ticket facts one at a time and produces a :class:`MetricsReport`.

    - ``since``/``until``: the window; flow metrics cover tickets received in
      ``[since, until)``, feedback and given SLA outcomes by their ``at``.
    - ``at``: the instant of the backlog, ageing and agent load (default ``until``).
    - ``group_by``: one of :data:`DIMENSIONS`, or ``None`` for the total only.
    - ``calendar`` (and ``calendars`` per channel): with one, the business-time
      variants of the duration metrics are computed too, and derived SLA
      outcomes are measured in business time.
    - ``sla_targets``: ``{"first_response": timedelta, ...}``: derive SLA
      outcomes from the tickets' own timestamps (in addition to given ones).
    """

    def __init__(
        self,
        *,
        at: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        group_by: str | None = None,
        calendar: BusinessCalendar | None = None,
        calendars: Mapping[str, BusinessCalendar] | None = None,
        sla_targets: Mapping[str, timedelta] | None = None,
        feedback: Iterable[FeedbackRecord] = (),
        sla_outcomes: Iterable[SlaOutcome] = (),
        series_days: int | None = None,
    ) -> None:
        self.at, self.since, self.until, self.sla_targets = check_options(
            group_by, at, since, until, sla_targets
        )
        self.group_by = group_by
        self.calendar = calendar
        self.calendars = dict(calendars or {})
        self.business = calendar is not None or bool(self.calendars)
        self._groups: dict[str, _Group] = defaultdict(_Group)
        self._total = _Group()
        self._agent_load: Counter[str] = Counter()
        self._hist = [0] * len(RESPONSE_HISTOGRAM)
        self._series_start = self.since
        if self._series_start is None and series_days is not None:
            self._series_start = self.at - timedelta(days=series_days)
        self._first_received: datetime | None = None
        self._series: Counter[int] = Counter()
        self._pending_feedback: dict[str, list[FeedbackRecord]] = defaultdict(list)
        self._pending_outcomes: dict[str, list[SlaOutcome]] = defaultdict(list)
        for f in feedback:
            if self._in_window(f.at):
                self._pending_feedback[f.ticket_id].append(f)
                self._total.add_feedback(f)
        for o in sla_outcomes:
            if self._in_window(o.at):
                self._pending_outcomes[o.ticket_id].append(o)
                self._total.add_outcome(o.target, o.met)

    def _in_window(self, at: datetime) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)

    def _elapsed(self, channel: str) -> Callable[[datetime, datetime], float] | None:
        cal = self.calendars.get(channel, self.calendar)
        if cal is None:
            return None
        return lambda a, b: cal.business_time_between(a, b).total_seconds()

    def add(self, t: TicketFacts) -> None:
        """Account for one ticket."""
        self._add_series(t)
        feedback = self._pending_feedback.pop(t.id, ())
        outcomes_given = self._pending_outcomes.pop(t.id, ())
        is_open = t.is_open_at(self.at)
        in_window = self._in_window(t.received_at)
        if not (is_open or in_window or feedback or outcomes_given):
            return
        groups: tuple[_Group, ...] = (self._total,)
        if self.group_by:
            group = self._groups[group_key(t, self.group_by)]
            groups = (self._total, group)
            for f in feedback:
                group.add_feedback(f)
            for o in outcomes_given:
                group.add_outcome(o.target, o.met)
        if is_open:
            age_bucket = bucket_index(AGEING_BUCKETS, (self.at - t.received_at).total_seconds())
            for g in groups:
                g.backlog += 1
                g.ageing[age_bucket] += 1
            self._agent_load[t.assignee_id or UNASSIGNED] += 1
        if not in_window:
            return
        business = self._elapsed(t.channel) if self.business else None
        visited = t.escalated_from | {t.tier}
        frt = res = None
        if t.first_response_at is not None:
            frt = (t.first_response_at - t.received_at).total_seconds()
            self._hist[bucket_index(RESPONSE_HISTOGRAM, frt)] += 1
        if t.resolved_at is not None:
            res = (t.resolved_at - t.received_at).total_seconds()
        frt_b = res_b = None
        if business is not None:
            if t.first_response_at is not None:
                frt_b = business(t.received_at, t.first_response_at)
            if t.resolved_at is not None:
                res_b = business(t.received_at, t.resolved_at)
        nrt = [(b - a).total_seconds() for a, b in t.waits if b is not None]
        nrt_b = [business(a, b) for a, b in t.waits if b is not None] if business else []
        outcomes = (
            self._derive(t, business)
            if self.sla_targets and not t.excluded_from_sla(self.at)
            else ()
        )
        resolved = t.resolved_at is not None
        fcr = is_first_contact_resolution(resolved, t.reopen_count, t.responses)
        for g in groups:
            g.tickets += 1
            if frt is not None:
                g.frt.append(frt)
            if res is not None:
                g.res.append(res)
            g.nrt.extend(nrt)
            if frt_b is not None:
                g.frt_b.append(frt_b)
            if res_b is not None:
                g.res_b.append(res_b)
            g.nrt_b.extend(nrt_b)
            if resolved:
                g.resolved += 1
                g.fcr += fcr
            if resolved or t.reopen_count:
                g.reopen_den += 1
                g.reopen += t.reopen_count > 0
            g.esc += t.escalation_count > 0
            for tier in visited:
                g.at_tier[tier] += 1
            for tier in t.escalated_from:
                g.esc_tier[tier] += 1
            for target, met in outcomes:
                g.add_outcome(target, met)

    def _derive(
        self, t: TicketFacts, business: Callable[[datetime, datetime], float] | None
    ) -> list[tuple[str, bool]]:
        def elapsed(a: datetime, b: datetime) -> float:
            return business(a, b) if business else (b - a).total_seconds()

        out: list[tuple[str, bool]] = []

        def judge(target: str, start: datetime, end: datetime | None) -> None:
            limit = self.sla_targets[target].total_seconds()
            if end is not None and end <= self.at:
                out.append((target, elapsed(start, end) <= limit))
            elif elapsed(start, self.at) > limit:
                out.append((target, False))

        if "first_response" in self.sla_targets:
            judge("first_response", t.received_at, t.first_response_at)
        if "resolution" in self.sla_targets and (t.resolved_at or t.closed_at is None):
            judge("resolution", t.received_at, t.resolved_at)
        if "next_response" in self.sla_targets:
            for a, b in t.waits:
                judge("next_response", a, b)
        return out

    def _add_series(self, t: TicketFacts) -> None:
        if self._first_received is None or t.received_at < self._first_received:
            self._first_received = t.received_at
        at_us = _us(self.at)
        for when, delta in t.backlog_changes():
            back = at_us - _us(when)
            if back >= 0:
                self._series[min(back // _DAY_US, MAX_SERIES_DAYS)] += delta

    def report(self) -> MetricsReport:
        """The metrics of everything added so far."""
        total = self._total.result("all", self.business)
        groups = tuple(self._groups[k].result(k, self.business) for k in sorted(self._groups))
        return MetricsReport(
            at=self.at,
            since=self.since,
            until=self.until,
            group_by=self.group_by,
            total=total,
            groups=groups,
            agent_load=dict(sorted(self._agent_load.items(), key=lambda kv: (-kv[1], kv[0]))),
            backlog_series=series_points(
                self.at,
                series_length(self.at, self._series_start or self._first_received),
                self._series,
            ),
            first_response_histogram=tuple(
                (label, n) for (_, label), n in zip(RESPONSE_HISTOGRAM, self._hist, strict=True)
            ),
            business_time=self.business,
        )


def series_length(at: datetime, start: datetime | None) -> int:
    """How many daily points the backlog series has: from *start* (at most a year back) to *at*."""
    if start is None or start >= at:
        return 1
    return min(int((at - start) / timedelta(days=1)), MAX_SERIES_DAYS) + 1


def series_points(
    at: datetime, n: int, changes: Mapping[int, int]
) -> tuple[tuple[datetime, int], ...]:
    """The backlog at ``at - j days`` for j = n-1 .. 0, oldest first.

    *changes* maps "days back" J to the sum of the backlog changes whose instant
    lies J whole days before *at* (capped at a year): a change counts at every
    point at or after it, i.e. at the points j <= J.
    """
    running = sum(d for back, d in changes.items() if back >= n)
    out = []
    for j in range(n - 1, -1, -1):
        running += changes.get(j, 0)
        out.append((at - timedelta(days=j), running))
    return tuple(out)


def compute_metrics(tickets: Iterable[TicketFacts], **options: Any) -> MetricsReport:
    """Stream *tickets* through a :class:`MetricsCalculator` built with *options*."""
    calc = MetricsCalculator(**options)
    for t in tickets:
        calc.add(t)
    return calc.report()
