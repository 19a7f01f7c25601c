"""Domain events: frozen facts about a ticket, recorded on it and published after commit.

Every event has the ticket it concerns and the instant it happened. The
registry below maps a stable type name to each class; storage keeps that
name next to the unstructured payload, so renaming a class never breaks
stored events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import attrs

__all__ = [
    "EVENT_TYPES",
    "AgentAvailabilityChanged",
    "AgentSaved",
    "CustomerMerged",
    "CustomerUpdated",
    "DeliveryFailed",
    "DomainEvent",
    "MessageAdded",
    "StatusChanged",
    "TeamSaved",
    "TicketAssigned",
    "TicketEscalated",
    "TicketQueued",
    "TicketReceived",
    "TicketUpdated",
    "event_type",
    "register_event",
]

EVENT_TYPES: dict[str, type[DomainEvent]] = {}


_E = TypeVar("_E", bound="type[DomainEvent]")


def register_event(name: str) -> Callable[[_E], _E]:
    """Class decorator giving an event class its stable stored name."""

    def deco(cls: _E) -> _E:
        if name in EVENT_TYPES and EVENT_TYPES[name] is not cls:
            raise ValueError(f"event type name {name!r} is registered twice")
        cls.type_name = name
        EVENT_TYPES[name] = cls
        return cls

    return deco


def event_type(event: DomainEvent) -> str:
    return type(event).type_name


@attrs.frozen
class DomainEvent:
    """Base of every domain event."""

    type_name: ClassVar[str] = "event"
    ticket_id: str
    at: datetime


@register_event("ticket.received")
@attrs.frozen
class TicketReceived(DomainEvent):
    number: int
    channel: str
    customer_id: str
    subject: str


@register_event("ticket.status_changed")
@attrs.frozen
class StatusChanged(DomainEvent):
    event: str
    from_status: str
    to_status: str
    actor: str
    reason: str = ""


@register_event("ticket.message_added")
@attrs.frozen
class MessageAdded(DomainEvent):
    """A message was stored on the ticket.

    ``automated``: a bot or the system wrote it, so it is no response (and,
    inbound, starts no wait); see :mod:`supportkit.domain._definitions`.
    """

    message_id: str
    direction: str
    author: str
    channel: str
    automated: bool = False


@register_event("ticket.assigned")
@attrs.frozen
class TicketAssigned(DomainEvent):
    agent_id: str | None
    team_id: str | None
    previous_agent_id: str | None
    strategy: str
    actor: str


@register_event("ticket.queued")
@attrs.frozen
class TicketQueued(DomainEvent):
    team_id: str | None
    reason: str


@register_event("ticket.escalated")
@attrs.frozen
class TicketEscalated(DomainEvent):
    from_tier: str
    to_tier: str
    reason: str
    policy: str
    actor: str


@register_event("ticket.updated")
@attrs.frozen
class TicketUpdated(DomainEvent):
    changes: dict[str, Any]
    actor: str


@register_event("ticket.delivery_failed")
@attrs.frozen
class DeliveryFailed(DomainEvent):
    message_id: str
    channel: str
    error: str
    permanent: bool


@register_event("customer.merged")
@attrs.frozen
class CustomerMerged(DomainEvent):
    """``ticket_id`` is empty: the event concerns customers."""

    source_customer_id: str
    target_customer_id: str


@register_event("agent.availability_changed")
@attrs.frozen
class AgentAvailabilityChanged(DomainEvent):
    """``ticket_id`` is empty: the event concerns an agent."""

    agent_id: str
    availability: str


@register_event("agent.saved")
@attrs.frozen
class AgentSaved(DomainEvent):
    """An agent was added or changed (``ticket_id`` is empty)."""

    agent_id: str
    tier: str
    teams: tuple[str, ...]


@register_event("team.saved")
@attrs.frozen
class TeamSaved(DomainEvent):
    """A team was added or changed (``ticket_id`` is empty)."""

    team_id: str
    tier: str
    fallback: str | None


@register_event("customer.updated")
@attrs.frozen
class CustomerUpdated(DomainEvent):
    """A customer's profile changed: an identity or a note (``ticket_id`` is empty)."""

    customer_id: str
    change: str
