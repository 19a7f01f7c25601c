"""The optional capabilities of a storage backend, and the contract tests that check them.

Transactions, rollback and conflict detection are guarantees: every test of
them runs on every backend. What a backend may lack is named here; a test
needing one skips on a backend that does not declare it, saying which and why.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from ..domain._errors import ConcurrencyConflict
from ..ports._storage import Storage
from ._contract_base import ContractBase

__all__ = ["STORAGE_CAPABILITIES", "GuaranteeContract"]

#: every capability name the contract suite knows, with what declaring it promises
STORAGE_CAPABILITIES: dict[str, str] = {
    "durable": "committed data survives closing the storage and opening it again "
    "(tested through the `storage_opener` fixture)",
    "concurrent_writers": "two threads may hold open units of work at once; conflicting "
    "ticket writes are detected when saved, not by serialising the units of work",
    "serialized_writers": "units of work that write run one at a time (informational: "
    "SQLite's BEGIN IMMEDIATE); a stale write still raises ConcurrencyConflict",
    "concurrent_processes": "several processes may share the data at once and lose no "
    "update (tested with processes opened through `storage_opener`)",
    "sql": "`uow.raw_connection()` returns a DB-API connection in the unit of work's "
    "transaction, for SQL extensions (sql_metrics, the knowledge base's SQL store)",
    "desks": "several desks share one database, each seeing only its own data "
    "(`Storage.for_desk(key)`)",
    "host_transactions": "units of work join a transaction the host owns (HostStorage): "
    "the storage never commits or closes the host's connection (informational)",
    "transactions": "always required; kept as a name for older plugins, it gates no test",
}

Opener = Callable[[], Storage]


def _increment(opener: Opener, ticket_id: str, times: int) -> int:
    """In a child process: add 1 to the ticket's counter *times* times, retrying conflicts."""
    storage = opener()
    conflicts = 0
    try:
        for _ in range(times):
            while True:
                try:
                    with storage.unit_of_work() as uow:
                        t = uow.get_ticket(ticket_id)
                        t.custom_fields = {"n": int(t.custom_fields["n"]) + 1}
                        uow.save_ticket(t, t.version)
                        uow.commit()
                    break
                except ConcurrencyConflict:
                    conflicts += 1
    finally:
        storage.close()
    return conflicts


class GuaranteeContract(ContractBase):
    """Declared capabilities are real, and only known names are declared."""

    @pytest.fixture
    def storage_opener(self) -> Opener | None:
        """A picklable callable opening another Storage on the same data as ``storage``
        (e.g. ``functools.partial(MyStorage, url)``); None when the backend has none."""
        return None

    def _opener(self, storage: Storage, opener: Opener | None, capability: str) -> Opener:
        self.require(storage, capability)
        if opener is None:
            pytest.fail(
                f"{type(storage).__name__} declares {capability!r}, which the suite checks "
                "by opening the same data again: override the `storage_opener` fixture"
            )
        return opener

    def test_declared_capabilities_are_known_names(self, storage: Storage) -> None:
        unknown = set(storage.capabilities) - set(STORAGE_CAPABILITIES)
        unknown = {name for name in unknown if not name.startswith("x-")}
        assert not unknown, (
            f"unknown capabilities {sorted(unknown)}; known: {sorted(STORAGE_CAPABILITIES)} "
            "(prefix a capability of your own with 'x-')"
        )

    def test_committed_data_survives_reopening(
        self, storage: Storage, storage_opener: Opener | None
    ) -> None:
        opener = self._opener(storage, storage_opener, "durable")
        t = self.add(storage, subject="kept")
        with storage.unit_of_work() as uow:
            uow.kv_put("ns", "k", {"v": 1})  # written, never committed
        storage.close()
        again = opener()
        try:
            with again.unit_of_work() as uow:
                assert uow.get_ticket(t.id).subject == "kept"
                assert uow.kv_get("ns", "k") is None
        finally:
            again.close()

    def test_processes_sharing_the_data_lose_no_update(
        self, storage: Storage, storage_opener: Opener | None
    ) -> None:
        opener = self._opener(storage, storage_opener, "concurrent_processes")
        t = self.add(storage, custom_fields={"n": 0})
        processes, times = 3, 5
        context: Any = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            runs = [pool.submit(_increment, opener, t.id, times) for _ in range(processes)]
            for run in runs:
                run.result(timeout=120)
        with storage.unit_of_work() as uow:
            stored = uow.get_ticket(t.id)
        assert stored.custom_fields["n"] == processes * times
        assert stored.version == 1 + processes * times
