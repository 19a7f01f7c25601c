"""The storage contract for the typed-record ports: SLA clocks, deliveries, feedback tokens
and answers, automatic acknowledgements."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from ..domain._errors import TransientStorageError
from ..ports._storage import (
    Cursor,
    FeedbackAnswer,
    SlaClockRecord,
    Storage,
    StoredDelivery,
    UnitOfWork,
)
from ._contract_base import ContractBase, _at

__all__ = ["TypedRecordContract"]


def _clock(ticket_id: str, kind: str, **fields: object) -> SlaClockRecord:
    data = {"ticket_id": ticket_id, "kind": kind, "state": "running", "consumed_us": 0}
    base: dict[str, object] = {"key": f"{ticket_id}:{kind}", "data": data}
    base.update(fields)
    return SlaClockRecord(ticket_id=ticket_id, kind=kind, **base)  # type: ignore[arg-type]


class TypedRecordContract(ContractBase):
    """SLA clocks, deliveries, feedback tokens and answers, acknowledgements: round trips,
    order, replacement, claims decided by the database."""

    def test_sla_clocks_round_trip_replace_and_list_per_ticket(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            assert uow.get_sla_clock("t1:resolution") is None
            uow.put_sla_clock(_clock("t1", "resolution"))
            uow.put_sla_clock(_clock("t1", "first_response"))
            uow.put_sla_clock(_clock("t2", "resolution", excluded=True))
            old = _clock("t1", "next_response", key="t1:next_response:2026", archived=True)
            uow.put_sla_clock(old)
            # reads its own writes, and a replacement keeps one row per key
            uow.put_sla_clock(_clock("t1", "resolution", data={"state": "paused", "n": [1]}))
            uow.commit()
        with storage.unit_of_work() as uow:
            got = uow.get_sla_clock("t1:resolution")
            assert got is not None
            assert got.data == {"state": "paused", "n": [1]}
            assert [r.key for r in uow.sla_clocks_for("t1")] == [
                "t1:first_response",
                "t1:resolution",
            ]
            assert uow.sla_clocks_for("nobody") == []
            assert uow.get_sla_clock("t1:next_response:2026") == old
            t2 = uow.get_sla_clock("t2:resolution")
            assert t2 is not None
            assert t2.excluded
            assert not t2.archived

    def test_sla_clocks_page_through_every_clock_in_key_order(self, storage: Storage) -> None:
        keys = [f"t{n:03d}:resolution" for n in range(23)]
        with storage.unit_of_work() as uow:
            for key in reversed(keys):
                uow.put_sla_clock(_clock(key.split(":")[0], "resolution"))
            uow.put_sla_clock(_clock("t000", "x", key="t000:x:old", archived=True))
            uow.commit()
        seen: list[str] = []
        after: str | None = None
        with storage.unit_of_work() as uow:
            while page := uow.sla_clocks_after(after, 5):
                assert len(page) <= 5
                seen += [r.key for r in page]
                after = page[-1].key
        assert seen == sorted([*keys, "t000:x:old"])

    def test_deliveries_round_trip_replace_and_index_channel_ids(self, storage: Storage) -> None:
        record = {"outbound": {"ticket_id": "t1"}, "status": "pending", "errors": []}
        with storage.unit_of_work() as uow:
            assert uow.get_delivery("d1") is None
            uow.put_delivery(StoredDelivery("d1", "t1", "pending", record))
            uow.put_delivery(
                StoredDelivery("d1", "t1", "delivered", {**record, "status": "delivered"})
            )
            uow.index_external_id("<a@x>", "t1", "d1")
            uow.index_external_id("<b@x>", "t1", "d1")
            uow.index_external_id("<b@x>", "t2", "d9")  # replaces
            uow.commit()
        with storage.unit_of_work() as uow:
            got = uow.get_delivery("d1")
            assert got == StoredDelivery("d1", "t1", "delivered", {**record, "status": "delivered"})
            assert uow.ticket_for_external_id("<a@x>") == "t1"
            assert uow.ticket_for_external_id("<b@x>") == "t2"
            assert uow.ticket_for_external_id("<nope@x>") is None

    def test_a_returned_delivery_is_a_copy(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.put_delivery(StoredDelivery("d1", "t1", "pending", {"errors": []}))
            got = uow.get_delivery("d1")
            assert got is not None
            got.data["errors"].append("changed")
            again = uow.get_delivery("d1")
            assert again is not None
            assert again.data == {"errors": []}

    def test_a_feedback_token_is_claimed_once(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            assert uow.get_feedback_token("n1") is None
            assert uow.claim_feedback_token("n1", "t1", _at(1)) is True
            assert uow.claim_feedback_token("n1", "t1", _at(2)) is False
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.claim_feedback_token("n1", "t2", _at(3)) is False
            claim = uow.get_feedback_token("n1")
            assert claim is not None
            assert (claim.ticket_id, claim.used_at) == ("t1", _at(1))

    def test_a_ticket_takes_one_feedback_answer(self, storage: Storage) -> None:
        first = FeedbackAnswer("t2", 4, 9, "quick, thanks", _at(1))
        with storage.unit_of_work() as uow:
            assert uow.get_feedback_answer("t2") is None
            assert uow.add_feedback_answer(first) is True
            assert uow.get_feedback_answer("t2") == first  # reads its own write
            assert uow.add_feedback_answer(FeedbackAnswer("t2", 1, None, "", _at(2))) is False
            uow.add_feedback_answer(FeedbackAnswer("t1", 2, None, "", _at(3)))
            uow.add_feedback_answer(FeedbackAnswer("t3", 5, 10, "", _at(4)))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.add_feedback_answer(FeedbackAnswer("t2", 1, None, "", _at(5))) is False
            assert uow.get_feedback_answer("t2") == first
            assert [a.ticket_id for a in uow.feedback_answers_after(None)] == ["t1", "t2", "t3"]
            assert [a.ticket_id for a in uow.feedback_answers_after("t1", 1)] == ["t2"]
            assert uow.feedback_answers_after("t3") == []

    def test_acknowledgements_are_limited_per_sender_within_the_window(
        self, storage: Storage
    ) -> None:
        hour = timedelta(hours=1)
        with storage.unit_of_work() as uow:
            for minute in (0, 10):
                assert uow.claim_acknowledgement("a@x", _at(minute), window=hour, limit=2)
            assert not uow.claim_acknowledgement("a@x", _at(20), window=hour, limit=2)
            assert uow.claim_acknowledgement("b@x", _at(20), window=hour, limit=2)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert not uow.claim_acknowledgement("a@x", _at(59), window=hour, limit=2)
            assert uow.acknowledgements_since("a@x", _at(-1)) == [_at(0), _at(10)]
            # the first one left the window: one more is allowed, and no more
            assert uow.claim_acknowledgement("a@x", _at(60), window=hour, limit=2)
            assert not uow.claim_acknowledgement("a@x", _at(61), window=hour, limit=2)
            assert uow.acknowledgements_since("a@x", _at(5)) == [_at(10), _at(60)]
            assert uow.acknowledgements_since("c@x", _at(-1)) == []

    def test_concurrent_claims_keep_the_limits(self, storage: Storage) -> None:
        """Acknowledgements for one sender and answers for one ticket, claimed from
        several threads at once: the limit holds and one answer wins."""
        threads_n = 6
        start = threading.Barrier(threads_n, timeout=10)
        acks: list[bool] = []
        answers: list[bool] = []
        errors: list[BaseException] = []

        def retried(work: Callable[[UnitOfWork], bool]) -> bool:
            # as desk.run does: a database giving up on the transaction (a deadlock
            # victim) wrote nothing, and the use case runs again
            for _attempt in range(20):
                try:
                    with storage.unit_of_work() as uow:
                        done = work(uow)
                        uow.commit()
                    return done
                except TransientStorageError:
                    continue
            raise AssertionError("20 attempts were refused as transient")

        def claim(i: int) -> None:
            try:
                start.wait()
                acks.append(
                    retried(
                        lambda uow: uow.claim_acknowledgement(
                            "same@x", _at(i / 100), window=timedelta(hours=1), limit=3
                        )
                    )
                )
                answer = FeedbackAnswer("t1", i % 5 + 1, None, "", _at(1))
                answers.append(retried(lambda uow: uow.add_feedback_answer(answer)))
            except BaseException as exc:  # recorded and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(threads_n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert not any(th.is_alive() for th in threads), "a claim is stuck (deadlock?)"
        assert not errors, errors
        assert sorted(acks) == [False] * 3 + [True] * 3
        assert sorted(answers) == [False] * (threads_n - 1) + [True]
        with storage.unit_of_work() as uow:
            assert len(uow.acknowledgements_since("same@x", _at(-1))) == 3

    def test_cursors_round_trip_and_replace(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            assert uow.get_cursor("email:inbox") is None
            uow.put_cursor(Cursor("email:inbox", 41, "1700000000"))
            uow.put_cursor(Cursor("forward:crm", 7, None, {"failures": 2, "retry_at": None}))
            got = uow.get_cursor("forward:crm")
            assert got == Cursor("forward:crm", 7, None, {"failures": 2, "retry_at": None})
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.put_cursor(Cursor("email:inbox", 42, "1700000000"))
            got = uow.get_cursor("forward:crm")
            assert got is not None
            got.state["failures"] = 99  # type: ignore[index]  # a copy: the stored one keeps 2
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.get_cursor("email:inbox") == Cursor("email:inbox", 42, "1700000000")
            again = uow.get_cursor("forward:crm")
            assert again is not None
            assert again.state["failures"] == 2

    @pytest.mark.parametrize("port", ["sla", "delivery", "token", "answer", "ack", "cursor"])
    def test_typed_records_roll_back_with_their_unit_of_work(
        self, storage: Storage, port: str
    ) -> None:
        with storage.unit_of_work() as uow:
            if port == "sla":
                uow.put_sla_clock(_clock("t1", "resolution"))
            elif port == "delivery":
                uow.put_delivery(StoredDelivery("d1", "t1", "pending", {}))
                uow.index_external_id("<a@x>", "t1", "d1")
            elif port == "token":
                uow.claim_feedback_token("n1", "t1", _at(1))
            elif port == "answer":
                assert uow.add_feedback_answer(FeedbackAnswer("t1", 3, None, "", _at(1)))
            elif port == "ack":
                assert uow.claim_acknowledgement("a@x", _at(1), window=timedelta(hours=1), limit=1)
            else:
                uow.put_cursor(Cursor("email:inbox", 1))
        with storage.unit_of_work() as uow:
            assert uow.get_feedback_answer("t1") is None
            assert uow.acknowledgements_since("a@x", _at(0)) == []
            assert uow.get_cursor("email:inbox") is None
            assert uow.get_sla_clock("t1:resolution") is None
            assert uow.sla_clocks_after(None) == []
            assert uow.get_delivery("d1") is None
            assert uow.ticket_for_external_id("<a@x>") is None
            assert uow.claim_feedback_token("n1", "t1", _at(1)) is True
