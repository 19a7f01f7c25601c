"""Hypothesis strategies for supportkit's values: the inputs of the storage port and the desk.

Every strategy produces values any conforming backend must store and give
back equal: aware UTC timestamps at microsecond precision, text without NUL
characters (PostgreSQL refuses them), JSON-compatible custom fields.

>>> from hypothesis import given
>>> from supportkit.testing import strategies as sks
>>> @given(sks.tickets())
... def test_ticket_round_trip(ticket): ...
"""

from __future__ import annotations

import types as _types
import typing
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import attrs
from hypothesis import strategies as st

from ..domain._events import EVENT_TYPES, DomainEvent
from ..domain._lifecycle import DEFAULT_LIFECYCLE
from ..domain._model import (
    Agent,
    Attachment,
    Customer,
    Direction,
    HistoryEntry,
    Identity,
    Message,
    Priority,
    Team,
    Ticket,
)
from ..ports._storage import RawInbound, Timer

__all__ = [
    "agents",
    "attachments",
    "customers",
    "domain_events",
    "history_entries",
    "identities",
    "ids",
    "json_values",
    "messages",
    "raw_inbound",
    "short_text",
    "teams",
    "text",
    "tickets",
    "timers",
    "utc_datetimes",
]

_CHARS = st.characters(
    exclude_categories=["Cs"],  # lone surrogates cannot be encoded
    exclude_characters="\x00",  # PostgreSQL text refuses NUL
)

STATUSES = DEFAULT_LIFECYCLE.states
TIERS = ("L1", "L2", "L3")
CHANNELS = ("email", "chat", "web", "phone", "telegram", "forum")


def text(min_size: int = 0, max_size: int = 200) -> st.SearchStrategy[str]:
    """Any storable text (letters of every script, punctuation, newlines; no NUL)."""
    return st.text(_CHARS, min_size=min_size, max_size=max_size)


def short_text(min_size: int = 1, max_size: int = 20) -> st.SearchStrategy[str]:
    return text(min_size, max_size)


def ids() -> st.SearchStrategy[str]:
    """Fresh unique ids (so examples sharing one storage never collide)."""
    return st.builds(lambda: uuid.uuid4().hex)


