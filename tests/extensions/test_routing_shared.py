"""Routing decides from storage: several desks (one per process, here sharing one memory
storage, each with its own DeskRouting) agree on capacity, the queue and the cursors."""

from __future__ import annotations

from supportkit.desk import SupportDesk
from supportkit.domain._events import TicketAssigned, TicketEscalated
from supportkit.domain._model import Agent, Availability, Direction, Priority, Team
from supportkit.extensions import DeskRouting
from supportkit.policies import EscalationChain, EscalationRule, RoundRobin, Router
from supportkit.ports._clock import FakeClock
from supportkit.storage.memory import MemoryStorage

TEAM = Team("support", "Support", "L1")


def two_desks(capacity: int = 2, router: Router | None = None, **kw):
    storage, clock = MemoryStorage(), FakeClock()
    agents = [Agent(a, a.title(), teams=("support",), capacity=capacity) for a in ("ann", "bob")]
    first_routing = DeskRouting(teams=[TEAM], agents=agents, router=router, **kw)
    first = SupportDesk(storage, clock=clock, extensions=[first_routing])
    first.routing = first_routing  # type: ignore[attr-defined]
    routing = DeskRouting(router=router, **kw)
    second = SupportDesk(storage, clock=clock, extensions=[routing])
    second.routing = routing  # type: ignore[attr-defined]
    return first, second, clock


def receive(desk, n, priority=Priority.NORMAL):
    return desk.receive(
        "email", f"c{n}@example.com", f"help {n}", subject=str(n), priority=priority
    )


def loads(desk):
    out: dict[str, int] = {}
    for t in desk.find_tickets(limit=1000):
        if t.assignee_id is not None and t.status != "resolved":
            out[t.assignee_id] = out.get(t.assignee_id, 0) + 1
    return out


def test_an_assignment_needs_room_in_the_stored_load_whichever_desk_assigned_before():
    first, second, clock = two_desks()
    for n in range(4):
        receive(first, n)
        clock.advance(seconds=1)
    assert loads(first) == {"ann": 2, "bob": 2}
    late = receive(second, 9)  # the second desk saw none of those assignments happen
    assert second.get_ticket(late.id).assignee_id is None
    assert loads(second) == {"ann": 2, "bob": 2}
    assert late.id in second.routing.queue  # the stored queue, as any desk reads it
    assert second.routing.index.load("ann") == 2


def test_capacity_freed_by_one_desk_goes_to_the_ticket_another_desk_queued_in_order():
    first, second, clock = two_desks()
    full = [receive(first, n) for n in range(4)]
    clock.advance(seconds=1)
    low = receive(first, 10, Priority.LOW)
    clock.advance(seconds=1)
    high = receive(first, 11, Priority.HIGH)
    clock.advance(seconds=1)
    normal = receive(first, 12)
    holder = second.get_ticket(full[0].id).assignee_id
    second.resolve(full[0].id, actor=holder, resolution="done")
    assert second.get_ticket(high.id).assignee_id == holder  # most urgent first
    assert {second.get_ticket(t.id).assignee_id for t in (low, normal)} == {None}
    second.resolve(full[1].id, actor="x", resolution="done")
    assert second.get_ticket(normal.id).assignee_id is not None  # then by priority, not age
    assert second.get_ticket(low.id).assignee_id is None
    clock.advance(seconds=1)
    newcomer = receive(second, 13, Priority.URGENT)  # no slot free: it waits too
    assert second.get_ticket(newcomer.id).assignee_id is None


def test_a_new_ticket_never_takes_a_slot_a_waiting_ticket_could_take():
    first, second, clock = two_desks(capacity=1)
    for a in ("ann", "bob"):
        first.set_availability(a, Availability.OFFLINE)
    waiting = receive(first, 1)
    clock.advance(seconds=1)

    # the agent comes back in storage without the desk (no event, no drain): a free slot
    # and a waiting ticket; the next ticket received must not take it ahead of the waiting one
    def back_online(ctx):
        ann = ctx.uow.get_agent("ann")
        ann.availability = Availability.ONLINE
        ctx.uow.save_agent(ann)
        second.routing.roster_changed(ctx)  # what a host writing agents directly must say

    second.run(back_online)
    newcomer = receive(first, 2)  # the first desk routed before: its cached roster is stale
    assert first.get_ticket(waiting.id).assignee_id == "ann"
    assert first.get_ticket(newcomer.id).assignee_id is None


