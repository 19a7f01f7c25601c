"""The storage port is a few small, documented abstract classes that UnitOfWork composes."""

from __future__ import annotations

import inspect

import pytest

from supportkit import ports
from supportkit.ports import Transaction, UnitOfWork
from supportkit.storage import sql

FOCUSED = [
    ports.TicketStore,
    ports.MessageStore,
    ports.CustomerStore,
    ports.AgentStore,
    ports.OutboxStore,
    ports.TimerStore,
    ports.RawInboundStore,
    ports.KeyValueStore,
]


def _focused_ports() -> list[type]:
    return [b for b in UnitOfWork.__mro__[1:] if inspect.isabstract(b) and b is not Transaction]


def test_unit_of_work_is_the_union_of_the_focused_ports() -> None:
    assert set(FOCUSED) <= set(UnitOfWork.__mro__)
    own = set(UnitOfWork.__abstractmethods__)
    assert own == set().union(*(b.__abstractmethods__ for b in [*_focused_ports(), Transaction]))


@pytest.mark.parametrize("port", _focused_ports(), ids=lambda p: p.__name__)
def test_every_port_is_small_and_every_method_states_its_contract(port: type) -> None:
    assert 0 < len(port.__abstractmethods__) <= 15
    for name in port.__abstractmethods__:
        doc = inspect.getdoc(getattr(port, name))
        assert len(doc or "") > 20, f"{port.__name__}.{name} has no contract"
    assert port.__name__ in ports.__all__


def test_transaction_hooks_are_public_and_documented() -> None:
    assert Transaction.__abstractmethods__ == {"do_commit", "do_rollback"}
    assert not [n for n in UnitOfWork.__abstractmethods__ if n.startswith("_")]
    for hook in ("do_begin", "do_commit", "do_rollback", "do_end", "raw_connection"):
        assert inspect.getdoc(getattr(Transaction, hook))


@pytest.mark.parametrize("port", FOCUSED, ids=lambda p: p.__name__)
def test_each_port_has_a_reusable_sql_mixin(port: type) -> None:
    mixins = [getattr(sql, n) for n in sql.__all__ if n.startswith("Sql") and n != "SqlUnitOfWork"]
    implementing = [m for m in mixins if issubclass(m, port)]
    assert implementing, f"no SQL mixin implements {port.__name__}"
    for mixin in implementing:
        missing = port.__abstractmethods__ - {
            n for n in port.__abstractmethods__ if n in vars(mixin)
        }
        assert not missing, f"{mixin.__name__} leaves {sorted(missing)} abstract"


def test_a_unit_of_work_rolls_back_unless_committed_and_calls_every_hook() -> None:
    calls: list[str] = []

    class Recording(Transaction):
        def do_begin(self) -> None:
            calls.append("begin")

        def do_commit(self) -> None:
            calls.append("commit")

        def do_rollback(self) -> None:
            calls.append("rollback")

        def do_end(self) -> None:
            calls.append("end")

    with Recording():
        pass
    with Recording() as tx:
        tx.commit()
    with pytest.raises(KeyError), Recording():
        raise KeyError
    assert calls == [
        "begin",
        "rollback",
        "end",
        "begin",
        "commit",
        "end",
        "begin",
        "rollback",
        "end",
    ]
    with pytest.raises(NotImplementedError, match="no SQL connection"):
        Recording().raw_connection()
