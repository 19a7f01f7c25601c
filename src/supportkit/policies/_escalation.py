"""Escalation policies: when a ticket climbs (or returns down) the tier ladder.

Each policy looks at a ticket and an :class:`EscalationContext` and returns an
:class:`EscalationDecision` (from-tier, to-tier, reason, policy name) or
None. :class:`EscalationChain` evaluates policies in order; the first
decision wins. A host writes its own policy as any object with a ``name``
and an ``evaluate`` method (:class:`EscalationPolicy`).

Automatic policies stay silent at the top tier (there is nowhere to climb);
an explicit request to escalate from the top raises
:class:`~supportkit.policies.EscalationRefused`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.domain._model import Priority, Ticket, ensure_utc

from .._fields import str_set
from ._tiers import TierLadder

__all__ = [
    "BOT_TIER",
    "DEFAULT_HUMAN_PHRASES",
    "DeEscalation",
    "DiagnosisEscalation",
    "EscalationChain",
    "EscalationContext",
    "EscalationDecision",
    "EscalationPolicy",
    "EscalationRule",
    "FixedTargets",
    "HandOffToHuman",
    "ManualEscalation",
    "ManualRequest",
    "RepetitionEscalation",
    "RuleEscalation",
    "TierTargets",
    "TimeEscalation",
]

BOT_TIER = "bot"
"""The from-tier of a hand-off when the ladder has no tier of its own for the bot."""

DEFAULT_HUMAN_PHRASES: frozenset[str] = frozenset(
    {
        "human",
        "real person",
        "operator",
        "agent please",
        "talk to someone",
        "speak to someone",
        "оператор",
        "человек",
        "живой",
        "специалист",
    }
)


@attrs.frozen
class ManualRequest:
    """An agent's explicit request: escalate (or, with ``down``, de-escalate).

    ``to_tier`` None means one step; a reason is required.
    """

    reason: str
    to_tier: str | None = None
    down: bool = False
    actor: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.reason.strip():
            raise ValidationError(
                "a manual escalation needs a reason (e.g. 'needs database access'); it is "
                "recorded in the ticket's history"
            )


@attrs.frozen
class EscalationContext:
    """What policies may look at besides the ticket.

    ``tier_since``: when the ticket entered its current tier (None: since it
    was registered). ``text``: the latest customer message (keywords,
    hand-off phrases). ``bot_failed``: the first-line bot could not answer.
    """

    now: datetime = attrs.field(converter=ensure_utc)
    ladder: TierLadder = attrs.Factory(TierLadder)
    segment: str | None = None
    text: str = ""
    tier_since: datetime | None = None
    manual: ManualRequest | None = None
    bot_failed: bool = False


@attrs.frozen
class EscalationDecision:
    """A move on the ladder: record it in the history and route again."""

    ticket_id: str
    from_tier: str
    to_tier: str
    reason: str
    policy: str
    actor: str = ""
    direction: str = "up"
    """``"up"`` (escalation, hand-off) or ``"down"`` (de-escalation)."""


@runtime_checkable
class EscalationPolicy(Protocol):
    """Decides whether a ticket moves on the ladder now."""

    @property
    def name(self) -> str: ...

    def evaluate(self, ticket: Ticket, context: EscalationContext) -> EscalationDecision | None: ...


def _up(
    ticket: Ticket, to_tier: str, reason: str, policy: str, ctx: EscalationContext
) -> EscalationDecision | None:
    """A decision to *to_tier* if it is above the ticket's tier, else None."""
    ladder = ctx.ladder
    ladder.check(to_tier, "escalation target tier")
    if ladder.compare(to_tier, ticket.tier) <= 0:
        return None
    return EscalationDecision(ticket.id, ticket.tier, to_tier, reason, policy)


