"""supportkit.extensions: pure policies wired into the desk's transactions.

An extension is handed to ``SupportDesk(storage, extensions=[...])``; it
subscribes handlers that run inside a use case's unit of work (see
:class:`~supportkit.Extension`) and does no I/O of its own.

- :class:`DeskRouting`: routing, queueing and escalation on the desk.
- :class:`SlaExtension`: SLA clocks, warnings and breaches.
"""

from ._routing import DeskRouting
from ._sla import (
    NEXT_TIER,
    SlaBreachRecorded,
    SlaExtension,
    SlaWarningRecorded,
    clock_records,
    stored_sla_outcomes,
)

__all__ = [
    "NEXT_TIER",
    "DeskRouting",
    "SlaBreachRecorded",
    "SlaExtension",
    "SlaWarningRecorded",
    "clock_records",
    "stored_sla_outcomes",
]
