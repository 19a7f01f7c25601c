"""The storage contract on coordination: ticket locks, the waiting queue, loads, leased claims."""

from __future__ import annotations

from datetime import timedelta

from ..domain._model import Priority
from ..ports._storage import Storage, Timer
from ._contract_base import ContractBase, _at, _event

__all__ = ["CoordinationContract"]

_OPEN = ("registered", "diagnosing")


class CoordinationContract(ContractBase):
    """Claims are exclusive until their lease ends; the waiting queue is ordered and stored."""

    def test_ticket_loaded_for_update_is_the_stored_ticket(self, storage: Storage) -> None:
        t = self.add(storage, subject="Locked")
        with storage.unit_of_work() as uow:
            got = uow.get_ticket_for_update(t.id)
            uow.lock("supportkit.test")  # a named lock taken twice by one transaction is fine
            uow.lock("supportkit.test")
            got.subject = "Changed"
            uow.save_ticket(got, got.version)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.get_ticket(t.id).subject == "Changed"

    def test_waiting_tickets_are_unassigned_by_priority_then_age(self, storage: Storage) -> None:
        self.add(storage, number=1, received_at=_at(1))
        self.add(storage, number=2, received_at=_at(2), priority=Priority.URGENT)
        self.add(storage, number=3, received_at=_at(3), assignee_id="a1")
        self.add(storage, number=4, received_at=_at(0.5), status="resolved")
        self.add(storage, number=5, received_at=_at(0.1), team_id="billing")
        self.add(storage, number=6, received_at=_at(0.2), team_id="sales")
        with storage.unit_of_work() as uow:
            numbers = [t.number for t in uow.waiting_tickets(_OPEN)]
            assert numbers == [2, 5, 6, 1]
            billing = [t.number for t in uow.waiting_tickets(_OPEN, team_ids=["billing"])]
            assert billing == [2, 5, 1]  # a ticket of no team waits for every team
            assert [t.number for t in uow.waiting_tickets(_OPEN, limit=1)] == [2]

    def test_open_loads_count_assigned_tickets_in_the_statuses(self, storage: Storage) -> None:
        self.add(storage, number=1, assignee_id="a1")
        self.add(storage, number=2, assignee_id="a1", status="diagnosing")
        self.add(storage, number=3, assignee_id="a1", status="resolved")
        self.add(storage, number=4, assignee_id="a2")
        with storage.unit_of_work() as uow:
            assert uow.open_loads(_OPEN) == {"a1": 2, "a2": 1}
            assert uow.open_loads(_OPEN, ["a2", "a3"]) == {"a2": 1}

    def test_claimed_events_go_to_one_owner_until_the_lease_ends(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            seqs = uow.add_events([_event("t1", n) for n in range(5)])
            uow.commit()
        with storage.unit_of_work() as uow:
            first = uow.claim_events("p1", _at(0), _at(1), limit=3)
            uow.commit()
        assert [e.seq for e in first] == seqs[:3]
        with storage.unit_of_work() as uow:
            second = uow.claim_events("p2", _at(0), _at(1))
            uow.commit()
        assert [e.seq for e in second] == seqs[3:]
        with storage.unit_of_work() as uow:
            assert uow.mark_relayed([e.seq for e in first], "p1") == 3
            assert uow.mark_relayed([e.seq for e in second], "p1") == 0  # not p1's claim
            uow.commit()
        with storage.unit_of_work() as uow:  # p2's lease ran out: p3 takes over
            assert uow.claim_events("p3", _at(0.5), _at(2)) == []
            again = uow.claim_events("p3", _at(1.5), _at(2))
            uow.commit()
        assert [e.seq for e in again] == seqs[3:]
        with storage.unit_of_work() as uow:
            assert uow.mark_relayed([e.seq for e in second], "p2") == 0
            assert uow.mark_relayed([e.seq for e in again], "p3") == 2
            assert uow.claim_events("p4", _at(9), _at(10)) == []
            uow.commit()

    def test_a_rolled_back_claim_is_not_kept(self, storage: Storage) -> None:
        self.require(storage, "transactions")
        with storage.unit_of_work() as uow:
            uow.add_events([_event("t1", 1)])
            uow.commit()
        with storage.unit_of_work() as uow:
            assert len(uow.claim_events("p1", _at(0), _at(1))) == 1
            uow.rollback()
        with storage.unit_of_work() as uow:
            assert len(uow.claim_events("p2", _at(0), _at(1))) == 1

    def test_skipped_events_are_never_relayed(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            seqs = uow.add_events([_event("t1", n) for n in range(5)])
            uow.commit()
        with storage.unit_of_work() as uow:
            held = uow.claim_events("p1", _at(0), _at(1), limit=1)
            uow.commit()
        assert [e.seq for e in held] == seqs[:1]
        with storage.unit_of_work() as uow:  # the first is claimed by p1, the last stays
            assert uow.skip_relay([*seqs[:4], max(seqs) + 1000]) == 4
            assert uow.skip_relay(seqs[1:3]) == 0  # relayed already
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.mark_relayed(seqs[:1], "p1") == 0  # its claim went with the skip
            assert [e.seq for e in uow.claim_events("p2", _at(9), _at(10))] == seqs[4:]
            uow.commit()

    def test_a_rolled_back_skip_is_not_kept(self, storage: Storage) -> None:
        self.require(storage, "transactions")
        with storage.unit_of_work() as uow:
            seqs = uow.add_events([_event("t1", 1)])
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.skip_relay(seqs) == 1
            uow.rollback()
        with storage.unit_of_work() as uow:
            assert [e.seq for e in uow.claim_events("p1", _at(0), _at(1))] == seqs

    def test_a_due_timer_is_claimed_once_and_taken_once(self, storage: Storage) -> None:
        timer = Timer("k1", _at(1), "sla", "t1")
        with storage.unit_of_work() as uow:
            uow.schedule_timer(timer)
            uow.schedule_timer(Timer("k2", _at(5), "sla", "t1"))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.claim_timers("p1", _at(0), _at(10)) == []  # not due yet
            assert uow.claim_timers("p1", _at(2), _at(10)) == [timer]
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.claim_timers("p2", _at(3), _at(10)) == []  # p1 holds it
            assert not uow.take_timer(timer, "p2")
            assert uow.take_timer(timer, "p1")
            assert not uow.take_timer(timer, "p1")  # gone
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [t.key for t in uow.timers_for("t1")] == ["k2"]

    def test_an_expired_or_released_timer_claim_passes_on(self, storage: Storage) -> None:
        timer = Timer("k1", _at(1), "sla", "t1")
        with storage.unit_of_work() as uow:
            uow.schedule_timer(timer)
            assert uow.claim_timers("p1", _at(2), _at(3)) == [timer]
            uow.commit()
        with storage.unit_of_work() as uow:  # p1 died: its lease ends at 3
            assert uow.claim_timers("p2", _at(4), _at(6)) == [timer]
            assert not uow.take_timer(timer, "p1")
            uow.release_timers(["k1"], "p2")
            assert uow.claim_timers("p3", _at(4), _at(6)) == [timer]
            uow.commit()

    def test_a_rescheduled_timer_is_not_taken_by_an_old_claim(self, storage: Storage) -> None:
        timer = Timer("k1", _at(1), "sla", "t1")
        with storage.unit_of_work() as uow:
            uow.schedule_timer(timer)
            uow.claim_timers("p1", _at(2), _at(3))
            moved = Timer("k1", _at(1) + timedelta(hours=1), "sla", "t1")
            uow.schedule_timer(moved)
            assert not uow.take_timer(timer, "p1")
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.timers_for("t1") == [moved]