@attrs.frozen
class ManualEscalation:
    """Acts on ``context.manual``: one step up (or to the tier named), or
    down with ``ManualRequest(down=True)``. Refuses past the ends of the ladder."""

    name = "manual"

    def evaluate(self, ticket: Ticket, context: EscalationContext) -> EscalationDecision | None:
        req = context.manual
        if req is None:
            return None
        ladder = context.ladder
        if req.to_tier is None:
            step = ladder.previous if req.down else ladder.next
            to_tier = step(ticket.tier, ticket=ticket.id)
        else:
            to_tier = ladder.check(req.to_tier, "escalation target tier")
            if to_tier == ticket.tier:
                raise ValidationError(
                    f"ticket {ticket.id} is at tier {to_tier!r} already; name another tier"
                )
        down = ladder.compare(to_tier, ticket.tier) < 0
        prefix = "de-escalated" if down else "escalated"
        return EscalationDecision(
            ticket.id,
            ticket.tier,
            to_tier,
            f"{prefix}: {req.reason}",
            self.name,
            req.actor,
            "down" if down else "up",
        )


@attrs.frozen
class EscalationRule:
    """Send matching tickets straight to *to_tier*. Every condition given must
    hold: priority at least, category in, a keyword in the subject or latest
    message, customer segment in."""

    to_tier: str
    name: str = ""
    min_priority: Priority | None = None
    categories: frozenset[str] = attrs.field(default=frozenset(), converter=str_set)
    keywords: frozenset[str] = attrs.field(default=frozenset(), converter=str_set)
    segments: frozenset[str] = attrs.field(default=frozenset(), converter=str_set)

    def __attrs_post_init__(self) -> None:
        if self.min_priority is None and not (self.categories or self.keywords or self.segments):
            raise ConfigurationError(
                f"escalation rule to {self.to_tier!r} has no condition; give min_priority, "
                "categories, keywords or segments"
            )

    def matches(self, ticket: Ticket, context: EscalationContext) -> str | None:
        """Why the rule matches, or None."""
        why = []
        if self.min_priority is not None:
            if ticket.priority < self.min_priority:
                return None
            why.append(f"priority {ticket.priority.name.lower()}")
        if self.categories:
            if ticket.category not in self.categories:
                return None
            why.append(f"category {ticket.category}")
        if self.keywords:
            text = f"{ticket.subject}\n{context.text}".casefold()
            hit = sorted(k for k in self.keywords if k.casefold() in text)
            if not hit:
                return None
            why.append(f"keyword {hit[0]!r}")
        if self.segments:
            if context.segment not in self.segments:
                return None
            why.append(f"{context.segment} customer")
        return ", ".join(why)


def _rules(value: Iterable[EscalationRule]) -> tuple[EscalationRule, ...]:
    return tuple(value)


@attrs.frozen
class RuleEscalation:
    """Rules that send a ticket straight to a tier; the first matching rule
    that moves the ticket up wins."""

    rules: tuple[EscalationRule, ...] = attrs.field(converter=_rules)
    name = "rules"

    def evaluate(self, ticket: Ticket, context: EscalationContext) -> EscalationDecision | None:
        for rule in self.rules:
            why = rule.matches(ticket, context)
            if why is None:
                continue
            label = f" ({rule.name})" if rule.name else ""
            decision = _up(ticket, rule.to_tier, f"rule{label}: {why}", self.name, context)
            if decision is not None:
                return decision
        return None

    def validate(self, ladder: TierLadder) -> None:
        for rule in self.rules:
            ladder.check(rule.to_tier, "escalation rule tier")


class TierTargets(Protocol):
    """How long a ticket may wait at its tier; the SLA policies implement this."""

    def first_response(self, ticket: Ticket) -> timedelta | None: ...

    def resolution(self, ticket: Ticket) -> timedelta | None: ...


def _durations(value: Mapping[str, timedelta]) -> Mapping[str, timedelta]:
    for tier, d in value.items():
        if not isinstance(d, timedelta) or d <= timedelta(0):
            raise ConfigurationError(
                f"target for tier {tier!r} is {d!r}; give a positive timedelta"
            )
    return dict(value)


