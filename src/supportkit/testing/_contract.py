"""The storage contract: the tests every storage backend must pass.

A backend author subclasses :class:`StorageContract` and overrides one
fixture, ``storage``, yielding a fresh, empty backend::

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def storage(self, tmp_path):
            s = MyStorage(tmp_path / "db")
            yield s
            s.close()

Optional behaviour is keyed on ``Storage.capabilities``: a test needing
``"transactions"`` (rollback) or ``"concurrent_writers"`` (two units of work
at once from two threads) skips, saying why, on a backend without it.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..domain._errors import (
    ConcurrencyConflict,
    DuplicateError,
    NotFound,
    TicketNotFound,
    ValidationError,
)
from ..domain._events import DomainEvent, MessageAdded, TicketReceived
from ..domain._model import (
    Agent,
    Customer,
    Direction,
    HistoryEntry,
    Identity,
    Message,
    Priority,
    Team,
    Ticket,
)
from ..ports._storage import RawInbound, Storage, StoredEvent, TicketQuery, Timer, UnitOfWork
from . import strategies as sks

__all__ = ["StorageContract"]

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


class StorageContract:
    """Base class of a backend's contract tests; override the ``storage`` fixture."""

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
        self.require(storage, "transactions")
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
        self.require(storage, "transactions")

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
        self.require(storage, "transactions")
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
        self.require(storage, "transactions")
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

    # -- the outbox -------------------------------------------------------------------------------
    def test_event_sequence_numbers_increase_across_units_of_work(self, storage: Storage) -> None:
        seqs: list[int] = []
        for n in range(3):
            with storage.unit_of_work() as uow:
                seqs += uow.add_events([_event("t1", n), _event("t2", n)])
                uow.commit()
        assert seqs == sorted(set(seqs))
        assert len(seqs) == 6

    def test_pending_events_until_marked_published(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            seqs = uow.add_events([_event("t1", n) for n in range(5)])
            uow.commit()
        with storage.unit_of_work() as uow:
            pending = uow.pending_events()
            assert [p.seq for p in pending] == seqs
            assert not any(p.published for p in pending)
            assert [p.seq for p in uow.pending_events(limit=2)] == seqs[:2]
            uow.mark_published(seqs[:3])
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [p.seq for p in uow.pending_events()] == seqs[3:]
            flags = {se.seq: se.published for se in uow.events_for("t1")}
            assert flags == {s: i < 3 for i, s in enumerate(seqs)}
            uow.mark_published(seqs)  # marking again is harmless
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.pending_events() == []

    def test_rolled_back_marking_leaves_events_pending_in_order(self, storage: Storage) -> None:
        self.require(storage, "transactions")
        with storage.unit_of_work() as uow:
            seqs = uow.add_events([_event("t1", n) for n in range(4)])
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.mark_published(seqs[:2])
            uow.rollback()
        with storage.unit_of_work() as uow:
            assert [p.seq for p in uow.pending_events()] == seqs
            assert not any(se.published for se in uow.events_for("t1"))

    def test_events_for_a_ticket_and_since_a_sequence(self, storage: Storage) -> None:
        events = [_event("t1", 0), _event("t2", 1), _event("t1", 2), _event("", 3)]
        with storage.unit_of_work() as uow:
            seqs = uow.add_events(events)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [se.event for se in uow.events_for("t1")] == [events[0], events[2]]
            assert uow.events_for("nobody") == []
            since = uow.events_since(seqs[0])
            assert [se.seq for se in since] == seqs[1:]
            assert [se.event for se in since] == events[1:]
            assert [se.seq for se in uow.events_since(seqs[0], limit=2)] == seqs[1:3]
            assert uow.events_since(seqs[-1]) == []
            assert [se.seq for se in uow.events_since(0)] == seqs

    def test_events_read_back_equal(self, storage: Storage) -> None:
        @self.examples()
        @given(events=st.lists(sks.domain_events(), min_size=1, max_size=5))
        def check(events: list[DomainEvent]) -> None:
            with storage.unit_of_work() as uow:
                seqs = uow.add_events(events)
                uow.commit()
            assert len(seqs) == len(events)
            with storage.unit_of_work() as uow:
                stored = uow.events_since(seqs[0] - 1, limit=len(events))
            assert stored == [StoredEvent(s, e) for s, e in zip(seqs, events, strict=True)]

        check()

    # -- timers ----------------------------------------------------------------------------------
    def test_timers_are_due_in_order_and_limited(self, storage: Storage) -> None:
        timers = [
            Timer("k3", _at(30), "sla.breach", "t1", {"target": "resolution"}),
            Timer("k1", _at(10), "sla.warning", "t1"),
            Timer("k2", _at(20), "reminder", "t2", {"n": [1, 2]}),
            Timer("k4", _at(40), "reminder", "t2"),
        ]
        with storage.unit_of_work() as uow:
            for t in timers:
                uow.schedule_timer(t)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.due_timers(_at(5)) == []
            assert [t.key for t in uow.due_timers(_at(20))] == ["k1", "k2"]  # inclusive
            assert [t.key for t in uow.due_timers(_at(100))] == ["k1", "k2", "k3", "k4"]
            assert [t.key for t in uow.due_timers(_at(100), limit=3)] == ["k1", "k2", "k3"]
            assert uow.due_timers(_at(100))[2] == timers[0]
            assert [t.key for t in uow.timers_for("t1")] == ["k1", "k3"]
            assert uow.timers_for("t3") == []

    def test_scheduling_the_same_key_replaces_the_timer(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.schedule_timer(Timer("k", _at(10), "sla.warning", "t1"))
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.schedule_timer(Timer("k", _at(50), "sla.breach", "t1", {"v": 2}))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.due_timers(_at(20)) == []
            assert uow.due_timers(_at(60)) == [Timer("k", _at(50), "sla.breach", "t1", {"v": 2})]
            assert len(uow.timers_for("t1")) == 1

    def test_cancelled_timers_never_fire(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.schedule_timer(Timer("a", _at(1), "reminder", "t1"))
            uow.schedule_timer(Timer("b", _at(2), "reminder", "t1"))
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.cancel_timer("a")
            uow.cancel_timer("never-scheduled")
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [t.key for t in uow.due_timers(_at(10))] == ["b"]
            assert [t.key for t in uow.timers_for("t1")] == ["b"]

    def test_timer_reads_back_equal(self, storage: Storage) -> None:
        @self.examples()
        @given(timer=sks.timers())
        def check(timer: Timer) -> None:
            with storage.unit_of_work() as uow:
                uow.schedule_timer(timer)
                uow.commit()
            with storage.unit_of_work() as uow:
                assert uow.timers_for(timer.ticket_id) == [timer]
                assert timer in uow.due_timers(timer.due_at, limit=100_000)
                uow.cancel_timer(timer.key)
                uow.commit()

        check()

    # -- raw inbound -------------------------------------------------------------------------------
    def test_raw_inbound_is_deduplicated_by_channel_and_external_id(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            assert uow.add_raw_inbound(RawInbound("r1", "email", _at(1), b"one", "<x@mail>"))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert not uow.add_raw_inbound(RawInbound("r2", "email", _at(2), b"two", "<x@mail>"))
            assert uow.add_raw_inbound(RawInbound("r3", "chat", _at(3), b"three", "<x@mail>"))
            assert uow.add_raw_inbound(RawInbound("r4", "email", _at(4), b"four"))
            assert uow.add_raw_inbound(RawInbound("r5", "email", _at(5), b"five"))
            uow.commit()
        with storage.unit_of_work() as uow:
            rows = uow.list_raw_inbound()
        assert [r.id for r in rows] == ["r1", "r3", "r4", "r5"]
        assert rows[0] == RawInbound("r1", "email", _at(1), b"one", "<x@mail>")

    def test_raw_inbound_status_is_updated_and_listed(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            for n in range(4):
                uow.add_raw_inbound(RawInbound(f"r{n}", "email", _at(n), b"\x00\xffbytes"))
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.update_raw_inbound("r1", "processed", ticket_id="t1")
            uow.update_raw_inbound("r2", "failed", error="cannot parse: no From header")
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [r.id for r in uow.list_raw_inbound("pending")] == ["r0", "r3"]
            assert [r.id for r in uow.list_raw_inbound("pending", limit=1)] == ["r0"]
            (processed,) = uow.list_raw_inbound("processed")
            assert (processed.id, processed.ticket_id) == ("r1", "t1")
            (failed,) = uow.list_raw_inbound("failed")
            assert failed.error == "cannot parse: no From header"
            assert failed.raw == b"\x00\xffbytes"
            assert uow.list_raw_inbound("ignored") == []
            with pytest.raises(NotFound):
                uow.update_raw_inbound("nope", "processed")

    def test_raw_inbound_reads_back_equal(self, storage: Storage) -> None:
        @self.examples()
        @given(raw=sks.raw_inbound())
        def check(raw: RawInbound) -> None:
            with storage.unit_of_work() as uow:
                assert uow.add_raw_inbound(raw)
                uow.update_raw_inbound(raw.id, "ignored", error=raw.id)
                uow.commit()
            with storage.unit_of_work() as uow:
                rows = [r for r in uow.list_raw_inbound("ignored", limit=100_000) if r.id == raw.id]
            assert rows == [attrs.evolve(raw, status="ignored", error=raw.id)]

        check()

    # -- kv -------------------------------------------------------------------------------------------
    def test_kv_values_are_kept_per_namespace(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            assert uow.kv_get("routing", "cursor") is None
            uow.kv_put("routing", "cursor", 3)
            uow.kv_put("routing", "a", {"x": [1, None, "y"]})
            uow.kv_put("email", "cursor", "uid:42")
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.kv_put("routing", "cursor", 4)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.kv_get("routing", "cursor") == 4
            assert uow.kv_get("email", "cursor") == "uid:42"
            assert uow.kv_items("routing") == [("a", {"x": [1, None, "y"]}), ("cursor", 4)]
            assert uow.kv_items("nothing") == []

    def test_kv_value_reads_back_equal(self, storage: Storage) -> None:
        @self.examples()
        @given(key=sks.short_text(), value=sks.json_values().filter(lambda v: v is not None))
        def check(key: str, value: Any) -> None:
            with storage.unit_of_work() as uow:
                uow.kv_put("prop", key, value)
                uow.commit()
            with storage.unit_of_work() as uow:
                assert uow.kv_get("prop", key) == value

        check()

    # -- concurrency ----------------------------------------------------------------------------------
    def test_two_concurrent_writers_of_one_version_one_wins(self, storage: Storage) -> None:
        self.require(storage, "concurrent_writers")
        t = self.add(storage)
        loaded = threading.Barrier(2, timeout=10)
        outcomes: dict[str, object] = {}

        def writer(name: str) -> None:
            try:
                with storage.unit_of_work() as uow:
                    mine = uow.get_ticket(t.id)
                    loaded.wait()
                    mine.subject = name
                    uow.save_ticket(mine, mine.version)
                    uow.commit()
                outcomes[name] = "saved"
            except Exception as exc:  # recorded and asserted below
                outcomes[name] = exc

        threads = [threading.Thread(target=writer, args=(n,)) for n in ("first", "second")]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert not any(th.is_alive() for th in threads), "a writer is stuck (deadlock?)"
        winners = [n for n, o in outcomes.items() if o == "saved"]
        losers = [o for o in outcomes.values() if o != "saved"]
        assert len(winners) == 1, outcomes
        assert len(losers) == 1
        assert isinstance(losers[0], ConcurrencyConflict), repr(losers[0])
        with storage.unit_of_work() as uow:
            stored = uow.get_ticket(t.id)
        assert stored.version == 2
        assert stored.subject == winners[0]

    def test_concurrent_read_modify_write_loses_no_update(self, storage: Storage) -> None:
        """Threads retrying on ConcurrencyConflict never lose an increment."""
        t = self.add(storage, custom_fields={"n": 0})
        threads_n, increments = 4, 5
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(increments):
                    for _attempt in range(200):
                        try:
                            with storage.unit_of_work() as uow:
                                mine = uow.get_ticket(t.id)
                                mine.custom_fields["n"] += 1
                                uow.save_ticket(mine, mine.version)
                                uow.commit()
                            break
                        except ConcurrencyConflict:
                            continue
                    else:  # pragma: no cover - reported below
                        raise AssertionError("200 conflicts in a row")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(threads_n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert errors == []
        with storage.unit_of_work() as uow:
            stored = uow.get_ticket(t.id)
        assert stored.custom_fields["n"] == threads_n * increments
        assert stored.version == 1 + threads_n * increments

    def test_units_of_work_in_many_threads_lose_nothing(self, storage: Storage) -> None:
        """Sequential or parallel, every committed event and ticket is kept."""
        errors: list[BaseException] = []

        def work(k: int) -> None:
            try:
                for n in range(5):
                    with storage.unit_of_work() as uow:
                        t = _new_ticket(uow)
                        t = attrs.evolve(t, id=f"w{k}-{n}")
                        uow.add_ticket(t)
                        uow.add_events([TicketReceived(t.id, T0, t.number, "email", "c", "s")])
                        uow.commit()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert errors == []
        with storage.unit_of_work() as uow:
            assert uow.count_tickets(TicketQuery()) == 20
            seqs = [se.seq for se in uow.events_since(0)]
        assert len(seqs) == 20
        assert seqs == sorted(set(seqs))
