"""A straightforward recomputation of the metrics, written independently of the calculator.

It reads every ticket through the desk's public API, keeps everything in
lists, and uses ``statistics`` for means and percentiles.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from supportkit import Direction, Message, SupportDesk, Ticket, TicketEscalated
from supportkit.metrics import FeedbackRecord

AGEING = [(4 * 3600, "<4h"), (86400, "4h-1d"), (3 * 86400, "1-3d"), (7 * 86400, "3-7d")]


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "mean": None, "median": None, "p90": None, "p95": None}
    if len(values) == 1:
        q = [values[0]] * 99
    else:
        q = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "count": len(values),
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
        "p90": q[89],
        "p95": q[94],
    }


def rate(num: int, den: int) -> dict[str, Any]:
    return {"numerator": num, "denominator": den, "pct": None if den == 0 else 100 * num / den}


def by_a_machine(m: Message) -> bool:
    """Written independently of supportkit's definition: a bot's answer or an auto-reply."""
    auto = m.meta.get("auto_submitted")
    return bool(m.meta.get("bot")) or (auto is not None and str(auto).lower() not in ("", "no"))


def status_at(desk: SupportDesk, t: Ticket, at: datetime) -> str | None:
    """The ticket's status after its last change at or before *at* (None: not received yet)."""
    if t.received_at > at:
        return None
    status = "received"
    for h in desk.history(t.id):
        if h.at <= at:
            status = h.to_status
    return status


def key_of(t: Ticket, by: str | None) -> str:
    if by is None:
        return "all"
    d = t.received_at.date()
    return {
        "channel": t.channel,
        "tier": t.tier,
        "team": t.team_id or "(no team)",
        "agent": t.assignee_id or "(unassigned)",
        "priority": t.priority.name.lower(),
        "kind": t.kind or "(no kind)",
        "day": d.isoformat(),
        "week": (d - timedelta(days=d.weekday())).isoformat(),
        "month": d.strftime("%Y-%m"),
    }[by]


