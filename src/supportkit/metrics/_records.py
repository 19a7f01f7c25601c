"""The inputs of the calculators: per-ticket facts, feedback answers and SLA outcomes.

:class:`TicketFacts` is everything the metrics need to know about one
ticket, read from stored facts (the ticket row, its messages, its
escalation events). :func:`iter_ticket_facts` reads them from any
:class:`~supportkit.ports.UnitOfWork`, one page of tickets at a time, so a
report over a backend without SQL push-down still streams.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

import attrs

from ..domain._definitions import (
    backlog_changes,
    excluded_from_sla_at,
    is_open_at,
    response_count,
    response_waits,
)
from ..domain._errors import ValidationError
from ..domain._events import TicketEscalated
from ..domain._model import HistoryEntry, Message, Priority, Ticket, ensure_utc
from ..policies._sla import ClockState, SlaClock
from ..ports._storage import FeedbackAnswerStore, TicketQuery, UnitOfWork

__all__ = [
    "DIMENSIONS",
    "FeedbackRecord",
    "SlaOutcome",
    "TicketFacts",
    "facts_of",
    "group_key",
    "iter_ticket_facts",
    "period_key",
    "sla_outcome_of",
    "sla_outcomes_from_clocks",
    "stored_feedback",
]

#: What a report can be grouped by.
DIMENSIONS = ("channel", "tier", "team", "agent", "priority", "kind", "day", "week", "month")
NO_TEAM = "(no team)"
UNASSIGNED = "(unassigned)"
NO_KIND = "(no kind)"
SLA_TARGETS = ("first_response", "next_response", "resolution")


def _check_csat(_: object, __: object, value: int) -> None:
    if not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(f"csat must be an integer from 1 to 5, got {value!r}")


def _check_nps(_: object, __: object, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or not 0 <= value <= 10):
        raise ValidationError(f"nps must be an integer from 0 to 10 or None, got {value!r}")


@attrs.frozen
class FeedbackRecord:
    """One customer's feedback on one ticket: CSAT 1-5, optional NPS 0-10, when it came."""

    ticket_id: str
    csat: int = attrs.field(validator=_check_csat)
    nps: int | None = attrs.field(validator=_check_nps)
    at: datetime = attrs.field(converter=ensure_utc)


def _check_target(_: object, __: object, value: str) -> None:
    if value not in SLA_TARGETS:
        raise ValidationError(f"unknown SLA target {value!r}; use one of {list(SLA_TARGETS)}")


@attrs.frozen
class SlaOutcome:
    """Whether one SLA target of one ticket was met, decided at ``at``."""

    ticket_id: str
    target: str = attrs.field(validator=_check_target)
    met: bool
    at: datetime = attrs.field(converter=ensure_utc)


@attrs.frozen
class TicketFacts:
    """What the metrics need of one ticket.

    ``responses`` counts the human public replies and ``waits`` are the
    next-response waits, ``(customer message at, next response at or None)``
    (:func:`supportkit.domain.response_waits`). ``escalated_from`` holds the
    tiers the ticket was escalated out of. ``backlog`` is when the ticket
    entered (+1) and left (-1) the backlog (:func:`supportkit.domain.backlog_changes`);
    ``excluded_at`` when it was closed as spam or duplicate, leaving the SLA figures.
    """

    id: str
    channel: str
    tier: str
    team_id: str | None
    assignee_id: str | None
    priority: int
    status: str
    received_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    escalation_count: int = 0
    responses: int = 0
    waits: tuple[tuple[datetime, datetime | None], ...] = ()
    escalated_from: frozenset[str] = frozenset()
    kind: str | None = None
    backlog: tuple[tuple[datetime, int], ...] = ()
    excluded_at: datetime | None = None
    category: str | None = None
    tags: frozenset[str] = frozenset()

    def backlog_changes(self) -> tuple[tuple[datetime, int], ...]:
        """``backlog``, or for facts built without history: received, then resolved or closed."""
        if self.backlog:
            return self.backlog
        ends = [t for t in (self.resolved_at, self.closed_at) if t is not None]
        return ((self.received_at, 1), *((min(ends), -1) for _ in ends[:1]))

    def is_open_at(self, at: datetime) -> bool:
        """Open at *at* (:func:`supportkit.domain.is_open_at`)."""
        return is_open_at(self.backlog_changes(), at)

    def excluded_from_sla(self, at: datetime) -> bool:
        """Closed as spam or duplicate at or before *at*: out of every SLA figure."""
        return self.excluded_at is not None and self.excluded_at <= at