def test_changes_not_yet_stored_in_the_same_transaction_count_in_the_load():
    first, _, clock = two_desks(capacity=1)
    for a in ("ann", "bob"):
        first.set_availability(a, Availability.OFFLINE)
    a, b = receive(first, 1), receive(first, 2)
    routing = DeskRouting()
    third = SupportDesk(first.storage, clock=clock, extensions=[routing])

    def use_case(ctx):
        ann = ctx.uow.get_agent("ann")
        ann.availability = Availability.ONLINE
        ctx.uow.save_agent(ann)  # stored, but no event: nothing drains
        ctx.assign(ctx.ticket(a.id), "ann", actor="lead")  # not stored until the end
        return routing.route(ctx, ctx.ticket(b.id))

    decision = third.run(use_case)
    assert decision.agent_id is None  # Ann's one slot is taken by the assignment above
    assert (third.get_ticket(a.id).assignee_id, third.get_ticket(b.id).assignee_id) == ("ann", None)


def test_a_desk_with_a_stale_roster_cache_rereads_it_and_never_over_assigns():
    first, second, clock = two_desks(capacity=2)
    receive(first, 0)  # ann or bob; the first desk now caches the roster
    for who in ("ann", "bob"):  # another desk lowers both capacities to what they hold
        held = len([t for t in second.find_tickets(limit=100) if t.assignee_id == who])
        second.add_agent(Agent(who, who.title(), teams=("support",), capacity=held))
    clock.advance(seconds=1)
    late = receive(first, 1)
    assert first.get_ticket(late.id).assignee_id is None
    assert all(
        first.routing.index.load(a) <= first.routing.index.agent(a).capacity for a in ("ann", "bob")
    )


def test_reassigning_raising_capacity_and_coming_online_each_hand_out_waiting_tickets():
    first, second, clock = two_desks(capacity=1)
    held = receive(first, 0)  # ann
    receive(first, 1)  # bob
    clock.advance(seconds=1)
    w1, w2, w3 = (receive(first, n) for n in (2, 3, 4))
    ann_ticket = held.id if first.get_ticket(held.id).assignee_id == "ann" else None
    assert ann_ticket is not None
    second.assign(ann_ticket, "bob", actor="lead")  # a supervisor's override: Ann has room
    assert second.get_ticket(w1.id).assignee_id == "ann"
    second.add_agent(Agent("bob", "Bob", teams=("support",), capacity=3))  # room for one more
    assert second.get_ticket(w2.id).assignee_id == "bob"
    second.add_agent(Agent("cid", "Cid", teams=("support",), availability=Availability.OFFLINE))
    assert second.get_ticket(w3.id).assignee_id is None
    second.set_availability("cid", Availability.ONLINE)
    assert second.get_ticket(w3.id).assignee_id == "cid"


def test_round_robin_cursor_is_shared_by_every_desk():
    first, second, clock = two_desks(capacity=10, router=Router(strategy=RoundRobin()))
    got = []
    for n in range(6):
        desk = first if n % 2 else second
        t = receive(desk, n)
        got.append(desk.get_ticket(t.id).assignee_id)
        clock.advance(seconds=1)
    assert got == ["ann", "bob"] * 3


def test_an_automated_inbound_message_is_not_a_request_to_escalate():
    rule = EscalationRule("L2", name="outage", keywords={"outage"})
    storage, clock = MemoryStorage(), FakeClock()
    agents = [
        Agent("ann", "Ann", teams=("support",)),
        Agent("eve", "Eve", tier="L2", teams=("engineers",)),
    ]
    teams = [TEAM, Team("engineers", "Engineers", "L2")]
    routing = DeskRouting(
        teams=teams, agents=agents, escalation=EscalationChain.default(rules=[rule])
    )
    desk = SupportDesk(storage, clock=clock, extensions=[routing])
    t = desk.receive("email", "c@example.com", "my invoice is wrong", subject="Invoice")
    clock.advance(minutes=1)
    desk.receive(
        "email",
        "c@example.com",
        "Out of office: during the outage I read no mail",
        ticket_id=t.id,
        meta={"auto_submitted": "auto-replied"},
    )
    assert not [e for e in desk.events(t.id) if isinstance(e, TicketEscalated)]
    assert desk.messages(t.id)[-1].direction is Direction.INBOUND
    clock.advance(minutes=1)
    desk.receive("email", "c@example.com", "now there is an outage", ticket_id=t.id)
    assert [e.to_tier for e in desk.events(t.id) if isinstance(e, TicketEscalated)] == ["L2"]
    assert desk.get_ticket(t.id).assignee_id == "eve"
    assert [e.agent_id for e in desk.events(t.id) if isinstance(e, TicketAssigned)] == [
        "ann",
        None,
        "eve",
    ]
