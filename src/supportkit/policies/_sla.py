"""SLA policies and clocks: which promise applies to a ticket, and when it is kept or broken.

An :class:`SlaPolicy` is a list of :class:`SlaRule`\\ s. Each rule matches a ticket
by priority, tier, channel, customer segment and team (``None`` matches anything) and
promises targets for first response, next response and resolution, measured
in calendar time (24/7) or in the business time of a named
:class:`~supportkit.policies.BusinessCalendar`.

**Most specific rule wins**, per target kind: among the rules that match the
ticket *and define that target*, the one that names the most criteria wins;
on a tie, the rule listed first wins. A general rule can give every ticket a
resolution target while a specific rule overrides only the first response
target of urgent chats.

An :class:`SlaClock` is one target running for one ticket. It is a frozen
value: every operation returns a new clock. Its fields are what a storage row
holds (ticket id, kind, due_at, warn_at, paused_since, consumed business
time, state), and :attr:`SlaClock.next_event_at` is the single time a sweep
indexes: ``WHERE next_event_at <= now``.

Semantics, all in the clock's calendar:

- **due**: the deadline; a running clock is breached once ``now > due_at``
  (an answer exactly at the deadline is in time). A stop at or before it is
  *met*.
- **warning**: ``warn_ratio`` (e.g. 0.8) of the target consumed; reported once,
  and always before the breach of the same clock.
- **pause/resume**: paused time (waiting on the customer) does not count; on
  resume the deadline moves later by exactly the business time spent paused.
  A paused clock never breaches. If the deadline had already passed when the
  clock was paused, the breach happened before the pause and is still
  reported.
- **stop**: met or breached; final.
- **reopen**: a stopped clock (typically resolution, when the customer writes
  after the ticket was resolved) runs again from the reopening instant with
  the business time it had consumed before: the time the ticket spent
  resolved counts as paused. A breached clock stays breached when reopened.
  First response clocks are not reopened (the first response happened).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.domain._model import ensure_utc

from ._calendar import BusinessCalendar, always_open
from ._channel_hours import CHANNEL_CALENDAR, channel_calendar_name

__all__ = [
    "ClockState",
    "SlaBreached",
    "SlaClock",
    "SlaEvent",
    "SlaKind",
    "SlaPolicy",
    "SlaRule",
    "SlaTarget",
    "SlaWarning",
    "sweep",
]

_CALENDAR_TIME = always_open("UTC")
_ONE_US = timedelta(microseconds=1)


class SlaKind(enum.StrEnum):
    """What a target promises."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class ClockState(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


def _check_target(value: timedelta | None, name: str) -> None:
    if value is None:
        return
    if not isinstance(value, timedelta):
        raise ConfigurationError(f"SLA target {name} must be a timedelta, got {value!r}")
    if value <= timedelta(0):
        raise ConfigurationError(
            f"SLA target {name} is {value}: a target must be a positive duration, "
            "e.g. timedelta(hours=8); leave it None for no target"
        )


def _check_ratio(value: float) -> None:
    if not 0 < value < 1:
        raise ConfigurationError(
            f"warn_ratio {value!r} must be between 0 and 1 (exclusive), e.g. 0.8 for a warning "
            "at 80% of the target"
        )


@attrs.frozen
class SlaRule:
    """Targets promised to the tickets this rule matches (``None`` criteria match any).

    ``calendar`` names a calendar of the policy (business time); ``None``
    measures in calendar time (24/7, elapsed); :data:`CHANNEL_CALENDAR`
    measures in the hours of the ticket's channel (the desk's ``channel_hours``).
    """

    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None
    priority: int | None = None
    tier: str | None = None
    channel: str | None = None
    segment: str | None = None
    team: str | None = None
    calendar: str | None = None
    warn_ratio: float = 0.8

    def __attrs_post_init__(self) -> None:
        for kind in SlaKind:
            _check_target(getattr(self, kind.value), kind.value)
        if self.first_response is None and self.next_response is None and self.resolution is None:
            raise ConfigurationError(
                f"SLA rule {self.criteria()} sets no target: give first_response, "
                "next_response or resolution"
            )
        _check_ratio(self.warn_ratio)

    def criteria(self) -> dict[str, object]:
        """The criteria this rule names (its specificity is their number)."""
        names = ("priority", "tier", "channel", "segment", "team")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def matches(
        self,
        *,
        priority: int | None,
        tier: str | None,
        channel: str | None,
        segment: str | None,
        team: str | None = None,
    ) -> bool:
        return (
            (self.priority is None or self.priority == priority)
            and (self.tier is None or self.tier == tier)
            and (self.channel is None or self.channel == channel)
            and (self.segment is None or self.segment == segment)
            and (self.team is None or self.team == team)
        )


