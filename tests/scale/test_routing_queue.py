"""The waiting queue is stored: a ticket queued by one process is assigned by whichever
process frees capacity, most urgent then oldest first, and a newcomer never jumps it.

Each desk process is started, its desk built, before the scenario begins, as long-lived
web workers are: what one process does later must reach the others through the database.
"""

from __future__ import annotations

from supportkit.domain._events import TicketAssigned

from ._procs import open_url
from ._routing_procs import CAPACITY, Desks, setup


def _assigned_order(url: str, ticket_ids: list[str]) -> list[str]:
    """The tickets in the order their assignment was stored."""
    with open_url(url) as storage, storage.unit_of_work() as uow:
        firsts = {
            tid: min(se.seq for se in uow.events_for(tid) if isinstance(se.event, TicketAssigned))
            for tid in ticket_ids
        }
    return sorted(ticket_ids, key=firsts.__getitem__)


def test_desk_a_queues_five_desk_b_resolves_five_in_priority_then_age_order(url: str) -> None:
    setup(url)
    with Desks(url, 3) as desks:
        full = desks.call(0, "receive", "full", [2] * 15)
        assert None not in desks.call(1, "assignees", full)
        # desk A: five more tickets wait (LOW, HIGH, NORMAL, HIGH, URGENT, in that order)
        queued = desks.call(0, "receive", "late", [1, 3, 2, 3, 4])
        assert desks.call(1, "assignees", queued) == [None] * 5
        # desk B frees five slots, one resolve at a time: each goes to the most urgent, oldest
        desks.call(1, "resolve", full[:5])
        assert None not in desks.call(2, "assignees", queued)
        low, high, normal, high2, urgent = queued
        assert _assigned_order(url, queued) == [urgent, high, high2, normal, low]
        # desk C: a ticket received now waits, since every slot is taken again
        later = desks.call(2, "receive", "later", [4])
        assert desks.call(0, "assignees", later) == [None]


def test_an_agent_back_online_or_given_capacity_in_another_process_takes_waiting_tickets(
    url: str,
) -> None:
    setup(url)
    with Desks(url, 3) as desks:
        desks.call(0, "availability", [f"a{n}" for n in range(5)], False)
        queued = desks.call(0, "receive", "q", [2, 2, 2, 2, 2])
        assert desks.call(1, "assignees", queued) == [None] * 5
        desks.call(1, "availability", ["a2"], True)  # a2 takes the three oldest
        assert desks.call(2, "assignees", queued) == ["a2"] * CAPACITY + [None, None]
        desks.call(2, "capacity", "a2", 4)  # room for one more: the next oldest
        assert desks.call(0, "assignees", queued) == ["a2"] * 4 + [None]
        newcomer = desks.call(0, "receive", "n", [2])
        assert desks.call(1, "assignees", [*newcomer, queued[4]]) == [None, None]
