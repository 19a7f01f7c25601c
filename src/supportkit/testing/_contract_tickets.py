"""The storage contract on tickets: add, get, save with versions, rollback, finding."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..domain._errors import (
    ConcurrencyConflict,
    DuplicateError,
    NotFound,
    TicketNotFound,
)
from ..domain._model import (
    Agent,
    Customer,
    HistoryEntry,
    Identity,
    Priority,
    Team,
    Ticket,
)
from ..ports._storage import RawInbound, Storage, TicketQuery, Timer, UnitOfWork
from . import strategies as sks
from ._contract_base import T0, ContractBase, _event, _message, _new_ticket

__all__ = ["TicketContract"]


class TicketContract(ContractBase):
    """The storage contract on tickets: add, get, save with versions, rollback, finding."""

    # -- tickets --------------------------------------------------------------------------
    def test_storage_is_a_storage(self, storage: Storage) -> None:
        assert isinstance(storage, Storage)
        assert isinstance(storage.capabilities, frozenset)
        with storage.unit_of_work() as uow:
            assert isinstance(uow, UnitOfWork)

    def test_ticket_numbers_are_unique_and_increasing(self, storage: Storage) -> None:
        numbers = []
        for _ in range(3):
            with storage.unit_of_work() as uow:
                numbers.append(uow.next_ticket_number())
                numbers.append(uow.next_ticket_number())
                uow.commit()
        assert numbers == sorted(set(numbers))
        assert numbers[0] >= 1

    def test_added_ticket_reads_back_equal_at_version_1(self, storage: Storage) -> None:
        @self.examples()
        @given(ticket=sks.tickets())
        def check(ticket: Ticket) -> None:
            with storage.unit_of_work() as uow:
                ticket = attrs.evolve(ticket, number=uow.next_ticket_number())
                uow.add_ticket(ticket)
                uow.commit()
            assert ticket.version == 1
            with storage.unit_of_work() as uow:
                by_id = uow.get_ticket(ticket.id)
                by_number = uow.get_ticket_by_number(ticket.number)
            assert by_id == ticket
            assert by_number == ticket
            assert by_id.events == []

        check()

    def test_unknown_ticket_raises_ticket_not_found(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow, pytest.raises(TicketNotFound):
            uow.get_ticket("no-such-ticket")
        with storage.unit_of_work() as uow, pytest.raises(TicketNotFound):
            uow.get_ticket_by_number(999_999)

    def test_duplicate_ticket_id_raises_duplicate_error(self, storage: Storage) -> None:
        t = self.add(storage)
        with storage.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.add_ticket(attrs.evolve(t, number=uow.next_ticket_number()))

    def test_duplicate_ticket_number_raises_duplicate_error(self, storage: Storage) -> None:
        t = self.add(storage)
        with storage.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.add_ticket(attrs.evolve(t, id="another-id"))

    def test_save_increments_the_version_and_stores_the_change(self, storage: Storage) -> None:
        t = self.add(storage)
        with storage.unit_of_work() as uow:
            loaded = uow.get_ticket(t.id)
            loaded.status = "diagnosing"
            loaded.assignee_id = "a1"
            loaded.tags = frozenset({"vip", "billing"})
            loaded.custom_fields = {"order": 42, "nested": {"a": [1, "b"]}}
            uow.save_ticket(loaded, expected_version=1)
            assert loaded.version == 2
            uow.commit()
        with storage.unit_of_work() as uow:
            stored = uow.get_ticket(t.id)
        assert stored == loaded
        assert stored.version == 2

    def test_stale_write_raises_conflict_and_changes_nothing(self, storage: Storage) -> None:
        t = self.add(storage)
        with storage.unit_of_work() as uow:
            first = uow.get_ticket(t.id)
            uow.commit()
        with storage.unit_of_work() as uow:
            second = uow.get_ticket(t.id)
            second.subject = "winner"
            uow.save_ticket(second, 1)
            uow.commit()
        first.subject = "loser"
        with storage.unit_of_work() as uow, pytest.raises(ConcurrencyConflict) as info:
            uow.save_ticket(first, 1)
        assert info.value.expected == 1
        assert first.version == 1
        with storage.unit_of_work() as uow:
            stored = uow.get_ticket(t.id)
        assert stored.subject == "winner"
        assert stored.version == 2

    def test_saving_an_unknown_ticket_fails(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            t = _new_ticket(uow)
            with pytest.raises((TicketNotFound, ConcurrencyConflict)):
                uow.save_ticket(t, 1)

    def test_mutating_a_loaded_ticket_does_not_change_the_stored_one(
        self, storage: Storage
    ) -> None:
        t = self.add(storage)
        with storage.unit_of_work() as uow:
            loaded = uow.get_ticket(t.id)
            loaded.subject = "changed but never saved"
            loaded.custom_fields["x"] = 1
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.get_ticket(t.id) == t

    # -- rollback ---------------------------------------------------------------------------
    def test_rollback_discards_everything(self, storage: Storage) -> None:
        t = self.add(storage)
        with storage.unit_of_work() as uow:
            uow.add_customer(Customer("c-keep", "Kept", [Identity("email", "keep@example.com")]))
            uow.kv_put("ns", "k", {"v": 1})
            uow.commit()
        with storage.unit_of_work() as uow:
            seq_before = max((e.seq for e in uow.events_since(0)), default=0)
        with storage.unit_of_work() as uow:
            new = _new_ticket(uow)
            uow.add_ticket(new)
            loaded = uow.get_ticket(t.id)
            loaded.status = "resolved"
            uow.save_ticket(loaded, 1)
            uow.add_message(_message(t.id, 1, external_id="<rolled-back@x>"))
            uow.add_history(HistoryEntry(t.id, T0, "a", "resolve", "registered", "resolved"))
            uow.add_events([_event(t.id, 1), _event(new.id, 2)])
            uow.schedule_timer(Timer("tm", T0, "sla.breach", t.id))
            uow.kv_put("ns", "k", {"v": 2})
            uow.kv_put("ns", "k2", 3)
            uow.add_raw_inbound(RawInbound("r1", "email", T0, b"raw", "<raw@x>"))
            uow.add_customer(Customer("c-new", "New", [Identity("email", "new@example.com")]))
            keep = uow.get_customer("c-keep")
            keep.identities = [Identity("email", "other@example.com")]
            uow.save_customer(keep)
            uow.save_agent(Agent("a1", "Agent"))
            uow.save_team(Team("team1", "Team"))
            # leave without commit
        with storage.unit_of_work() as uow:
            with pytest.raises(TicketNotFound):
                uow.get_ticket(new.id)
            assert uow.get_ticket(t.id) == t
            assert uow.messages_for(t.id) == []
            assert uow.find_message_by_external_id("<rolled-back@x>") is None
            assert uow.history_for(t.id) == []
            assert uow.events_since(seq_before) == []
            assert uow.events_for(t.id) == []
            assert uow.timers_for(t.id) == []
            assert uow.due_timers(T0 + timedelta(days=1)) == []
            assert uow.kv_get("ns", "k") == {"v": 1}
            assert uow.kv_items("ns") == [("k", {"v": 1})]
            assert uow.list_raw_inbound() == []
            with pytest.raises(NotFound):
                uow.get_customer("c-new")
            assert uow.find_customer_by_identity(Identity("email", "new@example.com")) is None
            assert uow.get_customer("c-keep").identities == [Identity("email", "keep@example.com")]
            assert uow.find_customer_by_identity(Identity("email", "other@example.com")) is None
            assert uow.list_agents() == []
            assert uow.list_teams() == []
            assert uow.count_tickets(TicketQuery()) == 1
        # a rolled-back raw inbound message no longer blocks its channel + external id
        with storage.unit_of_work() as uow:
            assert uow.add_raw_inbound(RawInbound("r1", "email", T0, b"raw", "<raw@x>"))

    def test_an_exception_in_the_block_rolls_back(self, storage: Storage) -> None:

        class Boom(Exception):
            pass

        def fail() -> None:
            with storage.unit_of_work() as uow:
                uow.add_ticket(_new_ticket(uow, id="boom"))
                raise Boom

        with pytest.raises(Boom):
            fail()
        with storage.unit_of_work() as uow, pytest.raises(TicketNotFound):
            uow.get_ticket("boom")

    def test_explicit_rollback_discards_writes(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.kv_put("ns", "k", 1)
            uow.rollback()
        with storage.unit_of_work() as uow:
            assert uow.kv_get("ns", "k") is None

    # -- finding tickets ------------------------------------------------------------------
    @pytest.fixture
    def populated(self, storage: Storage) -> list[Ticket]:
        """Six tickets with varied fields, numbers 1..6 in insertion order."""
        specs: list[dict[str, Any]] = [
            {
                "status": "registered",
                "customer_id": "ann",
                "channel": "email",
                "subject": "Invoice is WRONG",
                "priority": Priority.HIGH,
                "tags": frozenset({"vip", "invoice"}),
            },
            {
                "status": "diagnosing",
                "customer_id": "bob",
                "channel": "chat",
                "subject": "Cannot log in",
                "assignee_id": "agent1",
                "team_id": "billing",
            },
            {
                "status": "resolved",
                "customer_id": "ann",
                "channel": "chat",
                "subject": "wrong invoice again",
                "assignee_id": "agent2",
                "tier": "L2",
            },
            {
                "status": "closed",
                "customer_id": "bob",
                "channel": "email",
                "subject": "Счёт неверный",
                "team_id": "billing",
                "priority": Priority.LOW,
            },
            {
                "status": "diagnosing",
                "customer_id": "cid",
                "channel": "phone",
                "subject": "Login problem",
                "assignee_id": "agent1",
                "tier": "L3",
                "priority": Priority.URGENT,
                "tags": frozenset({"vip", "a_b"}),
            },
            {
                "status": "waiting_on_customer",
                "customer_id": "ann",
                "channel": "web",
                "subject": "Refund",
                "team_id": "support",
            },
        ]
        return [self.add(storage, **spec) for spec in specs]

    def _find(self, storage: Storage, **q: Any) -> list[str]:
        with storage.unit_of_work() as uow:
            query = TicketQuery(**q)
            found = uow.find_tickets(query)
            count = uow.count_tickets(attrs.evolve(query, limit=10_000, offset=0))
        assert count >= len(found)
        if query.offset == 0 and query.limit >= count:
            assert count == len(found)
        return [t.subject for t in found]

    def test_find_tickets_is_newest_first_by_default(
        self, storage: Storage, populated: list[Ticket]
    ) -> None:
        subjects = [t.subject for t in populated]
        assert self._find(storage) == subjects[::-1]
        assert self._find(storage, oldest_first=True) == subjects

    def test_find_tickets_returns_the_stored_tickets(
        self, storage: Storage, populated: list[Ticket]
    ) -> None:
        with storage.unit_of_work() as uow:
            found = uow.find_tickets(TicketQuery(oldest_first=True))
        assert found == populated

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"status": "diagnosing"}, ["Login problem", "Cannot log in"]),
            ({"status": ["resolved", "closed"]}, ["Счёт неверный", "wrong invoice again"]),
            ({"status": []}, []),
            ({"customer_id": "ann"}, ["Refund", "wrong invoice again", "Invoice is WRONG"]),
            ({"assignee_id": "agent1"}, ["Login problem", "Cannot log in"]),
            ({"team_id": "billing"}, ["Счёт неверный", "Cannot log in"]),
            ({"tier": "L2"}, ["wrong invoice again"]),
            ({"priority": Priority.URGENT}, ["Login problem"]),
            ({"priority": Priority.NORMAL}, ["Refund", "wrong invoice again", "Cannot log in"]),
            ({"channel": "chat"}, ["wrong invoice again", "Cannot log in"]),
            ({"text": "invoice"}, ["wrong invoice again", "Invoice is WRONG"]),
            ({"text": "неверн"}, ["Счёт неверный"]),
            ({"text": "no such words"}, []),
            ({"customer_id": "bob", "status": "closed"}, ["Счёт неверный"]),
            ({"customer_id": "ann", "channel": "chat", "tier": "L2"}, ["wrong invoice again"]),
            ({"assignee_id": "agent1", "tier": "L1"}, ["Cannot log in"]),
            ({"customer_id": "nobody"}, []),
            ({"team_ids": ["billing", "support"]}, ["Refund", "Счёт неверный", "Cannot log in"]),
            ({"team_ids": [None]}, ["Login problem", "wrong invoice again", "Invoice is WRONG"]),
            (
                {"team_ids": ["support", None]},
                ["Refund", "Login problem", "wrong invoice again", "Invoice is WRONG"],
            ),
            ({"team_ids": []}, []),
            ({"tag": "vip"}, ["Login problem", "Invoice is WRONG"]),
            ({"tag": "invoice"}, ["Invoice is WRONG"]),
            ({"tag": "vi"}, []),
            ({"tag": "a_b"}, ["Login problem"]),
            ({"tag": "axb"}, []),
            ({"before_number": 4}, ["wrong invoice again", "Cannot log in", "Invoice is WRONG"]),
            ({"after_number": 4, "oldest_first": True}, ["Login problem", "Refund"]),
            ({"after_number": 2, "before_number": 5}, ["Счёт неверный", "wrong invoice again"]),
            ({"team_ids": ["billing"], "before_number": 4}, ["Cannot log in"]),
        ],
        ids=lambda v: repr(v) if isinstance(v, dict) else "",
    )
    def test_find_tickets_filters(
        self,
        storage: Storage,
        populated: list[Ticket],
        query: dict[str, Any],
        expected: list[str],
    ) -> None:
        assert self._find(storage, **query) == expected

    def test_find_tickets_resolved_before_an_instant(self, storage: Storage) -> None:
        at = [T0 + timedelta(hours=h) for h in range(3)]
        early = self.add(storage, status="resolved", subject="early", resolved_at=at[0])
        self.add(storage, status="resolved", subject="late", resolved_at=at[2])
        self.add(storage, status="registered", subject="open")
        assert self._find(storage, resolved_before=at[1]) == ["early"]
        assert self._find(storage, resolved_before=at[0]) == []  # strictly before
        assert self._find(storage, resolved_before=at[2] + timedelta(seconds=1)) == [
            "late",
            "early",
        ]
        with storage.unit_of_work() as uow:  # the stored instant round-trips exactly
            assert uow.get_ticket(early.id).resolved_at == at[0]

    def test_find_tickets_pages_with_limit_and_offset(
        self, storage: Storage, populated: list[Ticket]
    ) -> None:
        subjects = [t.subject for t in populated][::-1]
        assert self._find(storage, limit=2) == subjects[:2]
        assert self._find(storage, limit=2, offset=2) == subjects[2:4]
        assert self._find(storage, limit=10, offset=5) == subjects[5:]
        assert self._find(storage, offset=6) == []
        assert self._find(storage, limit=0) == []
        assert self._find(storage, limit=2, offset=1, oldest_first=True) == subjects[::-1][1:3]

    def test_count_tickets_ignores_limit_and_offset(
        self, storage: Storage, populated: list[Ticket]
    ) -> None:
        with storage.unit_of_work() as uow:
            assert uow.count_tickets(TicketQuery()) == 6
            assert uow.count_tickets(TicketQuery(limit=1, offset=3)) == 6
            assert uow.count_tickets(TicketQuery(customer_id="ann")) == 3
            assert uow.count_tickets(TicketQuery(status=("diagnosing", "closed"))) == 3

    def test_find_tickets_sees_saved_changes(
        self, storage: Storage, populated: list[Ticket]
    ) -> None:
        with storage.unit_of_work() as uow:
            t = uow.get_ticket(populated[0].id)
            t.status = "closed"
            t.assignee_id = "agent9"
            t.customer_id = "zed"
            uow.save_ticket(t, 1)
            uow.commit()
        assert self._find(storage, status="registered") == []
        assert self._find(storage, assignee_id="agent9") == ["Invoice is WRONG"]
        assert self._find(storage, customer_id="zed") == ["Invoice is WRONG"]
        assert "Invoice is WRONG" not in self._find(storage, customer_id="ann")

    def test_find_and_count_agree_with_a_plain_filter(self, storage: Storage) -> None:
        @self.examples()
        @given(
            data=st.data(),
            specs=st.lists(
                st.fixed_dictionaries(
                    {
                        "status": st.sampled_from(("registered", "diagnosing", "closed")),
                        "assignee_id": st.sampled_from((None, "a1", "a2")),
                        "tier": st.sampled_from(("L1", "L2")),
                        "priority": st.sampled_from(Priority),
                        "channel": st.sampled_from(("email", "chat")),
                        "subject": st.sampled_from(("Invoice", "login", "INVOICE wrong", "")),
                    }
                ),
                max_size=8,
            ),
        )
        def check(data: st.DataObject, specs: list[dict[str, Any]]) -> None:
            customer = f"c-{uuid.uuid4().hex}"  # examples share the storage
            with storage.unit_of_work() as uow:
                stored = []
                for spec in specs:
                    t = _new_ticket(uow, customer_id=customer, **spec)
                    t = attrs.evolve(t, id=f"{customer}-{t.number}")
                    uow.add_ticket(t)
                    stored.append(t)
                uow.commit()
            query = TicketQuery(
                customer_id=customer,
                status=data.draw(st.none() | st.sampled_from(("registered", "closed"))),
                assignee_id=data.draw(st.none() | st.sampled_from(("a1", "a2"))),
                tier=data.draw(st.none() | st.just("L2")),
                priority=data.draw(st.none() | st.sampled_from(Priority)),
                channel=data.draw(st.none() | st.just("chat")),
                text=data.draw(st.none() | st.sampled_from(("invoice", "LOGIN"))),
                limit=data.draw(st.integers(0, 10)),
                offset=data.draw(st.integers(0, 3)),
                oldest_first=data.draw(st.booleans()),
            )
            statuses = query.statuses()
            expected = [
                t
                for t in stored
                if (statuses is None or t.status in statuses)
                and (query.assignee_id is None or t.assignee_id == query.assignee_id)
                and (query.tier is None or t.tier == query.tier)
                and (query.priority is None or t.priority == query.priority)
                and (query.channel is None or t.channel == query.channel)
                and (query.text is None or query.text.lower() in t.subject.lower())
            ]
            expected.sort(key=lambda t: t.number, reverse=not query.oldest_first)
            with storage.unit_of_work() as uow:
                found = uow.find_tickets(query)
                count = uow.count_tickets(query)
            assert [t.id for t in found] == [
                t.id for t in expected[query.offset : query.offset + query.limit]
            ]
            assert count == len(expected)

        check()
