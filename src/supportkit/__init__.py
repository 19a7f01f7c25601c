"""supportkit: customer support as a library.

Build one :class:`SupportDesk` over a storage backend and call its use
cases; subscribe to ``desk.signals`` for what happened.
"""

from .convert import event_from_data, event_to_data, from_data, to_data
from .desk import (
    Callback,
    CustomerHistory,
    CustomerNote,
    DeskSignals,
    IdentityProposal,
    SupportDesk,
    TicketTracking,
    TimerRun,
)
from .domain import *  # noqa: F403
from .domain import __all__ as _domain_all
from .ports import *  # noqa: F403
from .ports import __all__ as _ports_all
from .storage.memory import MemoryStorage
from .typing import Desk, DeskContext, Extension

__version__ = "0.1.0.dev0"

__all__ = [
    "Callback",
    "CustomerHistory",
    "CustomerNote",
    "Desk",
    "DeskContext",
    "DeskSignals",
    "Extension",
    "IdentityProposal",
    "MemoryStorage",
    "SupportDesk",
    "TicketTracking",
    "TimerRun",
    "event_from_data",
    "event_to_data",
    "from_data",
    "to_data",
    *_domain_all,
    *_ports_all,
]
