"""What the memory backend promises beyond the contract: copies in and out, exact undo."""

from __future__ import annotations

from datetime import UTC, datetime

from supportkit import Customer, Identity, MemoryStorage, Ticket

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _ticket(n: int) -> Ticket:
    return Ticket(f"t{n}", n, "s", "c", "email", "registered", T0)


def test_ticket_numbers_are_never_reused_after_a_rollback() -> None:
    s = MemoryStorage()
    with s.unit_of_work() as uow:
        assert uow.next_ticket_number() == 1
    with s.unit_of_work() as uow:
        assert uow.next_ticket_number() == 2


def test_stored_customers_are_copies() -> None:
    s = MemoryStorage()
    c = Customer("c1", "Ann", [Identity("email", "ann@example.com")])
    with s.unit_of_work() as uow:
        uow.add_customer(c)
        uow.commit()
    c.identities.append(Identity("chat", "ann"))
    with s.unit_of_work() as uow:
        loaded = uow.get_customer("c1")
        loaded.identities.clear()
        assert uow.get_customer("c1").identities == [Identity("email", "ann@example.com")]


def test_several_saves_in_one_unit_of_work_roll_back_to_the_original() -> None:
    s = MemoryStorage()
    with s.unit_of_work() as uow:
        uow.add_ticket(_ticket(1))
        uow.commit()
    with s.unit_of_work() as uow:
        t = uow.get_ticket("t1")
        for status in ("diagnosing", "resolved", "closed"):
            t.status = status
            uow.save_ticket(t, t.version)
        assert t.version == 4
    with s.unit_of_work() as uow:
        t = uow.get_ticket("t1")
        assert (t.status, t.version) == ("registered", 1)
        assert [x.id for x in uow.find_tickets(uow_query("registered"))] == ["t1"]
        assert uow.find_tickets(uow_query("closed")) == []


def uow_query(status: str) -> object:
    from supportkit.ports import TicketQuery

    return TicketQuery(status=status)
