"""Entities and values of a support desk.

Entities (Ticket, Customer, Agent, Team) are mutable ``attrs.define`` classes
with an id; values (Message, Attachment, Identity, HistoryEntry) are frozen.
Timestamps are timezone-aware UTC; nothing here reads a clock.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, time, timedelta
from typing import Any

import attrs

from ._errors import ValidationError

__all__ = [
    "Agent",
    "Attachment",
    "Availability",
    "Customer",
    "Direction",
    "HistoryEntry",
    "Identity",
    "Message",
    "Priority",
    "Team",
    "Ticket",
    "WorkingHours",
    "ensure_utc",
    "is_complaint",
]


def ensure_utc(value: datetime) -> datetime:
    """Return *value* as an aware UTC datetime; a naive one is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            f"naive datetime {value.isoformat()} given; pass a timezone-aware datetime "
            "(e.g. datetime.now(UTC)) so supportkit can store it as UTC"
        )
    return value.astimezone(UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else ensure_utc(value)


class Priority(enum.IntEnum):
    """Ticket priority; higher is more urgent."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4


class Direction(enum.StrEnum):
    """Which way a message went: from the customer, to the customer, or an internal note."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"


class Availability(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


@attrs.frozen
class Identity:
    """How a customer is known on one channel: ``Identity("email", "ann@example.com")``."""

    channel: str
    address: str

    @classmethod
    def of(cls, channel: str, address: str) -> Identity:
        """The identity with its address normalised: emails lower-cased, phone numbers
        reduced to digits (a leading ``+`` kept), so one person matches across channels."""
        address = address.strip()
        if not address:
            raise ValidationError(f"empty {channel} address: a customer identity needs one")
        if channel == "email":
            address = address.lower()
        elif channel == "phone":
            digits = "".join(ch for ch in address if ch.isdigit())
            if digits and not any(ch.isalpha() for ch in address):
                address = ("+" if address.startswith("+") else "") + digits
        return cls(channel, address)


@attrs.define
class Customer:
    id: str
    name: str
    identities: list[Identity] = attrs.Factory(list)
    segment: str = "standard"
    language: str = "en"
    created_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    merged_into: str | None = None
    attributes: dict[str, Any] = attrs.Factory(dict)
    #: the identities the customer proved (the mailbox that wrote, the number that called);
    #: only these link another channel's profile to this one without an agent
    verified: list[Identity] = attrs.Factory(list)


@attrs.frozen
class WorkingHours:
    """An agent's shift in their own time zone, e.g. Mon-Fri 09:00-18:00 Europe/Moscow."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: time = time(9, 0)
    end: time = time(18, 0)
    timezone: str = "UTC"


@attrs.define
class Agent:
    id: str
    name: str
    tier: str = "L1"
    teams: tuple[str, ...] = ()
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset({"en"})
    capacity: int = 10
    availability: Availability = Availability.ONLINE
    working_hours: WorkingHours | None = None
    email: str | None = None


@attrs.define
class Team:
    id: str
    name: str
    tier: str = "L1"
    fallback: str | None = None


@attrs.frozen
class Attachment:
    """Metadata of an attachment; the bytes live wherever the host keeps blobs."""

    filename: str
    content_type: str
    size: int
    content_id: str | None = None
    inline: bool = False
    sha256: str | None = None


@attrs.frozen
class Message:
    """One article on a ticket: inbound, outbound or an internal note."""

    id: str
    ticket_id: str
    direction: Direction
    channel: str
    author: str
    text: str
    created_at: datetime = attrs.field(converter=ensure_utc)
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    external_id: str | None = None
    in_reply_to: str | None = None
    meta: dict[str, Any] = attrs.Factory(dict)


@attrs.frozen
class HistoryEntry:
    """One status change: who, when, from, to, why."""

    ticket_id: str
    at: datetime = attrs.field(converter=ensure_utc)
    actor: str
    event: str
    from_status: str
    to_status: str
    reason: str = ""


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Ticket:
    """The aggregate: a customer's request as it moves through its lifecycle.

    ``version`` increases by one with every stored change (optimistic
    concurrency). Use cases record domain events in ``events``; the unit of
    work collects them when it commits. Converters run when a ticket is built,
    not on every assignment: use cases assign aware UTC datetimes only.
    """

    id: str
    number: int
    subject: str
    customer_id: str
    channel: str
    status: str
    received_at: datetime = attrs.field(converter=ensure_utc)
    priority: Priority = Priority.NORMAL
    category: str | None = None
    tier: str = "L1"
    team_id: str | None = None
    assignee_id: str | None = None
    tags: frozenset[str] = frozenset()
    custom_fields: dict[str, Any] = attrs.Factory(dict)
    language: str = "en"
    lifecycle: str = "default"
    version: int = 0
    registered_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    first_response_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    last_customer_message_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    resolved_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    closed_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    updated_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    resolution: str | None = None
    close_reason: str | None = None
    reopen_count: int = 0
    escalation_count: int = 0
    events: list[Any] = attrs.field(factory=list, eq=False, repr=False)

    def record(self, event: Any) -> None:
        """Record a domain event to be stored and published with this change."""
        self.events.append(event)

    @property
    def kind(self) -> str | None:
        """The kind of support the request needs (technical, customer, training, ...),
        set by triage or an agent (``desk.set_kind``); kept in ``custom_fields["kind"]``."""
        value = self.custom_fields.get("kind")
        return value if isinstance(value, str) else None

    @property
    def age_reference(self) -> datetime:
        return self.registered_at or self.received_at

    def response_time(self) -> timedelta | None:
        if self.first_response_at is None:
            return None
        return self.first_response_at - self.received_at


def is_complaint(ticket: Ticket, *, lifecycle: str = "complaint") -> bool:
    """Whether *ticket* is a complaint: it is on the complaint lifecycle.

    The one definition the complaint paths (a low feedback score, an inbound
    complaint) and the complaint metrics share.
    """
    return ticket.lifecycle == lifecycle
