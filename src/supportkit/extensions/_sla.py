"""SLA clocks on a SupportDesk: ``SupportDesk(storage, extensions=[SlaExtension(policy)])``.

The extension keeps one :class:`~supportkit.policies.SlaClock` per ticket and
target kind through the storage's :class:`~supportkit.ports.SlaClockStore` (key
``"{ticket_id}:{kind}"``, the clock's :meth:`~SlaClock.to_row` as data), changed in the
transaction of the use case that moved it. While a clock runs and has a
warning or breach ahead, a desk :class:`~supportkit.ports.Timer` (kind
``"sla"``, key ``"sla:{ticket_id}:{kind}"``) is due at that instant; paused
and stopped clocks have none. ``desk.tick(now)`` therefore finds due
warnings and breaches by a range scan on the timers' due time and never
scans tickets.

What moves the clocks (in-transaction handlers):

========================================  ============================================
event                                     clocks
========================================  ============================================
``TicketReceived``                        start first response and resolution
a response (``MessageAdded`` outbound,    stop first response and next response
not automated)
a customer message (inbound, not          start next response, unless one is already
automated) after a first response         waiting for an answer
``StatusChanged`` into waiting            pause every running clock
``StatusChanged`` out of waiting          resume every paused clock
``StatusChanged`` into resolved           stop resolution
``StatusChanged`` out of resolved         reopen resolution (see the clock's reopen)
``StatusChanged`` into a final status     stop every clock; spam and duplicate
                                          closings leave the compliance figures
``TicketEscalated``, priority change      re-choose targets (below)
========================================  ============================================

**Re-choosing targets** (a ticket escalated to a tier, or given a priority,
that another rule covers): a running or paused clock whose winning rule now
promises a different target, calendar or warning ratio keeps the business
time it has consumed and counts the rest against the new target, in the new
calendar, from the change. A tighter target that is already used up breaches
at once. A kind the new rule does not cover keeps its old promise (a
promise made is not withdrawn by escalating); stopped and breached clocks
are never changed.

Bot and system messages (``MessageAdded.automated``) move no clock: what
counts as a response is :func:`supportkit.domain.is_response`, the same
definition the ticket's ``first_response_at`` and the metrics use.

Warnings and breaches are recorded on the ticket as
:class:`SlaWarningRecorded` (``"sla.warning"``) and :class:`SlaBreachRecorded`
(``"sla.breached"``): stored in the outbox with the change and published
after commit. A breach of a clock that is still open (running or paused) can
escalate the ticket (``escalate_on_breach``) unless the ticket is resolved; a
tier that cannot go higher, or a ticket already at or above the tier asked
for, is noted in the event, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from supportkit.domain._definitions import EXCLUDED_CLOSINGS, is_response
from supportkit.domain._errors import ConfigurationError, NotFound, SupportKitError
from supportkit.domain._events import (
    DomainEvent,
    MessageAdded,
    StatusChanged,
    TicketAssigned,
    TicketEscalated,
    TicketReceived,
    TicketUpdated,
    register_event,
)
from supportkit.domain._model import Ticket
from supportkit.ports._storage import SlaClockRecord, SlaClockStore, Timer

from ..policies import (
    CHANNEL_CALENDAR,
    ClockState,
    SlaClock,
    SlaKind,
    SlaPolicy,
    SlaTarget,
    SlaWarning,
)

if TYPE_CHECKING:
    from supportkit.metrics import SlaOutcome
    from supportkit.ports._storage import UnitOfWork
    from supportkit.typing import Desk, DeskContext

__all__ = [
    "NEXT_TIER",
    "SlaBreachRecorded",
    "SlaExtension",
    "SlaWarningRecorded",
    "clock_records",
    "stored_sla_outcomes",
]

log = logging.getLogger("supportkit")

TIMER_KIND = "sla"
#: ``escalate_on_breach`` value meaning "one tier above the ticket's tier".
NEXT_TIER = "next"

_ONE_US = timedelta(microseconds=1)
_RESPONSES = (SlaKind.FIRST_RESPONSE, SlaKind.NEXT_RESPONSE)

BreachEscalation = Mapping[SlaKind | str, str] | Callable[[Ticket, SlaClock], str | None] | None


@register_event("sla.warning")
@attrs.frozen
class SlaWarningRecorded(DomainEvent):
    """An SLA clock of the ticket used its warning share of the target at ``at``."""

    kind: str
    due_at: datetime | None
    target_seconds: int


@register_event("sla.breached")
@attrs.frozen
class SlaBreachRecorded(DomainEvent):
    """An SLA clock of the ticket passed its deadline; ``at`` is the deadline.

    ``escalated_to`` is the tier the breach escalated the ticket to, if any;
    ``note`` says why a configured escalation did not happen.
    """

    kind: str
    due_at: datetime | None
    target_seconds: int
    escalated_to: str | None = None
    note: str = ""


def _key(ticket_id: str, kind: SlaKind) -> str:
    return f"{ticket_id}:{kind.value}"


def _timer_key(ticket_id: str, kind: SlaKind) -> str:
    return f"sla:{ticket_id}:{kind.value}"


def _last_change(clock: SlaClock) -> datetime:
    return max(
        t
        for t in (clock.started_at, clock.running_since, clock.paused_since, clock.stopped_at)
        if t is not None
    )


def _same(clock: SlaClock, target: SlaTarget) -> bool:
    return (
        clock.target == target.target
        and clock.calendar_name == target.calendar_name
        and clock.warn_ratio == target.warn_ratio
    )


class SlaExtension:
    """SLA clocks, warnings, breaches and breach escalation for a SupportDesk.

    *policy* chooses the targets of each ticket from its priority, tier,
    channel and its customer's segment. *escalate_on_breach* maps a target
    kind to the tier a breach of it escalates to (a tier name or
    :data:`NEXT_TIER`), or is a callable ``(ticket, clock) -> tier | None``.
    *waiting_statuses* pause the clocks, *resolved_statuses* stop the
    resolution clock; closing with one of *excluded_closings* (spam,
    duplicates) stops the clocks and leaves them out of :meth:`outcomes`.

    The extension keeps no state of its own: everything is in the desk's
    storage, so several processes sharing a database agree, and
    :meth:`status` and :meth:`outcomes` work on any desk it is installed in.
    """

    def __init__(
        self,
        policy: SlaPolicy,
        *,
        escalate_on_breach: BreachEscalation = None,
        waiting_statuses: Iterable[str] = ("waiting_on_customer",),
        resolved_statuses: Iterable[str] = ("resolved",),
        excluded_closings: Iterable[str] = EXCLUDED_CLOSINGS,
        actor: str = "sla",
    ) -> None:
        if not isinstance(policy, SlaPolicy):
            raise ConfigurationError(f"SlaExtension needs an SlaPolicy, got {policy!r}")
        self.policy = policy
        self.escalate_on_breach: (
            Mapping[SlaKind, str] | Callable[[Ticket, SlaClock], str | None] | None
        )
        if escalate_on_breach is None or callable(escalate_on_breach):
            self.escalate_on_breach = escalate_on_breach
        else:
            try:
                self.escalate_on_breach = {
                    SlaKind(k): str(v) for k, v in escalate_on_breach.items()
                }
            except ValueError as exc:
                raise ConfigurationError(
                    f"escalate_on_breach {dict(escalate_on_breach)!r}: {exc}; keys are target "
                    f"kinds {[k.value for k in SlaKind]}"
                ) from None
        self.waiting_statuses = frozenset(waiting_statuses)
        self.resolved_statuses = frozenset(resolved_statuses)
        self.excluded_closings = frozenset(excluded_closings)
        self.actor = actor

    # -- wiring ---------------------------------------------------------------------
    def install(self, desk: Desk) -> None:
        if desk.channel_hours is not None:  # SlaRule(calendar=CHANNEL_CALENDAR) reads them
            self.policy = self.policy.with_calendars(desk.channel_hours.sla_calendars())
        elif any(rule.calendar == CHANNEL_CALENDAR for rule in self.policy.rules):
            raise ConfigurationError(
                "an SLA rule measures in the channel's hours (calendar=CHANNEL_CALENDAR) but the "
                "desk has none: pass SupportDesk(channel_hours=service_hours(...))"
            )
        if isinstance(self.escalate_on_breach, Mapping):
            for kind, tier in self.escalate_on_breach.items():
                if tier != NEXT_TIER and tier not in desk.tiers:
                    raise ConfigurationError(
                        f"escalate_on_breach sends {kind.value} breaches to tier {tier!r}, "
                        f"which the desk does not have (tiers: {list(desk.tiers)}); "
                        f"name one of them or {NEXT_TIER!r}"
                    )
        desk.on(TicketReceived, self._on_received)
        desk.on(MessageAdded, self._on_message)
        desk.on(StatusChanged, self._on_status)
        desk.on(TicketEscalated, self._on_retarget)
        desk.on(TicketUpdated, self._on_updated)
        desk.on(TicketAssigned, self._on_assigned)
        desk.on_timer(TIMER_KIND, self._on_timer)

    # -- reading --------------------------------------------------------------------
    def status(self, desk: Desk, ticket_id: str) -> dict[SlaKind, SlaClock]:
        """The SLA clocks of a ticket by kind (for a UI, status tracking or alerts).

        ``clock.state``, ``clock.due_at`` and ``clock.remaining_at(now)`` are
        what a UI shows; kinds without a clock are absent.
        """
        with desk.storage.unit_of_work() as uow:
            found = {kind: self._read(uow, ticket_id, kind) for kind in SlaKind}
        return {k: c for k, c in found.items() if c is not None}

    def clocks(
        self, desk: Desk, *, include_excluded: bool = False, page: int = 500
    ) -> Iterator[SlaClock]:
        """Every stored clock, including the finished next-response clocks of the past.

        Read lazily, *page* clocks per unit of work in key order, so a report
        over millions of tickets never holds them all in memory.
        ``clock.consumed`` of a stopped clock is the business time it took.
        """
        after: str | None = None
        while True:
            with desk.storage.unit_of_work() as uow:
                records, after = clock_records(uow, after, page, include_excluded=include_excluded)
            for record in records:
                yield SlaClock.from_row(record.data, self.policy)
            if after is None:
                return

    def outcomes(self, desk: Desk) -> list[SlaOutcome]:
        """Met or breached targets as :class:`supportkit.metrics.SlaOutcome` records.

        Running and paused clocks are undecided and left out; a clock that
        breached while still running counts as breached at its deadline.
        Pass them to ``compute_metrics(..., sla_outcomes=...)``; the same as
        :func:`stored_sla_outcomes` reads from the desk's storage.
        """
        with desk.storage.unit_of_work() as uow:
            return stored_sla_outcomes(uow)

    # -- handlers -------------------------------------------------------------------
    def _on_received(self, ctx: DeskContext, event: TicketReceived) -> None:
        ticket = ctx.ticket(event.ticket_id)
        targets = self._targets(ctx, ticket)
        start = min(ticket.received_at, event.at)
        for kind in (SlaKind.FIRST_RESPONSE, SlaKind.RESOLUTION):
            target = targets.get(kind)
            if target is None or self._load(ctx, ticket.id, kind) is not None:
                continue
            clock = SlaClock.start(ticket.id, target, start)
            if ticket.status in self.waiting_statuses:
                clock = clock.pause(event.at)
            self._settle(ctx, ticket, clock, event.at)

    def _on_message(self, ctx: DeskContext, event: MessageAdded) -> None:
        if event.automated:
            return  # a bot's or the system's message is no response and starts no wait
        if is_response(event.direction, event.automated):
            ticket = ctx.ticket(event.ticket_id)
            for kind in _RESPONSES:
                clock = self._load(ctx, ticket.id, kind)
                if clock is not None and not clock.is_stopped:
                    self._settle(ctx, ticket, clock.stop(_at(clock, event.at)), event.at)
        elif event.direction == "inbound":
            ticket = ctx.ticket(event.ticket_id)
            if ticket.first_response_at is None:
                return  # still waiting for the first response: that clock covers it
            if ctx.desk.lifecycle_of(ticket).is_final(ticket.status):
                return
            previous = self._load(ctx, ticket.id, SlaKind.NEXT_RESPONSE)
            if previous is not None and not previous.is_stopped:
                return  # an earlier message is still waiting for its answer
            target = self._targets(ctx, ticket).get(SlaKind.NEXT_RESPONSE)
            if target is None:
                return
            if previous is not None:
                self._archive(ctx, previous)
            clock = SlaClock.start(ticket.id, target, event.at)
            if ticket.status in self.waiting_statuses:
                clock = clock.pause(event.at)
            self._settle(ctx, ticket, clock, event.at)

    def _on_status(self, ctx: DeskContext, event: StatusChanged) -> None:
        ticket = ctx.ticket(event.ticket_id)
        at = event.at
        if ctx.desk.lifecycle_of(ticket).is_final(event.to_status):
            excluded = event.event in self.excluded_closings
            for clock in self._all(ctx, ticket.id):
                self._settle(ctx, ticket, clock.stop(_at(clock, at)), at, excluded=excluded)
            return
        into_waiting = event.to_status in self.waiting_statuses
        if into_waiting and event.from_status not in self.waiting_statuses:
            for clock in self._all(ctx, ticket.id):
                if clock.state is ClockState.RUNNING:
                    self._settle(ctx, ticket, clock.pause(_at(clock, at)), at)
            return
        if event.from_status in self.waiting_statuses and not into_waiting:
            for clock in self._all(ctx, ticket.id):
                if clock.state is ClockState.PAUSED and not clock.is_stopped:
                    self._settle(ctx, ticket, clock.resume(_at(clock, at)), at)
        resolution = self._load(ctx, ticket.id, SlaKind.RESOLUTION)
        if resolution is None:
            return
        if event.to_status in self.resolved_statuses and not resolution.is_stopped:
            self._settle(ctx, ticket, resolution.stop(_at(resolution, at)), at)
        elif (
            event.from_status in self.resolved_statuses
            and event.to_status not in self.resolved_statuses
            and resolution.is_stopped
        ):
            self._settle(ctx, ticket, resolution.reopen(_at(resolution, at)), at)

    def _on_updated(self, ctx: DeskContext, event: TicketUpdated) -> None:
        if "priority" in event.changes or "team_id" in event.changes:
            self._retarget(ctx, ctx.ticket(event.ticket_id), event.at)

    def _on_assigned(self, ctx: DeskContext, event: TicketAssigned) -> None:
        """A ticket that moves to another team may fall under that team's rule and calendar."""
        if event.team_id is not None:  # retargeting keeps clocks whose target is unchanged
            self._retarget(ctx, ctx.ticket(event.ticket_id), event.at)

    def _on_retarget(self, ctx: DeskContext, event: TicketEscalated) -> None:
        self._retarget(ctx, ctx.ticket(event.ticket_id), event.at)

    def _on_timer(self, ctx: DeskContext, timer: Timer) -> None:
        kind = SlaKind(timer.payload.get("kind") or timer.key.rsplit(":", 1)[-1])
        clock = self._load(ctx, timer.ticket_id, kind)
        if clock is None:
            return
        # the timer is due, so its instant has come even if the desk clock lags behind
        self._settle(ctx, ctx.ticket(timer.ticket_id), clock, max(ctx.now, timer.due_at))

    # -- the work -------------------------------------------------------------------
    def _retarget(self, ctx: DeskContext, ticket: Ticket, at: datetime) -> None:
        targets = self._targets(ctx, ticket)
        for clock in self._all(ctx, ticket.id):
            target = targets.get(clock.kind)
            if target is None or clock.is_stopped or _same(clock, target):
                continue
            when = _at(clock, at)
            if clock.state is ClockState.RUNNING:
                if clock.due_at is not None and when > clock.due_at:
                    continue  # breached already; the tick reports it
                paused = _retargeted(clock.pause(when), target)
                self._settle(ctx, ticket, paused.resume(when), at)
            elif clock.state is ClockState.PAUSED:
                self._settle(ctx, ticket, _retargeted(clock, target), at)

    def _settle(
        self,
        ctx: DeskContext,
        ticket: Ticket,
        clock: SlaClock,
        now: datetime,
        *,
        excluded: bool = False,
    ) -> None:
        """Report what became due by *now*, store the clock, keep its timer in step."""
        clock, found = clock.due_events(now)
        target_seconds = int(clock.target.total_seconds())
        escalate_to: str | None = None
        for event in found:
            if isinstance(event, SlaWarning):
                ticket.record(
                    SlaWarningRecorded(
                        ticket.id, event.at, clock.kind.value, event.due_at, target_seconds
                    )
                )
                continue
            escalate_to, note = self._breach_escalation(ctx, ticket, clock)
            ticket.record(
                SlaBreachRecorded(
                    ticket.id,
                    event.at,
                    clock.kind.value,
                    event.at,
                    target_seconds,
                    escalated_to=escalate_to,
                    note=note,
                )
            )
        self._save(ctx, clock, excluded=excluded)
        if escalate_to is not None:
            try:
                ctx.escalate(
                    ticket,
                    escalate_to,
                    actor=self.actor,
                    reason=f"SLA {clock.kind.value} target breached",
                    policy="sla-breach",
                )
            except SupportKitError:  # checked beforehand; never undo the sweep for it
                log.exception("SLA breach escalation of ticket %s failed", ticket.id)

    def _breach_escalation(
        self, ctx: DeskContext, ticket: Ticket, clock: SlaClock
    ) -> tuple[str | None, str]:
        rule = self.escalate_on_breach
        if rule is None:
            return None, ""
        wanted = rule(ticket, clock) if callable(rule) else rule.get(clock.kind)
        if wanted is None:
            return None, ""
        if clock.is_stopped:
            return None, "not escalated: the target was fulfilled late, nothing is pending"
        desk = ctx.desk
        if desk.lifecycle_of(ticket).is_final(ticket.status) or (
            ticket.status in self.resolved_statuses
        ):
            return None, f"not escalated: the ticket is {ticket.status}"
        tiers = desk.tiers
        here = tiers.index(ticket.tier) if ticket.tier in tiers else -1
        if wanted == NEXT_TIER:
            if here + 1 >= len(tiers):
                return None, f"not escalated: {ticket.tier} is the top tier"
            return tiers[here + 1], ""
        if wanted not in tiers:
            return None, f"not escalated: unknown tier {wanted!r} (tiers: {list(tiers)})"
        if tiers.index(wanted) <= here:
            return None, f"not escalated: the ticket is already at {ticket.tier}"
        return wanted, ""

    # -- storage --------------------------------------------------------------------
    def _targets(self, ctx: DeskContext, ticket: Ticket) -> dict[SlaKind, SlaTarget]:
        try:
            segment: str | None = ctx.uow.get_customer(ticket.customer_id).segment
        except NotFound:
            segment = None
        return self.policy.targets_for(
            priority=int(ticket.priority),
            tier=ticket.tier,
            channel=ticket.channel,
            segment=segment,
            team=ticket.team_id,
        )

    def _read(self, uow: UnitOfWork, ticket_id: str, kind: SlaKind) -> SlaClock | None:
        record = uow.get_sla_clock(_key(ticket_id, kind))
        return None if record is None else SlaClock.from_row(record.data, self.policy)

    def _load(self, ctx: DeskContext, ticket_id: str, kind: SlaKind) -> SlaClock | None:
        return self._read(ctx.uow, ticket_id, kind)

    def _all(self, ctx: DeskContext, ticket_id: str) -> Iterator[SlaClock]:
        found = {r.kind: r for r in ctx.uow.sla_clocks_for(ticket_id)}
        for kind in SlaKind:  # the kinds' own order, whatever the storage's
            record = found.get(kind.value)
            if record is not None:
                yield SlaClock.from_row(record.data, self.policy)

    def _save(self, ctx: DeskContext, clock: SlaClock, *, excluded: bool = False) -> None:
        ctx.uow.put_sla_clock(
            SlaClockRecord(
                _key(clock.ticket_id, clock.kind),
                clock.ticket_id,
                clock.kind.value,
                clock.to_row(),
                excluded=excluded,
            )
        )
        key = _timer_key(clock.ticket_id, clock.kind)
        due = _timer_due(clock)
        if due is None:
            ctx.uow.cancel_timer(key)
        else:
            payload = {"kind": clock.kind.value}
            ctx.uow.schedule_timer(Timer(key, due, TIMER_KIND, clock.ticket_id, payload))

    def _archive(self, ctx: DeskContext, clock: SlaClock) -> None:
        key = f"{_key(clock.ticket_id, clock.kind)}:{clock.started_at.isoformat()}"
        ctx.uow.put_sla_clock(
            SlaClockRecord(key, clock.ticket_id, clock.kind.value, clock.to_row(), archived=True)
        )