@attrs.frozen
class FixedTargets:
    """Plain durations per tier: ``FixedTargets(first_response={"L1": timedelta(hours=1)})``."""

    first_response_by_tier: Mapping[str, timedelta] = attrs.field(
        factory=dict, converter=_durations, hash=False
    )
    resolution_by_tier: Mapping[str, timedelta] = attrs.field(
        factory=dict, converter=_durations, hash=False
    )

    def first_response(self, ticket: Ticket) -> timedelta | None:
        return self.first_response_by_tier.get(ticket.tier)

    def resolution(self, ticket: Ticket) -> timedelta | None:
        return self.resolution_by_tier.get(ticket.tier)


Elapsed = Callable[[datetime, datetime], timedelta]


def _wall_clock(start: datetime, end: datetime) -> timedelta:
    return end - start


@attrs.frozen
class TimeEscalation:
    """Climbs a tier when a ticket waits too long at its tier: no first
    response, or no resolution, within the tier's target.

    *elapsed* measures the wait (wall-clock by default; the SLA policies pass
    business-hours time).
    """

    targets: TierTargets
    elapsed: Elapsed = _wall_clock
    name = "time"

    def evaluate(self, ticket: Ticket, context: EscalationContext) -> EscalationDecision | None:
        ladder = context.ladder
        if (
            ticket.tier not in ladder
            or ladder.is_top(ticket.tier)
            or ticket.resolved_at is not None
        ):
            return None
        since = context.tier_since or ticket.age_reference
        waited = self.elapsed(since, context.now)
        checks = (
            ("first response", ticket.first_response_at, self.targets.first_response(ticket)),
            ("resolution", None, self.targets.resolution(ticket)),
        )
        for what, done, target in checks:
            if done is None and target is not None and waited >= target:
                return _up(
                    ticket,
                    ladder.next(ticket.tier),
                    f"no {what} within {_fmt(target)} at {ticket.tier}",
                    self.name,
                    context,
                )
        return None

    def due_at(self, ticket: Ticket, context: EscalationContext) -> datetime | None:
        """When this policy would fire next with wall-clock time (for a timer), or None."""
        ladder = context.ladder
        if (
            ticket.tier not in ladder
            or ladder.is_top(ticket.tier)
            or ticket.resolved_at is not None
        ):
            return None
        since = context.tier_since or ticket.age_reference
        targets = []
        if ticket.first_response_at is None:
            targets.append(self.targets.first_response(ticket))
        targets.append(self.targets.resolution(ticket))
        found = [t for t in targets if t is not None]
        return since + min(found) if found else None


def _fmt(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}min"


@attrs.frozen
class DiagnosisEscalation:
    """An agent diagnosed the ticket as "needs L2/L3": the tier named in
    ``ticket.custom_fields[field]``, if above the current one."""

    field: str = "needs_tier"
    name = "diagnosis"

    def evaluate(self, ticket: Ticket, context: EscalationContext) -> EscalationDecision | None:
        wanted = ticket.custom_fields.get(self.field)
        if not wanted:
            return None
        return _up(ticket, str(wanted), f"diagnosed as needing {wanted}", self.name, context)


@attrs.frozen
class DeEscalation:
    """Back down: the diagnosis field names a tier below the current one
    (e.g. L2 found it is an L1 question)."""

    field: str = "needs_tier"
    name = "de-escalation"

    def evaluate(self, ticket: Ticket, context: EscalationContext) -> EscalationDecision | None:
        wanted = ticket.custom_fields.get(self.field)
        if not wanted:
            return None
        to_tier = context.ladder.check(str(wanted), "de-escalation target tier")
        if context.ladder.compare(to_tier, ticket.tier) >= 0:
            return None
        return EscalationDecision(
            ticket.id,
            ticket.tier,
            to_tier,
            f"de-escalated: diagnosed as {to_tier} work",
            self.name,
            direction="down",
        )


@attrs.frozen
class RepetitionEscalation:
    """Every *reopens* reopenings climb one tier above the bottom human tier."""

    reopens: int = 2
    name = "repetition"

    def __attrs_post_init__(self) -> None:
        if self.reopens < 1:
            raise ConfigurationError(
                f"reopens={self.reopens}; a ticket climbs after 1 or more reopenings"
            )

    def evaluate(self, ticket: Ticket, context: EscalationContext) -> EscalationDecision | None:
        steps = ticket.reopen_count // self.reopens
        if steps == 0:
            return None
        ladder = context.ladder
        base = (
            ladder.next(BOT_TIER)
            if BOT_TIER in ladder and not ladder.is_top(BOT_TIER)
            else ladder.bottom
        )
        target = ladder.climb(base, steps)
        return _up(ticket, target, f"reopened {ticket.reopen_count} times", self.name, context)


