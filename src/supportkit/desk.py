"""SupportDesk: the application service a host builds once and calls for every use case.

Each use case runs in one unit of work: it loads what it needs, asks the
lifecycle and the policies what happens, lets in-transaction handlers
(routing, SLA, triage, the bot) react to the events it recorded, stores the
changes and the events together, commits, and only then publishes the
events as blinker signals. A failing subscriber neither undoes the change
nor stops the other subscribers; its failure is logged and sent on
``desk.signals.subscriber_failed``.

>>> from supportkit import SupportDesk
>>> desk = SupportDesk()
>>> t = desk.receive("email", "ann@example.com", "My invoice is wrong", subject="Invoice")
>>> t.status, t.number
('registered', 1)
"""

from __future__ import annotations

from ._calls import Callback
from ._desk_calls import CallUseCases
from ._desk_channels import ChannelUseCases
from ._desk_core import DeskCore, DeskSignals, TimerRun
from ._desk_customers import CustomerHistory, CustomerNote, CustomerUseCases
from ._desk_identity import IdentityProposal, IdentityUseCases
from ._desk_inbound import InboundUseCases
from ._desk_queries import TicketQueries, TicketTracking
from ._desk_tickets import TicketUseCases

__all__ = [
    "Callback",
    "CustomerHistory",
    "CustomerNote",
    "DeskCore",
    "DeskSignals",
    "IdentityProposal",
    "SupportDesk",
    "TicketTracking",
    "TimerRun",
]


class SupportDesk(
    InboundUseCases,
    TicketUseCases,
    CustomerUseCases,
    IdentityUseCases,
    CallUseCases,
    ChannelUseCases,
    TicketQueries,
):
    """The one object a host builds: every support use case is a method here.

    The use cases live in one module per family (inbound, tickets and agents,
    customers, queries) over the shared :class:`DeskCore`, which runs each in
    a unit of work and publishes its events after commit.
    """
