"""The unit of work shared by the SQL backends (SQLite and PostgreSQL).

It is nothing but the per-port SQL mixins put together: a backend for
another database may reuse the mixins it can (they write portable SQL with
``?`` placeholders, through :meth:`SqlBase.upsert_sql` for upserts) and
write only the ports its database needs differently. Rows map to entities
in the mixins; JSON columns go through the one cattrs converter.
"""

from __future__ import annotations

from ..ports._storage import UnitOfWork
from ._sql_base import SqlBase, from_us, qmark_to_format, to_us
from ._sql_coordination import SqlCoordinationStore
from ._sql_inbound import SqlKeyValueStore, SqlRawInboundStore
from ._sql_messages import SqlMessageStore
from ._sql_outbox import SqlOutboxStore
from ._sql_people import SqlAgentStore, SqlCustomerStore
from ._sql_records import (
    SqlAcknowledgementStore,
    SqlCursorStore,
    SqlDeliveryStore,
    SqlFeedbackAnswerStore,
    SqlFeedbackTokenStore,
    SqlSlaClockStore,
)
from ._sql_tickets import SqlTicketStore
from ._sql_timers import SqlTimerStore

__all__ = [
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


class SqlUnitOfWork(
    SqlTicketStore,
    SqlMessageStore,
    SqlCustomerStore,
    SqlAgentStore,
    SqlOutboxStore,
    SqlTimerStore,
    SqlRawInboundStore,
    SqlSlaClockStore,
    SqlDeliveryStore,
    SqlFeedbackTokenStore,
    SqlFeedbackAnswerStore,
    SqlAcknowledgementStore,
    SqlCursorStore,
    SqlKeyValueStore,
    SqlCoordinationStore,
    UnitOfWork,
):
    """Every port in SQL over one DB-API cursor; subclasses run the transaction hooks."""
