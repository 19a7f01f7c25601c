"""The pytest plugin is registered through its entry point and provides the desk fixtures."""

from __future__ import annotations

import pytest

from supportkit import FakeClock, MemoryStorage, SupportDesk
from supportkit.testing.plugin import DeskFactory


def test_the_plugin_is_loaded_through_its_entry_point(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("supportkit")


def test_desks_run_on_the_fake_clock_with_readable_ids(
    desk: SupportDesk, fake_clock: FakeClock
) -> None:
    t = desk.receive("email", "ann@example.com", "help")
    assert t.received_at == fake_clock.now()
    assert t.id.startswith("id-")


def test_desks_from_one_factory_can_share_a_storage(make_desk: DeskFactory) -> None:
    storage = MemoryStorage()
    a, b = make_desk(storage), make_desk(storage)
    ta = a.receive("email", "ann@example.com", "one")
    tb = b.receive("email", "bob@example.com", "two")
    assert ta.id != tb.id
    assert len(a.find_tickets()) == 2
