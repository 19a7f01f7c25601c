"""The storage contract on the outbox, timers, raw inbound, keyed state and concurrency."""

from __future__ import annotations

import threading
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..domain._errors import (
    ConcurrencyConflict,
    NotFound,
)
from ..domain._events import DomainEvent, TicketReceived
from ..ports._storage import RawInbound, Storage, StoredEvent, TicketQuery, Timer
from . import strategies as sks
from ._contract_base import T0, ContractBase, _at, _event, _new_ticket

__all__ = ["OutboxContract"]


class OutboxContract(ContractBase):
    """The storage contract on the outbox, timers, raw inbound, keyed state and concurrency."""

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
