"""The storage contract for the typed-record ports: SLA clocks, deliveries, feedback tokens."""

from __future__ import annotations

import pytest

from ..ports._storage import SlaClockRecord, Storage, StoredDelivery
from ._contract_base import ContractBase, _at

__all__ = ["TypedRecordContract"]


def _clock(ticket_id: str, kind: str, **fields: object) -> SlaClockRecord:
    data = {"ticket_id": ticket_id, "kind": kind, "state": "running", "consumed_us": 0}
    base: dict[str, object] = {"key": f"{ticket_id}:{kind}", "data": data}
    base.update(fields)
    return SlaClockRecord(ticket_id=ticket_id, kind=kind, **base)  # type: ignore[arg-type]


class TypedRecordContract(ContractBase):
    """SLA clocks, deliveries and feedback tokens: round trips, order, replacement, claims."""

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

    @pytest.mark.parametrize("port", ["sla", "delivery", "token"])
    def test_typed_records_roll_back_with_their_unit_of_work(
        self, storage: Storage, port: str
    ) -> None:
        with storage.unit_of_work() as uow:
            if port == "sla":
                uow.put_sla_clock(_clock("t1", "resolution"))
            elif port == "delivery":
                uow.put_delivery(StoredDelivery("d1", "t1", "pending", {}))
                uow.index_external_id("<a@x>", "t1", "d1")
            else:
                uow.claim_feedback_token("n1", "t1", _at(1))
        with storage.unit_of_work() as uow:
            assert uow.get_sla_clock("t1:resolution") is None
            assert uow.sla_clocks_after(None) == []
            assert uow.get_delivery("d1") is None
            assert uow.ticket_for_external_id("<a@x>") is None
            assert uow.claim_feedback_token("n1", "t1", _at(1)) is True
