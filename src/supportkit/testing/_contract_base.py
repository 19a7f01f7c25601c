"""Shared pieces of the storage contract: the factory fixture, capabilities, helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings

from ..domain._events import DomainEvent, MessageAdded
from ..domain._model import (
    Direction,
    Message,
    Ticket,
)
from ..ports._storage import Storage, UnitOfWork

__all__ = ["ContractBase"]

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

_fixture_settings = settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,  # one suite, many backend subclasses
    ],
    deadline=None,
)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _new_ticket(uow: UnitOfWork, **fields: Any) -> Ticket:
    number = fields.pop("number", None) or uow.next_ticket_number()
    base: dict[str, Any] = {
        "id": f"t{number}",
        "number": number,
        "subject": f"Ticket {number}",
        "customer_id": "c1",
        "channel": "email",
        "status": "registered",
        "received_at": _at(number),
    }
    base.update(fields)
    return Ticket(**base)


def _message(ticket_id: str, n: int, **fields: Any) -> Message:
    base: dict[str, Any] = {
        "id": f"{ticket_id}-m{n}",
        "ticket_id": ticket_id,
        "direction": Direction.INBOUND,
        "channel": "email",
        "author": "ann@example.com",
        "text": f"message {n}",
        "created_at": _at(n),
    }
    base.update(fields)
    return Message(**base)


def _event(ticket_id: str, n: int) -> DomainEvent:
    return MessageAdded(ticket_id, _at(n), f"m{n}", "inbound", "ann@example.com", "email")


class ContractBase:
    """The factory fixture and helpers every part of the storage contract uses."""

    # -- the factory --------------------------------------------------------------------
    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        raise NotImplementedError(
            f"{type(self).__name__} must override the `storage` fixture: "
            "yield a fresh, empty Storage (and close it afterwards)"
        )
        yield  # noqa: PT022  # pragma: no cover

    #: upper bound on examples per property test; the active hypothesis profile may ask for
    #: fewer. A slow backend (a network database) may lower it in its subclass.
    max_examples: ClassVar[int] = 50

    def examples(self) -> settings:
        """Hypothesis settings for one property test, taken from the active profile when it runs."""
        current = settings()  # a copy of the active profile
        return settings(
            current,
            max_examples=min(current.max_examples, self.max_examples),
            deadline=None,
            suppress_health_check=[*current.suppress_health_check, HealthCheck.too_slow],
        )

    @staticmethod
    def require(storage: Storage, capability: str) -> None:
        """Skip the calling test unless *storage* declares *capability*."""
        if capability not in storage.capabilities:
            pytest.skip(
                f"{type(storage).__name__} does not declare the {capability!r} capability "
                f"(it declares {sorted(storage.capabilities)})"
            )

    @staticmethod
    def add(storage: Storage, **fields: Any) -> Ticket:
        """Store and commit a new ticket; returns it (version 1)."""
        with storage.unit_of_work() as uow:
            t = _new_ticket(uow, **fields)
            uow.add_ticket(t)
            uow.commit()
        return t
