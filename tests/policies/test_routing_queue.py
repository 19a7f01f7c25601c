from datetime import UTC, datetime, timedelta

import pytest

from supportkit.domain._model import Agent, Availability, Priority, Team
from supportkit.policies import (
    AgentIndex,
    Roster,
    Router,
    RoutingRequest,
    TicketQueue,
    drain_queue,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _index():
    roster = Roster(
        teams=[Team("billing", "Billing"), Team("tech", "Tech")],
        agents=[
            Agent("ann", "Ann", teams=("billing",), capacity=1, availability=Availability.OFFLINE),
            Agent("tom", "Tom", teams=("tech",), capacity=1, availability=Availability.OFFLINE),
        ],
    )
    return AgentIndex.from_roster(roster)


def test_urgent_ticket_jumps_ahead_of_older_normal_ones():
    q = TicketQueue()
    q.push(RoutingRequest("old"), since=NOW)
    q.push(RoutingRequest("urgent", priority=Priority.URGENT), since=NOW + timedelta(hours=1))
    assert [i.request.ticket_id for i in q] == ["urgent", "old"]
    assert q.peek().request.ticket_id == "urgent"


def test_pushing_a_queued_ticket_again_updates_its_priority():
    q = TicketQueue()
    q.push(RoutingRequest("a"), since=NOW)
    q.push(RoutingRequest("b"), since=NOW + timedelta(minutes=1))
    q.push(RoutingRequest("b", priority=Priority.HIGH), since=NOW + timedelta(minutes=1))
    assert [i.request.ticket_id for i in q] == ["b", "a"]
    assert len(q) == 2


def test_remove_and_pop():
    q = TicketQueue([(RoutingRequest("a"), NOW), (RoutingRequest("b"), NOW)])
    assert q.remove("a")
    assert not q.remove("a")
    assert q.pop().request.ticket_id == "b"
    with pytest.raises(IndexError):
        q.pop()


def test_a_queued_ticket_is_assigned_when_an_agent_comes_online():
    index = _index()
    q = TicketQueue()
    router = Router()
    assert not router.route(RoutingRequest("t1", team_id="billing"), index, now=NOW).assigned
    q.push(RoutingRequest("t1", team_id="billing"), since=NOW)
    index.set_availability("ann", Availability.ONLINE)
    result = drain_queue(q, router, index, now=NOW, freed=["ann"])
    assert [(d.ticket_id, d.agent_id) for d in result.decisions] == [("t1", "ann")]
    assert index.load("ann") == 1
    assert len(q) == 0


def test_a_ticket_nobody_can_take_does_not_block_other_teams():
    index = _index()
    q = TicketQueue()
    q.push(RoutingRequest("billing-urgent", team_id="billing", priority=Priority.URGENT), NOW)
    q.push(RoutingRequest("tech-low", team_id="tech", priority=Priority.LOW), NOW)
    index.set_availability("tom", Availability.ONLINE)
    result = drain_queue(q, Router(), index, now=NOW)
    assert [d.ticket_id for d in result.decisions] == ["tech-low"]
    assert [i.request.ticket_id for i in q] == ["billing-urgent"]


def test_drain_stops_when_the_freed_agent_is_full_again():
    index = _index()
    q = TicketQueue([(RoutingRequest(f"t{i}", team_id="billing"), NOW) for i in range(3)])
    index.set_availability("ann", Availability.ONLINE)
    result = drain_queue(q, Router(), index, now=NOW, freed=["ann"])
    assert [d.ticket_id for d in result.decisions] == ["t0"]
    assert len(q) == 2