@attrs.frozen
class SlaTarget:
    """One resolved promise: kind, duration, the calendar it is measured in, warning ratio."""

    kind: SlaKind
    target: timedelta
    calendar: BusinessCalendar = attrs.field(repr=False, eq=False)
    calendar_name: str | None = None
    warn_ratio: float = 0.8

    def __attrs_post_init__(self) -> None:
        _check_target(self.target, self.kind.value)
        _check_ratio(self.warn_ratio)


def _rules(value: Iterable[SlaRule]) -> tuple[SlaRule, ...]:
    return tuple(value)


def _calendars(value: Mapping[str, BusinessCalendar]) -> dict[str, BusinessCalendar]:
    return dict(value)


@attrs.frozen
class SlaPolicy:
    """Rules plus the named calendars they measure business time in.

    >>> from datetime import timedelta
    >>> from supportkit.policies import SlaPolicy, SlaRule, office_hours
    >>> policy = SlaPolicy(
    ...     [SlaRule(first_response=timedelta(hours=8), calendar="office"),
    ...      SlaRule(first_response=timedelta(hours=1), priority=4)],
    ...     calendars={"office": office_hours("Europe/Berlin")},
    ... )
    >>> policy.target_for("first_response", priority=4).target
    datetime.timedelta(seconds=3600)
    """

    rules: tuple[SlaRule, ...] = attrs.field(converter=_rules)
    calendars: Mapping[str, BusinessCalendar] = attrs.field(
        factory=dict, converter=_calendars, hash=False
    )

    def __attrs_post_init__(self) -> None:
        for rule in self.rules:
            if not isinstance(rule, SlaRule):
                raise ConfigurationError(f"SlaPolicy rules must be SlaRule values, got {rule!r}")
            if (
                rule.calendar not in (None, CHANNEL_CALENDAR)
                and rule.calendar not in self.calendars
            ):
                known = ", ".join(sorted(self.calendars)) or "none"
                raise ConfigurationError(
                    f"SLA rule {rule.criteria()} uses calendar {rule.calendar!r}, which the "
                    f"policy does not define (known: {known}); add it to calendars="
                )

    def calendar(self, name: str | None) -> BusinessCalendar:
        """The calendar called *name*; ``None`` is calendar time (24/7 UTC)."""
        if name is None:
            return _CALENDAR_TIME
        try:
            return self.calendars[name]
        except KeyError:
            raise ConfigurationError(
                f"no calendar {name!r} in this SLA policy; known: {', '.join(sorted(self.calendars))}"
            ) from None

    def target_for(
        self,
        kind: SlaKind | str,
        *,
        priority: int | None = None,
        tier: str | None = None,
        channel: str | None = None,
        segment: str | None = None,
        team: str | None = None,
    ) -> SlaTarget | None:
        """The promise of *kind* for a ticket with these attributes, or None if none applies."""
        kind = SlaKind(kind)
        best: SlaRule | None = None
        best_score = -1
        for rule in self.rules:
            if getattr(rule, kind.value) is None:
                continue
            if not rule.matches(
                priority=priority, tier=tier, channel=channel, segment=segment, team=team
            ):
                continue
            score = len(rule.criteria())
            if score > best_score:
                best, best_score = rule, score
        if best is None:
            return None
        target: timedelta = getattr(best, kind.value)
        name = best.calendar
        if name == CHANNEL_CALENDAR:  # the ticket's channel's hours; none: open around the clock
            name = channel_calendar_name(channel) if channel else None
            if name not in self.calendars:
                name = None
        return SlaTarget(kind, target, self.calendar(name), name, best.warn_ratio)

    def with_calendars(self, calendars: Mapping[str, BusinessCalendar]) -> SlaPolicy:
        """The same rules with more named calendars (a desk adds its channels' hours)."""
        return SlaPolicy(self.rules, {**self.calendars, **calendars})

    def targets_for(
        self,
        *,
        priority: int | None = None,
        tier: str | None = None,
        channel: str | None = None,
        segment: str | None = None,
        team: str | None = None,
    ) -> dict[SlaKind, SlaTarget]:
        """Every promise that applies to a ticket with these attributes, by kind."""
        found = {
            kind: self.target_for(
                kind, priority=priority, tier=tier, channel=channel, segment=segment, team=team
            )
            for kind in SlaKind
        }
        return {k: v for k, v in found.items() if v is not None}


