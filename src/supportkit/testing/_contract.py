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

from ._contract_desks import DeskContract
from ._contract_outbox import OutboxContract
from ._contract_raw_claims import RawInboundClaimsContract
from ._contract_records import RecordContract
from ._contract_tickets import TicketContract
from ._contract_typed import TypedRecordContract

__all__ = ["StorageContract"]


class StorageContract(
    TicketContract,
    RecordContract,
    OutboxContract,
    TypedRecordContract,
    RawInboundClaimsContract,
    DeskContract,
):
    """Base class of a backend's contract tests; override the ``storage`` fixture."""
