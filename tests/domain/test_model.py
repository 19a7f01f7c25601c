"""Entities and values: aware UTC timestamps, identities, the error tree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from supportkit import (
    ConcurrencyConflict,
    GuardRejected,
    Identity,
    InvalidTransition,
    MalformedMessage,
    NotFound,
    SupportKitError,
    Ticket,
    TicketNotFound,
    ValidationError,
    ensure_utc,
)


def test_naive_datetimes_are_refused_with_a_hint() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        ensure_utc(datetime(2026, 1, 5, 9, 0))


def test_aware_datetimes_are_converted_to_utc() -> None:
    moscow = timezone(timedelta(hours=3))
    assert ensure_utc(datetime(2026, 1, 5, 12, 0, tzinfo=moscow)) == datetime(
        2026, 1, 5, 9, 0, tzinfo=UTC
    )
    assert ensure_utc(datetime(2026, 1, 5, 12, 0, tzinfo=moscow)).tzinfo is UTC


def test_ticket_timestamps_are_stored_as_utc() -> None:
    moscow = timezone(timedelta(hours=3))
    t = Ticket("t", 1, "s", "c", "email", "registered", datetime(2026, 1, 5, 12, tzinfo=moscow))
    assert t.received_at.tzinfo is UTC
    with pytest.raises(ValidationError):
        Ticket("t", 1, "s", "c", "email", "registered", datetime(2026, 1, 5, 12))


def test_email_identities_are_case_insensitive_others_are_not() -> None:
    assert Identity.of("email", " Ann@Example.COM ") == Identity("email", "ann@example.com")
    assert Identity.of("telegram", "AnnB") == Identity("telegram", "AnnB")
    with pytest.raises(ValidationError, match="empty chat address"):
        Identity.of("chat", "   ")


def test_every_error_is_a_supportkit_error() -> None:
    for cls in (TicketNotFound, MalformedMessage, GuardRejected, ConcurrencyConflict):
        assert issubclass(cls, SupportKitError)
    assert issubclass(TicketNotFound, NotFound)
    assert issubclass(TicketNotFound, LookupError)
    assert issubclass(GuardRejected, InvalidTransition)
    assert issubclass(MalformedMessage, ValueError)


def test_error_messages_say_what_to_do() -> None:
    assert "find_tickets" in str(TicketNotFound("t-9"))
    conflict = ConcurrencyConflict("ticket", "t-1", 3, 4)
    assert "expected version 3" in str(conflict)
    assert "stored version 4" in str(conflict)
    assert "retry" in str(conflict)