def recompute(
    desk: SupportDesk,
    *,
    at: datetime,
    since: datetime | None,
    until: datetime | None,
    group_by: str | None,
    feedback: Iterable[FeedbackRecord] = (),
    sla_targets: Mapping[str, timedelta] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per group key (and "all"): the metrics as plain values."""
    tickets = desk.find_tickets(limit=10**6)
    by_id = {t.id: t for t in tickets}
    targets = dict(sla_targets or {})

    def inside(when: datetime) -> bool:
        return (since is None or when >= since) and (until is None or when < until)

    groups: dict[str, list[Ticket]] = defaultdict(list)
    groups["all"] = []
    for t in tickets:
        groups["all"].append(t)
        if group_by:
            groups[key_of(t, group_by)].append(t)
    out: dict[str, dict[str, Any]] = {}
    for key, members in groups.items():
        cohort = [t for t in members if inside(t.received_at)]
        frt: list[float] = []
        res: list[float] = []
        nrt: list[float] = []
        fcr = reopened = reopen_den = escalated = 0
        at_tier: Counter[str] = Counter()
        esc_tier: Counter[str] = Counter()
        sla: dict[str, list[bool]] = defaultdict(list)
        for t in cohort:
            msgs = [
                m
                for m in desk.messages(t.id)
                if m.direction is not Direction.NOTE and not by_a_machine(m)
            ]
            spam_or_duplicate = any(
                h.event in ("close_as_spam", "close_as_duplicate") and h.at <= at
                for h in desk.history(t.id)
            )
            if t.first_response_at:
                frt.append((t.first_response_at - t.received_at).total_seconds())
            if t.resolved_at:
                res.append((t.resolved_at - t.received_at).total_seconds())
                outbound = sum(1 for m in msgs if m.direction is Direction.OUTBOUND)
                fcr += outbound == 1 and t.reopen_count == 0
            if t.resolved_at or t.reopen_count:
                reopen_den += 1
                reopened += t.reopen_count > 0
            escalated += t.escalation_count > 0
            tiers_from = {e.from_tier for e in desk.events(t.id) if isinstance(e, TicketEscalated)}
            for tier in tiers_from | {t.tier}:
                at_tier[tier] += 1
            for tier in tiers_from:
                esc_tier[tier] += 1
            waits = []
            for i, m in enumerate(msgs):
                if (
                    m.direction is Direction.INBOUND
                    and i > 0
                    and msgs[i - 1].direction is Direction.OUTBOUND
                ):
                    answer = next(
                        (x for x in msgs[i + 1 :] if x.direction is Direction.OUTBOUND), None
                    )
                    waits.append((m.created_at, answer.created_at if answer else None))
            nrt.extend((b - a).total_seconds() for a, b in waits if b is not None)

            def judge(
                name: str,
                start: datetime,
                end: datetime | None,
                sla: Any = sla,
                excluded: bool = spam_or_duplicate,
            ) -> None:
                if name not in targets or excluded:
                    return
                if end is not None and end <= at:
                    sla[name].append(end - start <= targets[name])
                elif at - start > targets[name]:
                    sla[name].append(False)

            judge("first_response", t.received_at, t.first_response_at)
            if t.resolved_at or t.closed_at is None:
                judge("resolution", t.received_at, t.resolved_at)
            for a, b in waits:
                judge("next_response", a, b)
        fb = [f for f in feedback if inside(f.at) and f.ticket_id in by_id]
        if key == "all":
            fb = [f for f in feedback if inside(f.at)]
        else:
            fb = [f for f in fb if key_of(by_id[f.ticket_id], group_by) == key]
        nps = [f.nps for f in fb if f.nps is not None]
        open_now = [
            t for t in members if status_at(desk, t, at) not in (None, "resolved", "closed")
        ]
        ageing = {label: 0 for _, label in AGEING} | {">7d": 0}
        for t in open_now:
            age = (at - t.received_at).total_seconds()
            label = next((lab for upper, lab in AGEING if age < upper), ">7d")
            ageing[label] += 1
        out[key] = {
            "tickets": len(cohort),
            "resolved": len(res),
            "first_response": summary(frt),
            "resolution": summary(res),
            "next_response": summary(nrt),
            "first_contact_resolution": rate(fcr, len(res)),
            "reopen": rate(reopened, reopen_den),
            "escalation": rate(escalated, len(cohort)),
            "escalation_by_tier": {k: rate(esc_tier[k], at_tier[k]) for k in sorted(at_tier)},
            "csat": {
                "responses": len(fb),
                "satisfied": sum(f.csat >= 4 for f in fb),
                "pct": 100 * sum(f.csat >= 4 for f in fb) / len(fb) if fb else None,
                "mean": statistics.fmean(f.csat for f in fb) if fb else None,
                "by_score": [sum(f.csat == k for f in fb) for k in range(1, 6)],
            },
            "nps": {
                "responses": len(nps),
                "promoters": sum(n >= 9 for n in nps),
                "passives": sum(7 <= n <= 8 for n in nps),
                "detractors": sum(n <= 6 for n in nps),
                "score": 100 * (sum(n >= 9 for n in nps) - sum(n <= 6 for n in nps)) / len(nps)
                if nps
                else None,
                "by_score": [sum(n == k for n in nps) for k in range(11)],
            },
            "sla": {k: rate(sum(v), len(v)) for k, v in sla.items() if v},
            "backlog": len(open_now),
            "ageing": ageing,
        }
        if key == "all":
            load: Counter[str] = Counter(t.assignee_id or "(unassigned)" for t in open_now)
            out[key]["agent_load"] = dict(load)
    return out


def assert_close(actual: Any, expected: Any, path: str = "") -> None:
    """Equal, with floats compared to 1e-9 relative (sums are added in different orders)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert set(actual) == set(expected), f"{path}: {sorted(actual)} != {sorted(expected)}"
        for k in expected:
            assert_close(actual[k], expected[k], f"{path}.{k}")
    elif isinstance(expected, float) and isinstance(actual, (int, float)):
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-6), (
            f"{path}: {actual} != {expected}"
        )
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