def clock_records(
    store: SlaClockStore, after: str | None, page: int = 500, *, include_excluded: bool = False
) -> tuple[list[SlaClockRecord], str | None]:
    """One page of stored clocks in key order, and the key to read on after (None: the end).

    Unless *include_excluded*, every clock of a ticket closed as spam or
    duplicate is left out: the closing marks the ticket's current clocks
    excluded, and its archived (earlier next-response) clocks go with them.
    """
    records = store.sla_clocks_after(after, page)
    nxt = records[-1].key if len(records) == page else None
    if include_excluded:
        return records, nxt
    excluded = {r.ticket_id for r in records if r.excluded}
    for r in records:
        if r.archived and r.ticket_id not in excluded:
            current = store.get_sla_clock(_key(r.ticket_id, SlaKind(r.kind)))
            if current is not None and current.excluded:
                excluded.add(r.ticket_id)
    return [r for r in records if r.ticket_id not in excluded], nxt


def stored_sla_outcomes(store: SlaClockStore, *, page: int = 500) -> list[SlaOutcome]:
    """The met and breached targets of the SLA clocks stored by :class:`SlaExtension`.

    Needs no policy: a report over a desk's database (``supportkit report``)
    uses the desk's own SLA judgement, the same outcomes
    :meth:`SlaExtension.outcomes` gives.
    """
    from supportkit.metrics import sla_outcome_of

    out: list[SlaOutcome] = []
    after: str | None = None
    while True:
        records, after = clock_records(store, after, page)
        for r in records:
            d = r.data
            outcome = sla_outcome_of(
                r.ticket_id,
                str(d["kind"]),
                str(d["state"]),
                _when(d.get("started_at")),
                _when(d.get("stopped_at")),
                _when(d.get("due_at")),
            )
            if outcome is not None:
                out.append(outcome)
        if after is None:
            return out


def _when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _at(clock: SlaClock, at: datetime) -> datetime:
    """*at*, or the clock's last change if a backdated instant would precede it."""
    return max(at, _last_change(clock))


def _timer_due(clock: SlaClock) -> datetime | None:
    """When the sweep must look at *clock* again: only while it runs.

    A breach happens strictly after the deadline (an answer at the deadline
    is in time), so the breach timer is due one microsecond after it.
    """
    if clock.state is not ClockState.RUNNING:
        return None
    if clock.warn_at is not None and not clock.warned:
        return clock.warn_at
    if clock.due_at is None:
        return None
    return clock.due_at + _ONE_US


def _retargeted(paused: SlaClock, target: SlaTarget) -> SlaClock:
    """A paused clock measuring against *target* (consumed time kept, warning recomputed)."""
    keep_warning = paused.warned or (paused.warn_at is not None)
    return attrs.evolve(
        paused,
        target=target.target,
        warn_ratio=target.warn_ratio,
        calendar_name=target.calendar_name,
        calendar=target.calendar,
        warn_at=paused.warn_at if keep_warning else None,
    )