@attrs.frozen
class SlaWarning:
    """A clock consumed its warning share (e.g. 80%) of the target at ``at``."""

    ticket_id: str
    kind: SlaKind
    at: datetime
    due_at: datetime | None


@attrs.frozen
class SlaBreached:
    """A clock passed its deadline while running; ``at`` is the deadline."""

    ticket_id: str
    kind: SlaKind
    at: datetime


SlaEvent = SlaWarning | SlaBreached


def _micro(delta: timedelta) -> timedelta:
    return timedelta(microseconds=delta // timedelta(microseconds=1))


@attrs.frozen
class SlaClock:
    """One SLA target running for one ticket; a storable, immutable value.

    Start one with :meth:`start`; move it with :meth:`pause`, :meth:`resume`,
    :meth:`stop`, :meth:`reopen`; collect warnings and breaches with
    :meth:`due_events`. Operations that do not apply to the current state
    (pausing a paused clock, stopping a stopped one) return the clock
    unchanged, so a retried use case is harmless. Time never goes backwards:
    an instant before the clock's last change raises ``ValidationError``.
    """

    ticket_id: str
    kind: SlaKind
    target: timedelta
    started_at: datetime
    state: ClockState
    consumed: timedelta
    """Business time consumed before ``running_since`` (all of it when not running)."""
    running_since: datetime | None
    due_at: datetime | None
    """The deadline while running; the breached deadline once breached."""
    warn_at: datetime | None
    """When the warning is (or was) due, while it is not reported yet."""
    paused_since: datetime | None = None
    stopped_at: datetime | None = None
    warned: bool = False
    breach_reported: bool = False
    warn_ratio: float = 0.8
    calendar_name: str | None = None
    calendar: BusinessCalendar = attrs.field(default=_CALENDAR_TIME, repr=False, eq=False)

    @classmethod
    def start(cls, ticket_id: str, target: SlaTarget, at: datetime) -> SlaClock:
        """A clock for *target* that starts running at *at*."""
        at = ensure_utc(at)
        clock = cls(
            ticket_id=ticket_id,
            kind=target.kind,
            target=_micro(target.target),
            started_at=at,
            state=ClockState.RUNNING,
            consumed=timedelta(0),
            running_since=None,
            due_at=None,
            warn_at=None,
            warn_ratio=target.warn_ratio,
            calendar_name=target.calendar_name,
            calendar=target.calendar,
        )
        return clock._run_from(at)

    # -- derived ----------------------------------------------------------------------

    @property
    def warn_threshold(self) -> timedelta:
        """Business time after which the warning is due."""
        return _micro(self.target * self.warn_ratio)

    @property
    def next_event_at(self) -> datetime | None:
        """When :meth:`due_events` will next have something to report (the index column)."""
        if self.warn_at is not None and not self.warned:
            return self.warn_at
        if self.state is ClockState.RUNNING:
            return self.due_at
        if self.state is ClockState.BREACHED and not self.breach_reported:
            return self.due_at
        return None

    @property
    def is_stopped(self) -> bool:
        return self.stopped_at is not None

    def consumed_at(self, at: datetime) -> timedelta:
        """Business time counted by this clock up to *at*."""
        at = ensure_utc(at)
        if self.state is ClockState.RUNNING and self.running_since is not None:
            return self.consumed + self.calendar.business_time_between(self.running_since, at)
        return self.consumed

    def remaining_at(self, at: datetime) -> timedelta:
        """Business time left before the deadline (negative once over the target)."""
        return self.target - self.consumed_at(at)

    # -- operations -------------------------------------------------------------------

    def pause(self, at: datetime) -> SlaClock:
        """Stop counting (waiting on the customer) from *at*."""
        at = self._checked(at)
        if self.state is not ClockState.RUNNING:
            return self
        consumed = self.consumed_at(at)
        if self.due_at is not None and at > self.due_at:
            return attrs.evolve(
                self,
                state=ClockState.BREACHED,
                consumed=consumed,
                running_since=None,
                paused_since=at,
            )
        return attrs.evolve(
            self,
            state=ClockState.PAUSED,
            consumed=consumed,
            running_since=None,
            paused_since=at,
            due_at=None,
            warn_at=self.warn_at if self.warn_at is not None and self.warn_at <= at else None,
        )

    def resume(self, at: datetime) -> SlaClock:
        """Count again from *at*; the deadline moves later by the business time paused."""
        at = self._checked(at)
        if self.state is not ClockState.PAUSED:
            return self
        return attrs.evolve(self, paused_since=None)._run_from(at)

    def stop(self, at: datetime) -> SlaClock:
        """The promise is fulfilled (answered, resolved) at *at*: met or breached, final."""
        at = self._checked(at)
        if self.stopped_at is not None:
            return self
        if self.state is ClockState.RUNNING:
            breached = self.due_at is not None and at > self.due_at
            return attrs.evolve(
                self,
                state=ClockState.BREACHED if breached else ClockState.MET,
                consumed=self.consumed_at(at),
                running_since=None,
                stopped_at=at,
                due_at=self.due_at if breached else None,
                warn_at=self.warn_at if self.warn_at is not None and self.warn_at <= at else None,
            )
        state = ClockState.MET if self.state is ClockState.PAUSED else self.state
        return attrs.evolve(self, state=state, stopped_at=at, paused_since=None)

    def reopen(self, at: datetime) -> SlaClock:
        """Run a stopped clock again from *at*; the stopped time counts as paused."""
        at = self._checked(at)
        if self.stopped_at is None:
            return self
        if self.state is ClockState.BREACHED:
            return attrs.evolve(self, stopped_at=None)
        return attrs.evolve(self, stopped_at=None, state=ClockState.RUNNING)._run_from(at)

    def due_events(self, now: datetime) -> tuple[SlaClock, list[SlaEvent]]:
        """Warnings and breaches that happened by *now* and were not reported yet.

        Returns the clock with them marked reported, and the events in time
        order (a warning always before the breach of the same clock).
        """
        now = ensure_utc(now)
        clock, events = self, list[SlaEvent]()
        if clock.warn_at is not None and not clock.warned and clock.warn_at <= now:
            events.append(SlaWarning(clock.ticket_id, clock.kind, clock.warn_at, clock.due_at))
            clock = attrs.evolve(clock, warned=True, warn_at=None)
        if clock.state is ClockState.RUNNING and clock.due_at is not None and now > clock.due_at:
            clock = attrs.evolve(clock, state=ClockState.BREACHED)
        due = clock.due_at
        if (
            clock.state is ClockState.BREACHED
            and not clock.breach_reported
            and due is not None
            and now > due
        ):
            if not clock.warned:  # unreachable by construction; keeps the order promise
                events.append(SlaWarning(clock.ticket_id, clock.kind, due, due))
                clock = attrs.evolve(clock, warned=True, warn_at=None)
            events.append(SlaBreached(clock.ticket_id, clock.kind, due))
            clock = attrs.evolve(clock, breach_reported=True)
        return clock, events

    # -- storage ----------------------------------------------------------------------

    def to_row(self) -> dict[str, Any]:
        """A JSON-ready row: ISO-8601 UTC instants, durations in whole microseconds.

        ``next_event_at`` is included for the sweep's index; the calendar is
        stored by name (``calendar_name``) and restored by :meth:`from_row`.
        """

        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "ticket_id": self.ticket_id,
            "kind": self.kind.value,
            "state": self.state.value,
            "target_us": self.target // _ONE_US,
            "consumed_us": self.consumed // _ONE_US,
            "started_at": iso(self.started_at),
            "running_since": iso(self.running_since),
            "due_at": iso(self.due_at),
            "warn_at": iso(self.warn_at),
            "paused_since": iso(self.paused_since),
            "stopped_at": iso(self.stopped_at),
            "warned": self.warned,
            "breach_reported": self.breach_reported,
            "warn_ratio": self.warn_ratio,
            "calendar_name": self.calendar_name,
            "next_event_at": iso(self.next_event_at),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any], policy: SlaPolicy) -> SlaClock:
        """Rebuild a clock stored with :meth:`to_row`; *policy* supplies its calendar."""

        def when(key: str) -> datetime | None:
            value = row.get(key)
            return None if value is None else ensure_utc(datetime.fromisoformat(value))

        try:
            started = when("started_at")
            if started is None:
                raise KeyError("started_at")
            return cls(
                ticket_id=str(row["ticket_id"]),
                kind=SlaKind(row["kind"]),
                target=timedelta(microseconds=int(row["target_us"])),
                started_at=started,
                state=ClockState(row["state"]),
                consumed=timedelta(microseconds=int(row["consumed_us"])),
                running_since=when("running_since"),
                due_at=when("due_at"),
                warn_at=when("warn_at"),
                paused_since=when("paused_since"),
                stopped_at=when("stopped_at"),
                warned=bool(row.get("warned", False)),
                breach_reported=bool(row.get("breach_reported", False)),
                warn_ratio=float(row.get("warn_ratio", 0.8)),
                calendar_name=row.get("calendar_name"),
                calendar=policy.calendar(row.get("calendar_name")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(
                f"cannot read a stored SLA clock from {dict(row)!r}: {exc!r}"
            ) from exc

    # -- internals --------------------------------------------------------------------

    def _run_from(self, at: datetime) -> SlaClock:
        left = self.target - self.consumed
        due = self.calendar.add_business_time(at, max(left, timedelta(0)))
        warn_at = self.warn_at
        if not self.warned and warn_at is None:
            warn_left = max(self.warn_threshold - self.consumed, timedelta(0))
            warn_at = self.calendar.add_business_time(at, warn_left)
        return attrs.evolve(
            self, state=ClockState.RUNNING, running_since=at, due_at=due, warn_at=warn_at
        )

    def _checked(self, at: datetime) -> datetime:
        at = ensure_utc(at)
        last = max(
            t
            for t in (self.started_at, self.running_since, self.paused_since, self.stopped_at)
            if t is not None
        )
        if at < last:
            raise ValidationError(
                f"SLA clock {self.kind.value} of ticket {self.ticket_id}: {at.isoformat()} is "
                f"before its last change at {last.isoformat()}; apply changes in time order"
            )
        return at


def sweep(clocks: Iterable[SlaClock], now: datetime) -> tuple[list[SlaClock], list[SlaEvent]]:
    """Run :meth:`SlaClock.due_events` over clocks (those with ``next_event_at <= now``).

    Returns the clocks that changed and all events, in time order.
    """
    changed: list[SlaClock] = []
    events: list[SlaEvent] = []
    for clock in clocks:
        new, found = clock.due_events(now)
        if found:
            changed.append(new)
            events.extend(found)
    events.sort(key=lambda e: (e.at, isinstance(e, SlaBreached)))
    return changed, events