def sla_outcome_of(
    ticket_id: str,
    kind: str,
    state: str,
    started_at: datetime | None,
    stopped_at: datetime | None,
    due_at: datetime | None,
) -> SlaOutcome | None:
    """The outcome of one SLA clock, or None while it is undecided (running or paused).

    A met clock is decided when it stopped; a breached one at its deadline.
    """
    if state == ClockState.MET.value:
        at = stopped_at or started_at
        return None if at is None else SlaOutcome(ticket_id, kind, True, at)
    if state == ClockState.BREACHED.value:
        at = due_at or stopped_at or started_at
        return None if at is None else SlaOutcome(ticket_id, kind, False, at)
    return None


def sla_outcomes_from_clocks(clocks: Iterable[SlaClock]) -> Iterator[SlaOutcome]:
    """The outcomes of stopped or breached SLA clocks (running and paused ones are undecided)."""
    for c in clocks:
        o = sla_outcome_of(
            c.ticket_id, c.kind.value, c.state.value, c.started_at, c.stopped_at, c.due_at
        )
        if o is not None:
            yield o


def facts_of(
    ticket: Ticket,
    messages: Sequence[Message],
    escalated_from: Iterable[str] = (),
    history: Sequence[HistoryEntry] = (),
) -> TicketFacts:
    """The facts of *ticket* given its messages and status history (oldest first) and the
    tiers it was escalated out of."""
    return TicketFacts(
        id=ticket.id,
        channel=ticket.channel,
        tier=ticket.tier,
        team_id=ticket.team_id,
        assignee_id=ticket.assignee_id,
        priority=int(ticket.priority),
        status=ticket.status,
        received_at=ticket.received_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        reopen_count=ticket.reopen_count,
        escalation_count=ticket.escalation_count,
        responses=response_count(messages),
        waits=response_waits(messages),
        escalated_from=frozenset(escalated_from),
        kind=ticket.kind,
        backlog=backlog_changes(ticket.received_at, history) if history else (),
        excluded_at=excluded_from_sla_at(history),
        category=ticket.category,
        tags=ticket.tags,
    )


def iter_ticket_facts(uow: UnitOfWork, *, page: int = 500) -> Iterator[TicketFacts]:
    """Every stored ticket's facts, oldest first, read one page of tickets at a time."""
    offset = 0
    while True:
        batch = uow.find_tickets(TicketQuery(limit=page, offset=offset, oldest_first=True))
        if not batch:
            return
        for t in batch:
            history = uow.history_for(t.id)
            # every escalation, a bot's hand-off to people too, leaves an "escalate" entry
            escalated = (
                [
                    se.event.from_tier
                    for se in uow.events_for(t.id)
                    if isinstance(se.event, TicketEscalated)
                ]
                if any(h.event == "escalate" for h in history)
                else []
            )
            yield facts_of(t, uow.messages_for(t.id), escalated, history)
        offset += len(batch)


def period_key(at: datetime, period: str) -> str:
    """The UTC period *at* falls in: ``2026-01-05`` (day), the Monday of its week, ``2026-01``."""
    d = ensure_utc(at).date()
    if period == "day":
        return d.isoformat()
    if period == "week":
        return (d - timedelta(days=d.weekday())).isoformat()
    if period == "month":
        return d.isoformat()[:7]
    raise ValidationError(f"unknown period {period!r}; use day, week or month")


def group_key(facts: TicketFacts, by: str | None) -> str:
    """The group *facts* belongs to when grouping by *by* (``None``: everything is "all")."""
    if by is None:
        return "all"
    if by == "channel":
        return facts.channel
    if by == "tier":
        return facts.tier
    if by == "team":
        return facts.team_id or NO_TEAM
    if by == "agent":
        return facts.assignee_id or UNASSIGNED
    if by == "priority":
        return priority_name(facts.priority)
    if by == "kind":
        return facts.kind or NO_KIND
    if by in ("day", "week", "month"):
        return period_key(facts.received_at, by)
    raise ValidationError(f"cannot group by {by!r}; use one of {list(DIMENSIONS)}")


def priority_name(value: int) -> str:
    try:
        return Priority(value).name.lower()
    except ValueError:
        return str(value)


def stored_feedback(uow: FeedbackAnswerStore) -> list[FeedbackRecord]:
    """The feedback answers a desk stored (``FeedbackCollector`` keeps them in the
    feedback answer port, one per ticket), read in keyset pages."""
    out: list[FeedbackRecord] = []
    after: str | None = None
    while True:
        page = uow.feedback_answers_after(after, 1000)
        out.extend(FeedbackRecord(a.ticket_id, a.csat, a.nps, a.at) for a in page)
        if len(page) < 1000:
            return out
        after = page[-1].ticket_id
