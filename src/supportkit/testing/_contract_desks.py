"""The storage contract's part on many desks in one database (capability ``"desks"``).

Two views of one database, ``storage`` (desk "a", fresh) and
``storage.for_desk("b")``, each write what a desk writes; neither may
read, find, count, update or delete the other's rows, and the natural keys
a host chooses (agent and team ids, customer identities, external message
ids, timer keys, keyed state) are per desk, so the same value is free in
both.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ..domain._errors import ConfigurationError, NotFound, TicketNotFound
from ..domain._model import Agent, Customer, Identity, Team
from ..ports import SlaClockRecord, StoredDelivery
from ..ports._storage import RawInbound, Storage, StoredEvent, TicketQuery, Timer
from ._contract_base import ContractBase, _at, _event, _message, _new_ticket

__all__ = ["DeskContract"]


def _customer(cid: str, address: str) -> Customer:
    return Customer(id=cid, name=cid, identities=[Identity("email", address)])


class DeskContract(ContractBase):
    """Desk A never sees desk B's rows; both may use the same natural keys."""

    def _two(self, storage: Storage) -> tuple[Storage, Storage]:
        self.require(storage, "desks")
        return storage, storage.for_desk("desk-b")

    def _fill(self, s: Storage, tag: str, number: int) -> str:
        """A desk's worth of rows; returns its ticket id."""
        with s.unit_of_work() as uow:
            t = _new_ticket(uow, id=f"{tag}-t", number=number, customer_id=f"{tag}-c")
            uow.add_ticket(t)
            uow.add_message(_message(t.id, 1, id=f"{tag}-m1", external_id="<same@mail>"))
            uow.add_customer(_customer(f"{tag}-c", "same@example.com"))
            uow.save_agent(Agent(id="ann", name=f"Ann of {tag}"))
            uow.save_team(Team(id="support", name=f"Support of {tag}"))
            uow.add_events([_event(t.id, 1)])
            uow.schedule_timer(Timer("sla:1", _at(5), "sla", t.id, {"desk": tag}))
            uow.add_raw_inbound(RawInbound(f"{tag}-r", "email", _at(0), b"raw", "<same@mail>"))
            uow.kv_put("routing", "cursor", {"desk": tag})
            uow.commit()
        return t.id

    def test_desk_keys_are_checked(self, storage: Storage) -> None:
        self.require(storage, "desks")
        for bad in ("", " b", "b/../a", "x" * 65, "a b"):
            with pytest.raises(ConfigurationError, match="desk key"):
                storage.for_desk(bad)

    def test_a_desk_never_reads_finds_or_counts_another_desks_tickets(
        self, storage: Storage
    ) -> None:
        a, b = self._two(storage)
        ta = self._fill(a, "a", 1)
        with b.unit_of_work() as uow:
            with pytest.raises(TicketNotFound):
                uow.get_ticket(ta)
            with pytest.raises(TicketNotFound):
                uow.get_ticket_by_number(1)
            assert uow.find_tickets(TicketQuery()) == []
            assert uow.find_tickets(TicketQuery(customer_id="a-c")) == []
            assert uow.count_tickets(TicketQuery()) == 0
            assert uow.messages_for(ta) == []
            assert uow.history_for(ta) == []
            assert uow.events_for(ta) == []
            assert uow.timers_for(ta) == []
        with a.unit_of_work() as uow:
            assert [t.id for t in uow.find_tickets(TicketQuery())] == [ta]
            assert uow.count_tickets(TicketQuery()) == 1

    def test_a_desk_never_updates_another_desks_ticket(self, storage: Storage) -> None:
        a, b = self._two(storage)
        ta = self._fill(a, "a", 1)
        with a.unit_of_work() as uow:
            ticket = uow.get_ticket(ta)
        ticket.subject = "written by desk b"
        with b.unit_of_work() as uow, pytest.raises(TicketNotFound):
            uow.save_ticket(ticket, ticket.version)
        with a.unit_of_work() as uow:
            assert uow.get_ticket(ta).subject != "written by desk b"

    def test_customers_and_identities_are_per_desk(self, storage: Storage) -> None:
        a, b = self._two(storage)
        self._fill(a, "a", 1)
        with b.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.get_customer("a-c")
            assert uow.find_customer_by_identity(Identity("email", "same@example.com")) is None
        self._fill(b, "b", 2)  # the same address is free in desk b
        for s, tag in ((a, "a"), (b, "b")):
            with s.unit_of_work() as uow:
                found = uow.find_customer_by_identity(Identity("email", "same@example.com"))
                assert found is not None
                assert found.id == f"{tag}-c"

    def test_agents_and_teams_are_per_desk(self, storage: Storage) -> None:
        a, b = self._two(storage)
        self._fill(a, "a", 1)
        with b.unit_of_work() as uow:
            assert uow.list_agents() == []
            assert uow.list_teams() == []
            with pytest.raises(NotFound):
                uow.get_agent("ann")
        self._fill(b, "b", 2)
        for s, tag in ((a, "a"), (b, "b")):
            with s.unit_of_work() as uow:
                assert [x.name for x in uow.list_agents()] == [f"Ann of {tag}"]
                assert [x.name for x in uow.list_teams()] == [f"Support of {tag}"]

    def test_outbox_timers_raw_inbound_and_keyed_state_are_per_desk(self, storage: Storage) -> None:
        a, b = self._two(storage)
        ta = self._fill(a, "a", 1)
        later = _at(60)
        seqs_of_a = [se.seq for se in self._pending(a)]
        with b.unit_of_work() as uow:
            assert uow.pending_events() == []
            assert uow.events_since(0) == []
            assert uow.due_timers(later) == []
            assert uow.list_raw_inbound() == []
            assert uow.kv_get("routing", "cursor") is None
            assert uow.kv_items("routing") == []
            assert uow.find_message_by_external_id("<same@mail>") is None
            uow.mark_published(seqs_of_a)  # marks nothing of a's
            uow.cancel_timer("sla:1")  # cancels nothing of a's
            uow.commit()
        assert len(self._pending(a)) == 1
        tb = self._fill(b, "b", 2)  # same timer key, raw external id, message external id
        for s, tag, tid in ((a, "a", ta), (b, "b", tb)):
            with s.unit_of_work() as uow:
                assert [t.payload for t in uow.due_timers(later)] == [{"desk": tag}]
                assert [r.id for r in uow.list_raw_inbound()] == [f"{tag}-r"]
                assert uow.kv_get("routing", "cursor") == {"desk": tag}
                found = uow.find_message_by_external_id("<same@mail>")
                assert found is not None
                assert found.ticket_id == tid
                assert {se.event.ticket_id for se in uow.pending_events()} == {tid}
                assert {se.event.ticket_id for se in uow.events_since(0)} == {tid}

    def test_a_desk_cannot_change_another_desks_raw_inbound_or_customer(
        self, storage: Storage
    ) -> None:
        a, b = self._two(storage)
        self._fill(a, "a", 1)
        with b.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.update_raw_inbound("a-r", "processed")
            with pytest.raises(NotFound):
                uow.save_customer(_customer("a-c", "other@example.com"))

    def _pending(self, s: Storage) -> list[StoredEvent]:
        with s.unit_of_work() as uow:
            return list(uow.pending_events())

    def test_timers_due_in_one_desk_are_not_due_in_another(self, storage: Storage) -> None:
        a, b = self._two(storage)
        with a.unit_of_work() as uow:
            uow.schedule_timer(Timer("only-a", _at(1), "sla", "t1"))
            uow.commit()
        with b.unit_of_work() as uow:
            assert uow.due_timers(_at(1) + timedelta(days=1)) == []

    def test_sla_clocks_deliveries_and_feedback_tokens_are_per_desk(self, storage: Storage) -> None:
        a, b = self._two(storage)
        with a.unit_of_work() as uow:
            uow.put_sla_clock(SlaClockRecord("t1:frt", "t1", "frt", {"desk": "a"}))
            uow.put_delivery(StoredDelivery("d1", "t1", "pending", {"desk": "a"}))
            uow.index_external_id("<out@mail>", "t1", "d1")
            assert uow.claim_feedback_token("tok", "t1", _at(1))
            uow.commit()
        with b.unit_of_work() as uow:
            assert uow.get_sla_clock("t1:frt") is None
            assert uow.sla_clocks_for("t1") == []
            assert uow.sla_clocks_after(None) == []
            assert uow.get_delivery("d1") is None
            assert uow.ticket_for_external_id("<out@mail>") is None
            assert uow.get_feedback_token("tok") is None
            assert uow.claim_feedback_token("tok", "t9", _at(2))  # free in desk b
            uow.commit()
        with a.unit_of_work() as uow:
            token = uow.get_feedback_token("tok")
            assert token is not None
            assert token.ticket_id == "t1"

    def test_raw_inbound_claims_are_per_desk(self, storage: Storage) -> None:
        a, b = self._two(storage)
        self._fill(a, "a", 1)
        with b.unit_of_work() as uow:
            assert uow.claimable_raw_inbound(_at(1)) == []
            assert uow.claim_raw_inbound("a-r", _at(1), _at(2)) is None
            assert uow.raw_inbound_by_key("email", "<same@mail>") is None
            uow.commit()
        with a.unit_of_work() as uow:
            claimed = uow.claim_raw_inbound("a-r", _at(1), _at(2))
            assert claimed is not None
            assert claimed.id == "a-r"