def utc_datetimes() -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes between 2000 and 2100, microsecond precision."""
    return st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """JSON-compatible values (no floats: they need not round-trip exactly through every DB)."""
    scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text(max_size=30)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(text(max_size=10), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def identities() -> st.SearchStrategy[Identity]:
    return st.builds(
        Identity,
        channel=st.sampled_from(CHANNELS),
        address=st.builds(lambda h: f"{h}@example.com", ids()),
    )


def customers() -> st.SearchStrategy[Customer]:
    return st.builds(
        Customer,
        id=ids(),
        name=short_text(),
        identities=st.lists(identities(), max_size=3, unique=True),
        segment=st.sampled_from(("standard", "vip")),
        language=st.sampled_from(("en", "ru")),
        created_at=st.none() | utc_datetimes(),
        attributes=st.dictionaries(text(1, 10), json_values(), max_size=3),
    )


def agents() -> st.SearchStrategy[Agent]:
    return st.builds(
        Agent,
        id=ids(),
        name=short_text(),
        tier=st.sampled_from(TIERS),
        teams=st.lists(short_text(1, 8), max_size=2, unique=True).map(tuple),
        skills=st.frozensets(short_text(1, 8), max_size=3),
        languages=st.frozensets(st.sampled_from(("en", "ru", "de")), min_size=1),
        capacity=st.integers(0, 50),
    )


def teams() -> st.SearchStrategy[Team]:
    return st.builds(
        Team,
        id=ids(),
        name=short_text(),
        tier=st.sampled_from(TIERS),
        fallback=st.none() | ids(),
    )


def tickets(number: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[Ticket]:
    """New tickets (version 0) with any storable field values."""
    return st.builds(
        Ticket,
        id=ids(),
        number=number if number is not None else st.integers(1, 2**31 - 1),
        subject=text(max_size=80),
        customer_id=ids(),
        channel=st.sampled_from(CHANNELS),
        status=st.sampled_from(STATUSES),
        received_at=utc_datetimes(),
        priority=st.sampled_from(Priority),
        category=st.none() | short_text(),
        tier=st.sampled_from(TIERS),
        team_id=st.none() | short_text(1, 8),
        assignee_id=st.none() | short_text(1, 8),
        tags=st.frozensets(short_text(1, 10), max_size=4),
        custom_fields=st.dictionaries(text(1, 10), json_values(), max_size=3),
        language=st.sampled_from(("en", "ru")),
        registered_at=st.none() | utc_datetimes(),
        first_response_at=st.none() | utc_datetimes(),
        resolved_at=st.none() | utc_datetimes(),
        closed_at=st.none() | utc_datetimes(),
        updated_at=st.none() | utc_datetimes(),
        resolution=st.none() | text(max_size=50),
        close_reason=st.none() | text(max_size=50),
        reopen_count=st.integers(0, 5),
        escalation_count=st.integers(0, 5),
    )


def attachments() -> st.SearchStrategy[Attachment]:
    return st.builds(
        Attachment,
        filename=short_text(),
        content_type=st.sampled_from(("text/plain", "image/png", "application/pdf")),
        size=st.integers(0, 2**40),
        content_id=st.none() | short_text(),
        inline=st.booleans(),
        sha256=st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
    )


def messages(ticket_id: str | None = None) -> st.SearchStrategy[Message]:
    return st.builds(
        Message,
        id=ids(),
        ticket_id=st.just(ticket_id) if ticket_id is not None else ids(),
        direction=st.sampled_from(Direction),
        channel=st.sampled_from(CHANNELS),
        author=short_text(),
        text=text(max_size=300),
        created_at=utc_datetimes(),
        html=st.none() | text(max_size=100),
        attachments=st.lists(attachments(), max_size=2).map(tuple),
        external_id=st.none() | st.builds(lambda h: f"<{h}@mail.example>", ids()),
        in_reply_to=st.none() | short_text(),
        meta=st.dictionaries(text(1, 10), json_values(), max_size=3),
    )


def history_entries(ticket_id: str | None = None) -> st.SearchStrategy[HistoryEntry]:
    return st.builds(
        HistoryEntry,
        ticket_id=st.just(ticket_id) if ticket_id is not None else ids(),
        at=utc_datetimes(),
        actor=short_text(),
        event=st.sampled_from(("register", "resolve", "escalate", "reopen")),
        from_status=st.sampled_from(STATUSES),
        to_status=st.sampled_from(STATUSES),
        reason=text(max_size=40),
    )


def domain_events(
    ticket_id: str | None = None, types: Iterable[type[DomainEvent]] | None = None
) -> st.SearchStrategy[DomainEvent]:
    """One event of any registered type (or of *types*), built from its attrs fields.

    Events registered later (by channels, policies or a plugin) are covered
    too, as long as their fields are JSON-compatible types.
    """
    classes = sorted(
        types if types is not None else set(EVENT_TYPES.values()), key=lambda c: c.type_name
    )
    return st.one_of([_event_of(cls, ticket_id) for cls in classes])


def _event_of(cls: type[DomainEvent], ticket_id: str | None) -> st.SearchStrategy[DomainEvent]:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for field in attrs.fields(cls):
        if field.name == "ticket_id":
            kwargs[field.name] = st.just(ticket_id) if ticket_id is not None else ids()
        else:
            kwargs[field.name] = _for_type(hints[field.name])
    return st.builds(cls, **kwargs)


def _for_type(tp: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (_types.UnionType, typing.Union):
        return st.one_of([_for_type(a) for a in args])
    if tp is type(None):
        return st.none()
    if tp is str:
        return short_text()
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**31), 2**31 - 1)
    if tp is datetime:
        return utc_datetimes()
    if tp is Any:
        return json_values()
    if origin is dict:
        return st.dictionaries(text(1, 10), _for_type(args[1]), max_size=3)
    if origin in (list, tuple):  # tuple[X, ...] or list[X]
        return st.lists(_for_type(args[0]), max_size=3).map(origin)
    if origin in (frozenset, set):
        return st.frozensets(_for_type(args[0]), max_size=3)
    return st.from_type(tp)


def timers(ticket_id: str | None = None) -> st.SearchStrategy[Timer]:
    return st.builds(
        Timer,
        key=ids(),
        due_at=utc_datetimes(),
        kind=st.sampled_from(("sla.warning", "sla.breach", "reminder")),
        ticket_id=st.just(ticket_id) if ticket_id is not None else ids(),
        payload=st.dictionaries(text(1, 10), json_values(), max_size=3),
    )


def raw_inbound() -> st.SearchStrategy[RawInbound]:
    return st.builds(
        RawInbound,
        id=ids(),
        channel=st.sampled_from(CHANNELS),
        received_at=utc_datetimes(),
        raw=st.binary(max_size=300),
        external_id=st.none() | ids(),
    )
