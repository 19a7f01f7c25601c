"""The storage contract: the tests every storage backend must pass.

A backend author subclasses :class:`StorageContract` and overrides one
fixture, ``storage``, yielding a fresh, empty backend::

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def storage(self, tmp_path):
            s = MyStorage(tmp_path / "db")
            yield s
            s.close()

Transactions, rollback and conflict detection are guarantees, tested on every
backend. Only the optional capabilities named in
:data:`~supportkit.testing.STORAGE_CAPABILITIES` (``durable``,
``concurrent_writers``, ``concurrent_processes``, ``sql``, ...) skip, with the
reason, on a backend that does not declare them. ``durable`` and
``concurrent_processes`` are checked by opening the same data again: override
the ``storage_opener`` fixture with a picklable callable that does.
"""

from __future__ import annotations

from ._contract_coordination import CoordinationContract
from ._contract_desks import DeskContract
from ._contract_guarantees import GuaranteeContract
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
    GuaranteeContract,
    CoordinationContract,
):
    """Base class of a backend's contract tests; override the ``storage`` fixture."""
