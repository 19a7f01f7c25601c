"""The storage contract on messages, history, customers, agents and teams."""

from __future__ import annotations

import itertools

import attrs
import pytest
from hypothesis import given

from ..domain._errors import (
    DuplicateError,
    NotFound,
    ValidationError,
)
from ..domain._model import (
    Agent,
    Customer,
    Direction,
    HistoryEntry,
    Identity,
    Message,
    Team,
)
from ..ports._storage import Storage
from . import strategies as sks
from ._contract_base import ContractBase, _at, _message

__all__ = ["RecordContract"]


class RecordContract(ContractBase):
    """The storage contract on messages, history, customers, agents and teams."""

    # -- messages and history -----------------------------------------------------------------
    def test_message_reads_back_equal(self, storage: Storage) -> None:
        @self.examples()
        @given(message=sks.messages())
        def check(message: Message) -> None:
            with storage.unit_of_work() as uow:
                uow.add_message(message)
                uow.commit()
            with storage.unit_of_work() as uow:
                assert uow.messages_for(message.ticket_id) == [message]
                if message.external_id is not None:
                    assert uow.find_message_by_external_id(message.external_id) == message

        check()

    def test_messages_are_listed_oldest_first_per_ticket(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            for n in range(5):
                uow.add_message(_message("t1", n, direction=list(Direction)[n % 3]))
                uow.add_message(_message("t2", n))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [m.id for m in uow.messages_for("t1")] == [f"t1-m{n}" for n in range(5)]
            assert [m.direction for m in uow.messages_for("t1")][:3] == list(Direction)
            assert len(uow.messages_for("t2")) == 5
            assert uow.messages_for("unknown") == []

    def test_message_is_found_by_its_external_id(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.add_message(_message("t1", 1, external_id="<a@mail>"))
            uow.add_message(_message("t1", 2))
            uow.commit()
        with storage.unit_of_work() as uow:
            found = uow.find_message_by_external_id("<a@mail>")
            assert found is not None
            assert found.id == "t1-m1"
            assert uow.find_message_by_external_id("<unknown@mail>") is None

    def test_duplicate_external_id_raises_duplicate_error_and_keeps_the_first(
        self, storage: Storage
    ) -> None:
        with storage.unit_of_work() as uow:
            uow.add_message(_message("t1", 1, external_id="<a@mail>"))
            uow.commit()
        with storage.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.add_message(_message("t2", 2, external_id="<a@mail>"))
        with storage.unit_of_work() as uow:
            assert uow.messages_for("t2") == []
            found = uow.find_message_by_external_id("<a@mail>")
            assert found is not None
            assert found.ticket_id == "t1"

    def test_a_delivered_message_gets_its_external_id(self, storage: Storage) -> None:
        reply = _message("t1", 1, direction=Direction.OUTBOUND)
        with storage.unit_of_work() as uow:
            uow.add_message(_message("t1", 0, external_id="<in@mail>"))
            uow.add_message(reply)
            uow.add_message(_message("t1", 2))
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.set_message_external_id(reply.id, "<out@desk>")
            uow.commit()
        with storage.unit_of_work() as uow:
            delivered = attrs.evolve(reply, external_id="<out@desk>")
            assert uow.find_message_by_external_id("<out@desk>") == delivered
            assert [m.id for m in uow.messages_for("t1")] == ["t1-m0", "t1-m1", "t1-m2"]
            assert uow.messages_for("t1")[1] == delivered
            assert uow.find_message_by_external_id("<in@mail>") is not None

    def test_setting_the_same_external_id_again_changes_nothing(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.add_message(_message("t1", 1))
            uow.commit()
        for _ in range(2):
            with storage.unit_of_work() as uow:
                uow.set_message_external_id("t1-m1", "<out@desk>")
                uow.commit()
        with storage.unit_of_work() as uow:
            assert [m.external_id for m in uow.messages_for("t1")] == ["<out@desk>"]

    def test_an_external_id_once_set_never_changes(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.add_message(_message("t1", 1, external_id="<first@desk>"))
            uow.commit()
        with storage.unit_of_work() as uow, pytest.raises(ValidationError, match="first@desk"):
            uow.set_message_external_id("t1-m1", "<second@desk>")
        with storage.unit_of_work() as uow:
            assert uow.find_message_by_external_id("<second@desk>") is None
            found = uow.find_message_by_external_id("<first@desk>")
            assert found is not None
            assert found.id == "t1-m1"

    def test_setting_an_external_id_of_another_message_raises_duplicate_error(
        self, storage: Storage
    ) -> None:
        with storage.unit_of_work() as uow:
            uow.add_message(_message("t1", 1, external_id="<taken@mail>"))
            uow.add_message(_message("t2", 2))
            uow.commit()
        with storage.unit_of_work() as uow, pytest.raises(DuplicateError, match="taken@mail"):
            uow.set_message_external_id("t2-m2", "<taken@mail>")
        with storage.unit_of_work() as uow:
            assert [m.external_id for m in uow.messages_for("t2")] == [None]
            found = uow.find_message_by_external_id("<taken@mail>")
            assert found is not None
            assert found.id == "t1-m1"

    def test_setting_the_external_id_of_an_unknown_message_raises_not_found(
        self, storage: Storage
    ) -> None:
        with storage.unit_of_work() as uow, pytest.raises(NotFound):
            uow.set_message_external_id("no-such-message", "<x@desk>")

    def test_a_rolled_back_external_id_is_forgotten(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.add_message(_message("t1", 1))
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.set_message_external_id("t1-m1", "<out@desk>")
            # leave without commit
        with storage.unit_of_work() as uow:
            assert uow.find_message_by_external_id("<out@desk>") is None
            assert [m.external_id for m in uow.messages_for("t1")] == [None]
            uow.set_message_external_id("t1-m1", "<other@desk>")
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [m.external_id for m in uow.messages_for("t1")] == ["<other@desk>"]

    def test_history_is_kept_in_order_per_ticket(self, storage: Storage) -> None:
        path = ["received", "registered", "diagnosing", "resolved", "diagnosing", "resolved"]
        entries = [
            HistoryEntry("t1", _at(i), "agent", "ev", a, b, f"step {i}")
            for i, (a, b) in enumerate(itertools.pairwise(path))
        ]
        with storage.unit_of_work() as uow:
            for e in entries:
                uow.add_history(e)
                uow.add_history(attrs.evolve(e, ticket_id="t2"))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.history_for("t1") == entries
            assert len(uow.history_for("t2")) == len(entries)
            assert uow.history_for("t3") == []

    def test_history_entry_reads_back_equal(self, storage: Storage) -> None:
        @self.examples()
        @given(entry=sks.history_entries())
        def check(entry: HistoryEntry) -> None:
            with storage.unit_of_work() as uow:
                uow.add_history(entry)
                uow.commit()
            with storage.unit_of_work() as uow:
                assert uow.history_for(entry.ticket_id) == [entry]

        check()

    # -- customers, agents, teams -------------------------------------------------------------
    def test_customer_reads_back_equal(self, storage: Storage) -> None:
        @self.examples()
        @given(customer=sks.customers())
        def check(customer: Customer) -> None:
            with storage.unit_of_work() as uow:
                uow.add_customer(customer)
                uow.commit()
            with storage.unit_of_work() as uow:
                assert uow.get_customer(customer.id) == customer
                for ident in customer.identities:
                    assert uow.find_customer_by_identity(ident) == customer

        check()

    def test_unknown_customer_raises_not_found(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.get_customer("nobody")
            assert uow.find_customer_by_identity(Identity("email", "x@example.com")) is None

    def test_customer_ids_are_unique(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.add_customer(Customer("c1", "Ann"))
            uow.commit()
        with storage.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.add_customer(Customer("c1", "Other Ann"))

    def test_an_identity_belongs_to_one_customer(self, storage: Storage) -> None:
        ann = Identity("email", "ann@example.com")
        with storage.unit_of_work() as uow:
            uow.add_customer(Customer("c1", "Ann", [ann]))
            uow.add_customer(Customer("c2", "Bob", [Identity("chat", "bob")]))
            uow.commit()
        with storage.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.add_customer(Customer("c3", "Impostor", [ann]))
        with storage.unit_of_work() as uow:
            bob = uow.get_customer("c2")
            bob.identities.append(ann)
            with pytest.raises(DuplicateError):
                uow.save_customer(bob)
        with storage.unit_of_work() as uow:
            found = uow.find_customer_by_identity(ann)
            assert found is not None
            assert found.id == "c1"
            with pytest.raises(NotFound):
                uow.get_customer("c3")
            assert uow.get_customer("c2").identities == [Identity("chat", "bob")]

    def test_saving_a_customer_moves_its_identities(self, storage: Storage) -> None:
        old, new = Identity("email", "old@example.com"), Identity("chat", "ann-chat")
        with storage.unit_of_work() as uow:
            uow.add_customer(Customer("c1", "Ann", [old]))
            uow.commit()
        with storage.unit_of_work() as uow:
            c = uow.get_customer("c1")
            c.identities = [new]
            c.name = "Ann B."
            c.merged_into = "c9"
            uow.save_customer(c)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.find_customer_by_identity(old) is None
            found = uow.find_customer_by_identity(new)
            assert found == c
            assert uow.get_customer("c1").merged_into == "c9"
        # the released identity may now be given to someone else
        with storage.unit_of_work() as uow:
            uow.add_customer(Customer("c2", "Other", [old]))
            uow.commit()

    def test_saving_an_unknown_customer_raises_not_found(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow, pytest.raises(NotFound):
            uow.save_customer(Customer("ghost", "Ghost"))

    def test_agents_and_teams_read_back_equal(self, storage: Storage) -> None:
        @self.examples()
        @given(agent=sks.agents(), team=sks.teams())
        def check(agent: Agent, team: Team) -> None:
            with storage.unit_of_work() as uow:
                uow.save_agent(agent)
                uow.save_team(team)
                uow.commit()
            with storage.unit_of_work() as uow:
                assert uow.get_agent(agent.id) == agent
                assert agent in uow.list_agents()
                assert team in uow.list_teams()

        check()

    def test_agents_and_teams_are_upserted(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.save_agent(Agent("a1", "Ann", tier="L1"))
            uow.save_agent(Agent("a2", "Bob"))
            uow.save_team(Team("t1", "Billing"))
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.save_agent(Agent("a1", "Ann", tier="L2", capacity=3))
            uow.save_team(Team("t1", "Billing and refunds", tier="L2"))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.get_agent("a1") == Agent("a1", "Ann", tier="L2", capacity=3)
            assert sorted(a.id for a in uow.list_agents()) == ["a1", "a2"]
            assert uow.list_teams() == [Team("t1", "Billing and refunds", tier="L2")]
            with pytest.raises(NotFound):
                uow.get_agent("nobody")
