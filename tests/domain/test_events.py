"""Domain events: stable type names, and every value survives the one converter."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportkit import Customer, HistoryEntry, Message, Ticket
from supportkit._convert import dumps, event_from_data, event_to_data, loads, structure, unstructure
from supportkit.domain import EVENT_TYPES, DomainEvent, event_type
from supportkit.testing import strategies as sks


def test_every_event_type_has_a_unique_stable_name() -> None:
    assert len(set(EVENT_TYPES)) == len(EVENT_TYPES)
    for name, cls in EVENT_TYPES.items():
        assert cls.type_name == name
        assert "." in name


@given(sks.domain_events())
def test_events_survive_json_through_the_converter(event: DomainEvent) -> None:
    data = loads(dumps(event_to_data(event)))
    assert data["type"] == event_type(event)
    assert event_from_data(data) == event


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_the_strategy_builds_every_registered_event_type(name: str) -> None:
    @settings(max_examples=10)
    @given(sks.domain_events(types=[EVENT_TYPES[name]]))
    def check(event: DomainEvent) -> None:
        assert event_type(event) == name
        assert event_from_data(loads(dumps(event_to_data(event)))) == event

    check()


@given(sks.tickets())
def test_tickets_survive_json_through_the_converter(ticket: Ticket) -> None:
    assert structure(loads(dumps(unstructure(ticket))), Ticket) == ticket


@given(sks.messages(), sks.customers(), sks.history_entries())
def test_values_survive_json_through_the_converter(
    message: Message, customer: Customer, entry: HistoryEntry
) -> None:
    values: list[tuple[Any, type[Any]]] = [
        (message, Message),
        (customer, Customer),
        (entry, HistoryEntry),
    ]
    for value, cls in values:
        assert structure(loads(dumps(unstructure(value))), cls) == value


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(_JSON)
def test_dumps_writes_what_the_standard_library_writes(value: Any) -> None:
    # dumps keeps the C encoder between calls; the text must stay json.dumps's own
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    assert dumps(value) == expected


def test_dumps_writes_unknown_values_through_str() -> None:
    assert dumps({"at": Decimal("1.50"), "n": [1, 2.5, None]}) == '{"at":"1.50","n":[1,2.5,null]}'
