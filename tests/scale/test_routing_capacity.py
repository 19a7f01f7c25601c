"""Routing from 4 processes on one database: capacity and the waiting queue are decided
in the database, checked against the stored history of every transaction."""

from __future__ import annotations

import time

from supportkit.domain._events import TicketAssigned

from ._procs import open_url, run_all
from ._routing_procs import AGENTS, CAPACITY, churn, desk_on, replay, setup

PROCESSES = 4
EACH = 25


def test_four_processes_never_assign_over_capacity_nor_leave_a_free_slot_unused(
    url: str,
) -> None:
    setup(url)
    start_at = time.time() + 3  # every process has its desk built by then
    results = run_all(
        churn, [(url, f"p{n}", EACH, 3, start_at) for n in range(PROCESSES)], timeout=180
    )
    assert results == [[]] * PROCESSES  # no call failed

    seen = replay(url)
    assert seen["problems"] == []
    assert seen["highest"] == CAPACITY  # the agents were full at some point, never more
    with open_url(url) as storage:
        desk = desk_on(storage)
        tickets = desk.find_tickets(limit=1000)
        assert len(tickets) == PROCESSES * EACH
        resolved = [t for t in tickets if t.status == "resolved"]
        open_ = [t for t in tickets if t.status != "resolved"]
        assert resolved  # a process resolves only its own tickets, once one is assigned
        loads: dict[str, int] = {}
        for t in open_:
            if t.assignee_id is not None:
                loads[t.assignee_id] = loads.get(t.assignee_id, 0) + 1
        # the end state agrees with the replay, every slot is used, and the rest waits
        assert loads == seen["load"]
        assert sorted(loads.values()) == [CAPACITY] * AGENTS
        waiting = {t.id for t in open_ if t.assignee_id is None}
        assert waiting == seen["waiting"]
        assert len(waiting) == len(open_) - AGENTS * CAPACITY
        # tickets that waited were assigned later, by whichever process freed a slot
        late = [
            e
            for t in tickets
            for e in desk.events(t.id)
            if isinstance(e, TicketAssigned) and e.at != t.registered_at
        ]
        assert late, "no waiting ticket was ever assigned when capacity freed"
