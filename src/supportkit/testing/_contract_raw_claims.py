"""The storage contract on raw inbound leases: a stored message is claimed by one process."""

from __future__ import annotations

import threading
from datetime import timedelta

from ..ports._storage import RawInbound, Storage
from ._contract_base import ContractBase, _at

__all__ = ["RawInboundClaimsContract"]

_LEASE = timedelta(minutes=5)


def _stored(storage: Storage, *rows: RawInbound) -> None:
    with storage.unit_of_work() as uow:
        for row in rows:
            assert uow.add_raw_inbound(row)
        uow.commit()


class RawInboundClaimsContract(ContractBase):
    """Claims are leases decided in the database: one holder at a time, free once they run out."""

    def test_a_claim_holds_until_its_lease_runs_out(self, storage: Storage) -> None:
        _stored(storage, RawInbound("r1", "email", _at(1), b"one", "<a@x>"))
        now = _at(10)
        with storage.unit_of_work() as uow:
            got = uow.claim_raw_inbound("r1", now, now + _LEASE)
            uow.commit()
        assert got is not None
        assert (got.raw, got.status) == (b"one", "pending")
        with storage.unit_of_work() as uow:
            assert uow.claim_raw_inbound("r1", now + _LEASE / 2, now + _LEASE * 2) is None
            assert uow.claimable_raw_inbound(now + _LEASE / 2) == []
            assert [r.id for r in uow.claimable_raw_inbound(now + _LEASE)] == ["r1"]
            assert uow.claim_raw_inbound("r1", now + _LEASE, now + _LEASE * 2) is not None
            uow.commit()

    def test_processed_and_ignored_rows_are_never_claimed(self, storage: Storage) -> None:
        rows = [RawInbound(f"r{n}", "email", _at(n), b"x", f"<{n}@x>") for n in range(4)]
        _stored(storage, *rows)
        with storage.unit_of_work() as uow:
            uow.update_raw_inbound("r0", "processed", ticket_id="t0")
            uow.update_raw_inbound("r1", "ignored", error="auto-reply")
            uow.update_raw_inbound("r2", "failed", error="ParseError: boom")
            uow.commit()
        now = _at(100)
        with storage.unit_of_work() as uow:
            assert [r.id for r in uow.claimable_raw_inbound(now)] == ["r3", "r2"]  # pending first
            assert uow.claim_raw_inbound("r0", now, now + _LEASE) is None
            assert uow.claim_raw_inbound("r1", now, now + _LEASE) is None
            assert uow.claim_raw_inbound("nope", now, now + _LEASE) is None
            failed = uow.claim_raw_inbound("r2", now, now + _LEASE)
            assert failed is not None
            assert (failed.status, failed.error) == ("pending", "ParseError: boom")
            assert uow.claim_raw_inbound("r2", now, now + _LEASE) is None  # held now
            uow.commit()

    def test_a_failed_row_waits_a_lease_and_never_holds_back_pending_ones(
        self, storage: Storage
    ) -> None:
        failed = [RawInbound(f"f{n}", "email", _at(n), b"x", f"<f{n}@x>") for n in range(3)]
        _stored(storage, *failed, RawInbound("p", "email", _at(9), b"y", "<p@x>"))
        now = _at(20)
        with storage.unit_of_work() as uow:  # each failed row was tried (claimed) and failed
            for row in failed:
                assert uow.claim_raw_inbound(row.id, now, now + _LEASE) is not None
                uow.update_raw_inbound(row.id, "failed", error="ParseError: boom")
            uow.commit()
        with storage.unit_of_work() as uow:
            # within the last attempt's lease only the pending row is a candidate, even with
            # a limit the failed rows would fill
            assert [r.id for r in uow.claimable_raw_inbound(now, limit=3)] == ["p"]
            later = now + _LEASE
            assert [r.id for r in uow.claimable_raw_inbound(later, limit=2)] == ["p", "f0"]

    def test_a_rolled_back_claim_is_not_held(self, storage: Storage) -> None:
        _stored(storage, RawInbound("r1", "email", _at(1), b"one"))
        with storage.unit_of_work() as uow:
            assert uow.claim_raw_inbound("r1", _at(2), _at(2) + _LEASE) is not None
        with storage.unit_of_work() as uow:
            assert uow.claim_raw_inbound("r1", _at(3), _at(3) + _LEASE) is not None

    def test_rows_are_found_by_key_and_listed_by_channel_prefix(self, storage: Storage) -> None:
        _stored(
            storage,
            RawInbound("a", "webhook:form", _at(1), b"1", "form:k1"),
            RawInbound("b", "webhook:tg", _at(2), b"2", "tg:k1"),
            RawInbound("c", "email", _at(3), b"3", "<c@x>"),
            RawInbound("d", "webhook_other", _at(4), b"4"),
        )
        with storage.unit_of_work() as uow:
            found = uow.raw_inbound_by_key("webhook:tg", "tg:k1")
            assert found is not None
            assert found.id == "b"
            assert uow.raw_inbound_by_key("webhook:form", "tg:k1") is None
            listed = [r.id for r in uow.claimable_raw_inbound(_at(9), "webhook:")]
            assert listed == ["a", "b"]
            assert [r.id for r in uow.claimable_raw_inbound(_at(9), "email")] == ["c"]
            assert [r.id for r in uow.claimable_raw_inbound(_at(9), limit=2)] == ["a", "b"]

    def test_concurrent_claims_of_one_row_have_one_winner(self, storage: Storage) -> None:
        rows = [RawInbound(f"r{n}", "email", _at(n), b"x") for n in range(20)]
        _stored(storage, *rows)
        won: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def work() -> None:
            try:
                for row in rows:
                    with storage.unit_of_work() as uow:
                        got = uow.claim_raw_inbound(row.id, _at(50), _at(50) + _LEASE)
                        uow.commit()
                    if got is not None:
                        with lock:
                            won.append(got.id)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert errors == []
        assert sorted(won) == sorted(r.id for r in rows)