@attrs.frozen
class HandOffToHuman:
    """The first-line bot hands over to people: when it could not answer
    (``context.bot_failed``) or the customer asks for a human (a phrase in
    ``context.text``).

    Fires for tickets at *bot_tier* (if the ladder has it) or, with the
    default ladder, for tickets nobody is assigned to yet; the to-tier is the
    first human tier.
    """

    bot_tier: str = BOT_TIER
    phrases: frozenset[str] = attrs.field(default=DEFAULT_HUMAN_PHRASES, converter=str_set)
    name = "hand-off"

    def evaluate(self, ticket: Ticket, context: EscalationContext) -> EscalationDecision | None:
        ladder = context.ladder
        if self.bot_tier in ladder:
            if ticket.tier != self.bot_tier or ladder.is_top(self.bot_tier):
                return None
            from_tier, to_tier = self.bot_tier, ladder.next(self.bot_tier)
        else:
            if ticket.assignee_id is not None or ticket.tier != ladder.bottom:
                return None
            from_tier, to_tier = self.bot_tier, ladder.bottom
        if context.bot_failed:
            reason = "the bot could not answer"
        else:
            text = context.text.casefold()
            asked = sorted(p for p in self.phrases if p.casefold() in text)
            if not asked:
                return None
            reason = f"the customer asked for a human ({asked[0]!r})"
        return EscalationDecision(ticket.id, from_tier, to_tier, reason, self.name)


def _policies(value: Iterable[EscalationPolicy]) -> tuple[EscalationPolicy, ...]:
    policies = tuple(value)
    for p in policies:
        if not callable(getattr(p, "evaluate", None)) or not isinstance(
            getattr(p, "name", None), str
        ):
            raise ConfigurationError(
                f"escalation policy {p!r} needs a str name and an evaluate(ticket, context) "
                "method; see supportkit.policies.EscalationPolicy"
            )
    return policies


@attrs.frozen
class EscalationChain:
    """Policies evaluated in order; the first decision wins.

    Itself an :class:`EscalationPolicy`, so chains nest. With a *ladder*,
    policies that can check their configuration (``validate(ladder)``) are
    checked when the chain is built.
    """

    policies: Sequence[EscalationPolicy] = attrs.field(converter=_policies)
    ladder: TierLadder | None = None
    name = "chain"

    def __attrs_post_init__(self) -> None:
        if self.ladder is not None:
            for p in self.policies:
                validate = getattr(p, "validate", None)
                if callable(validate):
                    validate(self.ladder)

    def evaluate(self, ticket: Ticket, context: EscalationContext) -> EscalationDecision | None:
        for policy in self.policies:
            decision = policy.evaluate(ticket, context)
            if decision is None:
                continue
            ladder = context.ladder
            if decision.to_tier not in ladder:
                raise ConfigurationError(
                    f"escalation policy {policy.name!r} sent ticket {ticket.id} to unknown tier "
                    f"{decision.to_tier!r}; the ladder is {' < '.join(ladder)}"
                )
            return decision
        return None

    @classmethod
    def default(
        cls,
        *,
        ladder: TierLadder | None = None,
        rules: Iterable[EscalationRule] = (),
        targets: TierTargets | None = None,
        reopens: int = 2,
    ) -> EscalationChain:
        """manual, hand-off, de-escalation, diagnosis, rules, repetition, time."""
        policies: list[EscalationPolicy] = [
            ManualEscalation(),
            HandOffToHuman(),
            DeEscalation(),
            DiagnosisEscalation(),
        ]
        rules = tuple(rules)
        if rules:
            policies.append(RuleEscalation(rules))
        policies.append(RepetitionEscalation(reopens))
        if targets is not None:
            policies.append(TimeEscalation(targets))
        return cls(policies, ladder)
