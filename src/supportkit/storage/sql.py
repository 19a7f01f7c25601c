"""The building blocks of the shipped SQL backends, public for backend authors.

A backend for another SQL database reuses what fits: the per-port mixins
(each implements one focused port of :class:`~supportkit.ports.UnitOfWork`
over one DB-API cursor), :class:`SqlBase` (placeholders, error mapping,
:meth:`SqlBase.upsert_sql`), the microsecond timestamp codec, and the
versioned schema records. ``examples/plugins/supportkit-mariadb`` is such a
backend, built from these names only.
"""

from ._coordination_schema import COORDINATION_MIGRATIONS
from ._sql import (
    SqlAcknowledgementStore,
    SqlAgentStore,
    SqlBase,
    SqlCoordinationStore,
    SqlCursorStore,
    SqlCustomerStore,
    SqlDeliveryStore,
    SqlFeedbackAnswerStore,
    SqlFeedbackTokenStore,
    SqlKeyValueStore,
    SqlMessageStore,
    SqlOutboxStore,
    SqlRawInboundStore,
    SqlSlaClockStore,
    SqlTicketStore,
    SqlTimerStore,
    SqlUnitOfWork,
    from_us,
    qmark_to_format,
    to_us,
)
from ._sql_schema import CORE_MIGRATIONS, Migration, SchemaComponent

__all__ = [
    "COORDINATION_MIGRATIONS",
    "CORE_MIGRATIONS",
    "Migration",
    "SchemaComponent",
    "SqlAcknowledgementStore",
    "SqlAgentStore",
    "SqlBase",
    "SqlCoordinationStore",
    "SqlCursorStore",
    "SqlCustomerStore",
    "SqlDeliveryStore",
    "SqlFeedbackAnswerStore",
    "SqlFeedbackTokenStore",
    "SqlKeyValueStore",
    "SqlMessageStore",
    "SqlOutboxStore",
    "SqlRawInboundStore",
    "SqlSlaClockStore",
    "SqlTicketStore",
    "SqlTimerStore",
    "SqlUnitOfWork",
    "from_us",
    "qmark_to_format",
    "to_us",
]
