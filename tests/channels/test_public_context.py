"""Channels reach storage through the public context's named ports, never ``ctx.uow``."""

from __future__ import annotations

import ast
from pathlib import Path

from supportkit import FakeClock, SupportDesk
from supportkit._context import DeskContext as CoreContext
from supportkit.ports import (
    AcknowledgementStore,
    CursorStore,
    CustomerStore,
    DeliveryStore,
    KeyValueStore,
    MessageStore,
    OutboxStore,
    TicketStore,
    TimerStore,
)
from supportkit.typing import DeskContext

CHANNELS = Path(__file__).resolve().parents[2] / "src" / "supportkit" / "channels"
PORTS = {
    "tickets": TicketStore,
    "messages": MessageStore,
    "customers": CustomerStore,
    "outbox": OutboxStore,
    "timers": TimerStore,
    "deliveries": DeliveryStore,
    "acknowledgements": AcknowledgementStore,
    "cursors": CursorStore,
    "kv": KeyValueStore,
}


def test_no_channel_reaches_through_the_unit_of_work_of_a_context() -> None:
    found = []
    for path in sorted(CHANNELS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "uow"
                and isinstance(node.value, ast.Name)
                and node.value.id == "ctx"
            ):
                found.append(f"{path.relative_to(CHANNELS)}:{node.lineno}")
    assert not found, f"channels use ctx.uow (use the context's named ports): {found}"


def test_the_public_context_names_each_port_and_the_desk_provides_it() -> None:
    desk = SupportDesk(clock=FakeClock())
    seen: dict[str, object] = {}

    def use_case(ctx: DeskContext) -> None:
        for name, port in PORTS.items():
            store = getattr(ctx, name)
            assert isinstance(store, port), name
            seen[name] = store

    desk.run(use_case)
    assert set(seen) == set(PORTS)
    for name in PORTS:  # declared on the Protocol, so mypy checks extensions using them
        assert name in DeskContext.__dict__, name
        assert isinstance(getattr(CoreContext, name), property), name
