"""Routing and escalation wired into a SupportDesk: ``SupportDesk(extensions=[DeskRouting(...)])``.

In the transaction of each use case it:

* routes a ticket when it is registered, and again when it is escalated
  (every assignment is a ``TicketAssigned`` event naming the strategy;
  a ticket nobody can take gets ``TicketQueued`` and waits);
* evaluates the escalation policy on registration, on every inbound
  message, on reopening, on a diagnosis (``custom_fields["needs_tier"]``)
  and on its time targets (a desk timer), and escalates through the desk
  (``TicketEscalated`` with from-tier, to-tier, reason and policy);
* assigns waiting tickets as soon as capacity frees: a ticket is resolved,
  closed or reassigned, an agent comes online or gets more capacity.

Every decision is made in the database, inside the use case's transaction,
so any number of processes can share one desk. A routing decision first
takes the desk's routing lock (``uow.lock("supportkit.routing")``: a
PostgreSQL advisory lock held until commit; SQLite and the memory backend
serialise writers already), then reads the stored agents (capacity,
availability), the stored open load of each agent (``uow.open_loads``,
corrected by the tickets this transaction changed) and the round-robin
cursors, decides, and writes the assignment and the cursors before the lock
is released by the commit. The waiting queue is the stored unassigned open
tickets (``uow.waiting_tickets``: priority, then age; ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL). Nothing kept in the process decides anything:
:attr:`DeskRouting.index` and :attr:`DeskRouting.queue` are snapshots read
from storage for the host to look at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import attrs

from supportkit.domain._definitions import is_automated
from supportkit.domain._errors import ConfigurationError
from supportkit.domain._events import (
    AgentAvailabilityChanged,
    AgentSaved,
    MessageAdded,
    StatusChanged,
    TeamSaved,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
    TicketUpdated,
)
from supportkit.domain._model import Agent, Availability, Direction, HistoryEntry, Team, Ticket
from supportkit.ports._storage import TicketQuery, Timer

from ..policies import (
    AgentIndex,
    EscalationContext,
    EscalationDecision,
    EscalationPolicy,
    ManualEscalation,
    ManualRequest,
    Roster,
    Router,
    RoutingDecision,
    RoutingRequest,
    RoutingState,
    TicketQueue,
    TierLadder,
)

if TYPE_CHECKING:
    from supportkit.desk import SupportDesk
    from supportkit.typing import Desk, DeskContext

__all__ = ["DeskRouting"]

NAMESPACE = "supportkit.routing"
TIMER_KIND = "supportkit.escalation"
#: routes a request held while its channel was closed, when the channel opens
OPEN_TIMER_KIND = "supportkit.channel_open"
#: the named lock every routing decision takes (held until the transaction ends)
LOCK = "supportkit.routing"
#: key (in NAMESPACE) of the stamp that changes whenever agents or teams change
ROSTER_STAMP = "roster"
#: how many waiting tickets one decision looks at (and holds, on PostgreSQL)
_WAITING = 100


class DeskRouting:
    """Routing and escalation for a :class:`~supportkit.SupportDesk`.

    *teams* and *agents* are checked together with those already stored when
    the desk is built (unknown tier, team without tier, negative capacity,
    unknown team, cycle of fallback teams: ConfigurationError). *router*
    defaults to least-loaded with the default filters; *escalation* is any
    :class:`EscalationPolicy` (e.g. ``EscalationChain.default(...)``), or
    None for manual escalation only. *skills_by_category* gives the
    required skills of each ticket category, *skills_by_kind* those of each
    kind of support (``{"training": {"onboarding"}}``).
    """

    def __init__(
        self,
        *,
        teams: Iterable[Team] = (),
        agents: Iterable[Agent] = (),
        ladder: TierLadder | None = None,
        router: Router | None = None,
        escalation: EscalationPolicy | None = None,
        skills_by_category: Mapping[str, Iterable[str]] | None = None,
        skills_by_kind: Mapping[str, Iterable[str]] | None = None,
        done_statuses: Iterable[str] = ("resolved",),
        actor: str = "routing",
    ) -> None:
        self._teams = list(teams)
        self._agents = list(agents)
        self.ladder = ladder
        # checked now if the ladder is known, and always with the stored teams
        # and agents when the desk is built (install)
        self.roster = (
            Roster(teams=self._teams, agents=self._agents, ladder=ladder)
            if ladder is not None
            else Roster()
        )
        self.router = router if router is not None else Router()
        self.escalation = escalation
        self.skills_by_category = {k: frozenset(v) for k, v in (skills_by_category or {}).items()}
        self.skills_by_kind = {k: frozenset(v) for k, v in (skills_by_kind or {}).items()}
        self.done_statuses = frozenset(done_statuses)
        self.actor = actor
        self._desk: Desk | None = None
        self._open: tuple[str, ...] = ()
        # the stored roster as an index, with the roster stamp it was read at (a cache:
        # checked against the stored stamp under the lock; loads are re-read every time)
        self._cache: tuple[object, AgentIndex] | None = None

    # -- wiring ---------------------------------------------------------------------
    def install(self, desk: Desk) -> None:
        ladder = self.ladder or TierLadder(desk.tiers)
        if tuple(ladder) != tuple(desk.tiers):
            raise ConfigurationError(
                f"the routing ladder {' < '.join(ladder)} differs from the desk's tiers "
                f"{list(desk.tiers)}; pass SupportDesk(tiers={tuple(ladder)!r})"
            )
        self.ladder = ladder
        self._desk = desk
        # a ticket counts in its agent's load, or waits, in a status no lifecycle ends in
        lifecycles = getattr(desk, "lifecycles", (desk.lifecycle,))
        self._open = tuple(
            sorted(
                {
                    s
                    for lc in lifecycles
                    for s in lc.states
                    if not lc.is_final(s) and s not in self.done_statuses
                }
            )
        )
        with desk.storage.unit_of_work() as uow:
            stored_teams = uow.list_teams()
            stored_agents = uow.list_agents()
        given_teams = {t.id for t in self._teams}
        given_agents = {a.id for a in self._agents}
        self.roster = Roster(
            teams=[*self._teams, *(t for t in stored_teams if t.id not in given_teams)],
            agents=[*self._agents, *(a for a in stored_agents if a.id not in given_agents)],
            ladder=ladder,
        )

        def save(ctx: DeskContext) -> None:
            for team in self._teams:
                ctx.uow.save_team(team)
            for agent in self._agents:
                ctx.uow.save_agent(agent)
            self.roster_changed(ctx)

        if self._teams or self._agents:
            desk.run(save)
        desk.on(StatusChanged, self._on_status)
        desk.on(TicketEscalated, self._on_escalated)
        desk.on(TicketAssigned, self._on_assigned)
        desk.on(MessageAdded, self._on_message)
        desk.on(TicketUpdated, self._on_updated)
        desk.on(AgentSaved, self._on_agent_saved)
        desk.on(TeamSaved, self._on_team_saved)
        desk.on(AgentAvailabilityChanged, self._on_availability)
        desk.on_timer(TIMER_KIND, self._on_timer)
        desk.on_timer(OPEN_TIMER_KIND, self._on_channel_open)

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            raise ConfigurationError(
                "DeskRouting is not installed; pass it in SupportDesk(extensions=[...])"
            )
        return self._desk

    # -- what the host can look at (snapshots: nothing here decides) ---------------------
    @property
    def index(self) -> AgentIndex:
        """The stored agents with their stored open loads, as an :class:`AgentIndex`.

        A snapshot read now; routing itself reads the same in each decision's
        transaction, under the routing lock.
        """
        with self.desk.storage.unit_of_work() as uow:
            return self._index_from(uow, ())

    @property
    def queue(self) -> TicketQueue:
        """The stored waiting queue (unassigned open tickets, most urgent and oldest first).

        A snapshot read now, of at most 10,000 tickets.
        """
        with self.desk.storage.unit_of_work() as uow:
            waiting = uow.waiting_tickets(self._waiting_statuses(), limit=10_000)
        return TicketQueue((self.request_for(t), t.age_reference) for t in waiting)

    def resync(self) -> list[RoutingDecision]:
        """After agents or teams were written to storage without the desk (not through
        ``desk.add_agent``, ``add_team`` or ``set_availability``): every process re-reads
        them, and waiting tickets that fit free capacity are assigned now."""

        def use_case(ctx: DeskContext) -> list[RoutingDecision]:
            self.roster_changed(ctx)
            return self._drain(ctx, None)

        return self.desk.run(use_case)

    def roster_changed(self, ctx: DeskContext) -> None:
        """Say, inside the transaction that wrote agents or teams to storage without the
        desk, that every process must re-read them before its next routing decision.

        The desk's own ``add_agent``, ``add_team`` and ``set_availability`` say it already.
        """
        ctx.uow.kv_put(NAMESPACE, ROSTER_STAMP, self.desk.new_id())

    # -- host-facing helpers ---------------------------------------------------------
    def add_agent(self, agent: Agent) -> Agent:
        """Add an agent to the desk and to routing; waiting tickets may go to them."""
        return self._host_desk().add_agent(agent)  # the AgentSaved handler drains

    def set_availability(self, agent_id: str, availability: Availability | str) -> Agent:
        """Same as ``desk.set_availability``; waiting tickets are assigned if the agent
        comes online."""
        return self._host_desk().set_availability(agent_id, availability)

    def _host_desk(self) -> SupportDesk:
        """The desk as the host built it, for the helpers that call its use cases."""
        return cast("SupportDesk", self.desk)

    def drain(self, freed: Iterable[str] | None = None) -> list[RoutingDecision]:
        """Assign waiting tickets to free capacity now (in its own transaction)."""
        watch = list(freed) if freed is not None else None

        def use_case(ctx: DeskContext) -> list[RoutingDecision]:
            return self._drain(ctx, watch)

        return self.desk.run(use_case)

    def request_for(self, ticket: Ticket, previous: Iterable[str] = ()) -> RoutingRequest:
        return RoutingRequest.for_ticket(
            ticket,
            skills_by_category=self.skills_by_category,
            skills_by_kind=self.skills_by_kind,
            previous_agents=previous,
        )

    # -- the stored truth, read under the routing lock ------------------------------------
    def _waiting_statuses(self) -> list[str]:
        return [s for s in self._open if s != "received"]

    def _index_from(self, uow: Any, in_use: Iterable[tuple[Ticket, bool]]) -> AgentIndex:
        """Stored agents and their stored open loads, corrected by *in_use*."""
        roster = Roster(teams=uow.list_teams(), agents=uow.list_agents(), ladder=self.ladder)
        return AgentIndex.from_roster(roster, self._loads(uow, in_use))

    def _loads(self, uow: Any, in_use: Iterable[tuple[Ticket, bool]]) -> dict[str, int]:
        """The stored open load of each agent, corrected by *in_use*: the tickets this
        transaction loaded or created, whose changes are not stored yet."""
        open_ = frozenset(self._open)
        loads = uow.open_loads(self._open)
        for ticket, new in in_use:
            before = None if new else _stored_holder(ticket, open_)
            after = ticket.assignee_id if ticket.status in open_ else None
            if before == after:
                continue
            if before is not None:
                loads[before] = loads.get(before, 0) - 1
            if after is not None:
                loads[after] = loads.get(after, 0) + 1
        return {a: n for a, n in loads.items() if n > 0}

    def _view(self, ctx: DeskContext) -> AgentIndex:
        """Take the routing lock (held until commit), then read the stored truth: the
        agents and teams (from the cache if the stored roster stamp did not change) and
        every agent's open load."""
        uow = ctx.uow
        uow.lock(LOCK)
        stamp = uow.kv_get(NAMESPACE, ROSTER_STAMP)
        cached = self._cache
        if cached is None or stamp is None or cached[0] != stamp:
            roster = Roster(teams=uow.list_teams(), agents=uow.list_agents(), ladder=self.ladder)
            self.roster = roster
            index = AgentIndex.from_roster(roster)
            self._cache = None if stamp is None else (stamp, index)
        else:
            index = cached[1]
        loads = self._loads(uow, ctx.tickets_in_use())
        for agent in index:
            load = loads.get(agent.id, 0)
            if index.load(agent.id) != load:
                index.set_load(agent.id, load)
        return index

    def _waiting(self, ctx: DeskContext, limit: int = _WAITING) -> list[Ticket]:
        """The stored waiting queue, most urgent and oldest first; tickets held until
        their channel opens are left out (a timer routes them)."""
        found = ctx.uow.waiting_tickets(self._waiting_statuses(), limit=limit)
        return [t for t in found if not _held(t, ctx.now)]

    # -- routing --------------------------------------------------------------------
    def route(
        self,
        ctx: DeskContext,
        ticket: Ticket,
        *,
        exclude: Iterable[str] = (),
        index: AgentIndex | None = None,
    ) -> RoutingDecision:
        """Route *ticket* now (inside a use case): assign it or queue it.

        Waiting tickets ahead of it (higher priority, or as urgent and older)
        are offered the free capacity first, so a new ticket never takes a
        slot a waiting one could take.
        """
        request = attrs.evolve(  # the customer's previous agents: a preference, read unlocked
            self.request_for(ticket, self._previous_agents(ctx, ticket)),
            excluded_agents=frozenset(exclude),
        )
        index = index if index is not None else self._view(ctx)
        if index.assignable_count:
            mine = _queue_key(ticket)
            ahead = [t for t in self._waiting(ctx) if t.id != ticket.id and _queue_key(t) < mine]
            self._assign_in_order(ctx, index, ahead)
        decision = self._decide(ctx, index, request)
        if decision.agent_id is not None:
            self._apply(ctx, index, ticket, decision)
        else:
            ticket.record(TicketQueued(ticket.id, ctx.now, ticket.team_id, decision.reason))
        return decision

    def _decide(
        self, ctx: DeskContext, index: AgentIndex, request: RoutingRequest
    ) -> RoutingDecision:
        raw = ctx.uow.kv_get(NAMESPACE, "state")
        state = RoutingState.from_dict(raw if isinstance(raw, dict) else None)
        decision = self.router.route(request, index, now=ctx.now, state=state)
        if decision.state != state:
            ctx.uow.kv_put(NAMESPACE, "state", decision.state.as_dict())
        return decision

    def _apply(
        self, ctx: DeskContext, index: AgentIndex, ticket: Ticket, decision: RoutingDecision
    ) -> None:
        assert decision.agent_id is not None
        index.assign(decision.agent_id)
        ctx.assign(
            ticket,
            decision.agent_id,
            actor=self.actor,
            strategy=decision.strategy,
            team_id=decision.team_id,
        )

    def _assign_in_order(
        self, ctx: DeskContext, index: AgentIndex, waiting: Iterable[Ticket]
    ) -> list[RoutingDecision]:
        """Offer free capacity to *waiting* tickets in their order; a ticket nobody
        can take stays waiting and does not block those behind it."""
        done: list[RoutingDecision] = []
        for stored in waiting:
            if not index.assignable_count:
                break
            ticket = ctx.ticket(stored.id)  # held already: SKIP LOCKED returned it
            if ticket.assignee_id is not None or self._is_done(ticket):
                continue
            request = self.request_for(ticket, self._previous_agents(ctx, ticket))
            decision = self._decide(ctx, index, request)
            if decision.agent_id is not None:
                self._apply(ctx, index, ticket, decision)
                done.append(decision)
        return done

    def _drain(self, ctx: DeskContext, freed: Iterable[str] | None) -> list[RoutingDecision]:
        index = self._view(ctx)
        if freed is not None and not any(index.can_take(a) for a in freed if a in index):
            return []
        if not index.assignable_count:
            return []
        return self._assign_in_order(ctx, index, self._waiting(ctx))

    def _previous_agents(self, ctx: DeskContext, ticket: Ticket) -> tuple[str, ...]:
        others = ctx.uow.find_tickets(TicketQuery(customer_id=ticket.customer_id, limit=5))
        seen: list[str] = []
        for t in others:
            if t.id != ticket.id and t.assignee_id and t.assignee_id not in seen:
                seen.append(t.assignee_id)
        return tuple(seen)

    def _is_done(self, ticket: Ticket) -> bool:
        return ticket.status in self.done_statuses or self.desk.lifecycle_of(ticket).is_final(
            ticket.status
        )

    # -- escalation ---------------------------------------------------------------------
    def evaluate(
        self, ctx: DeskContext, ticket: Ticket, *, text: str = "", bot_failed: bool = False
    ) -> EscalationDecision | None:
        """Ask the escalation policy about *ticket* now and act on its decision."""
        if self.escalation is None or self._is_done(ticket):
            return None
        context = self._context(ctx, ticket, text=text, bot_failed=bot_failed)
        decision = self.escalation.evaluate(ticket, context)
        if decision is not None:
            self._escalate(ctx, ticket, decision)
        self._schedule(ctx, ticket, context)
        return decision

    def _context(
        self, ctx: DeskContext, ticket: Ticket, *, text: str = "", bot_failed: bool = False
    ) -> EscalationContext:
        customer = ctx.uow.get_customer(ticket.customer_id)
        assert self.ladder is not None
        return EscalationContext(
            now=ctx.now,
            ladder=self.ladder,
            segment=customer.segment,
            text=text,
            tier_since=self._tier_since(ctx, ticket),
            bot_failed=bot_failed,
        )

    def _tier_since(self, ctx: DeskContext, ticket: Ticket) -> datetime | None:
        if ticket.escalation_count == 0:
            return None
        since = None
        for stored in ctx.uow.events_for(ticket.id):
            if isinstance(stored.event, TicketEscalated):
                since = stored.event.at
        for ev in ticket.events:
            if isinstance(ev, TicketEscalated):
                since = ev.at
        return since

    def _escalate(self, ctx: DeskContext, ticket: Ticket, decision: EscalationDecision) -> None:
        actor = decision.actor or self.actor
        if decision.to_tier != ticket.tier:
            ctx.escalate(
                ticket,
                decision.to_tier,
                actor=actor,
                reason=decision.reason,
                policy=decision.policy,
            )
            return
        # a hand-off from the bot to the first human tier: same tier, recorded all the same
        ctx.uow.add_history(
            HistoryEntry(
                ticket.id,
                ctx.now,
                actor,
                "escalate",
                ticket.status,
                ticket.status,
                f"{decision.from_tier} -> {decision.to_tier} ({decision.policy}): {decision.reason}",
            )
        )
        ticket.record(
            TicketEscalated(
                ticket.id,
                ctx.now,
                decision.from_tier,
                decision.to_tier,
                decision.reason,
                decision.policy,
                actor,
            )
        )

    def _schedule(self, ctx: DeskContext, ticket: Ticket, context: EscalationContext) -> None:
        due = _due_at(self.escalation, ticket, context)
        key = f"{TIMER_KIND}:{ticket.id}"
        if due is None or due <= ctx.now:
            ctx.uow.cancel_timer(key)
        else:
            ctx.uow.schedule_timer(Timer(key, due, TIMER_KIND, ticket.id))

    # -- handlers -------------------------------------------------------------------------
    def _on_status(self, ctx: DeskContext, event: StatusChanged) -> None:
        ticket = ctx.ticket(event.ticket_id)
        if event.event == "register":
            text = _latest_inbound_text(ctx, ticket)
            if (
                self.evaluate(ctx, ticket, text=text) is None
                and ticket.assignee_id is None
                and not self._held_until_open(ctx, ticket)
            ):
                self.route(ctx, ticket)
            return
        was_open = event.from_status not in self.done_statuses and event.from_status != "received"
        now_open = not self._is_done(ticket) and event.to_status != "received"
        if was_open and not now_open and ticket.assignee_id is not None:
            self._drain(ctx, [ticket.assignee_id])  # its agent has room again
        elif now_open and not was_open and event.event == "reopen":
            self.evaluate(ctx, ticket)

    def _on_assigned(self, ctx: DeskContext, event: TicketAssigned) -> None:
        if event.previous_agent_id is None:
            return
        ticket = ctx.ticket(event.ticket_id)
        if not self._is_done(ticket):
            self._drain(ctx, [event.previous_agent_id])  # reassigned: the previous agent has room

    def _on_escalated(self, ctx: DeskContext, event: TicketEscalated) -> None:
        ticket = ctx.ticket(event.ticket_id)
        index = self._view(ctx)
        previous = ticket.assignee_id
        team = index.roster.team_for_tier(ticket.tier, ticket.team_id) if index.roster else None
        if previous is not None and previous in index:
            if index.agent(previous).tier == ticket.tier:
                return  # already with an agent of the new tier
            ctx.assign(ticket, None, actor=self.actor, strategy="escalation")
            index.release(previous)
        ticket.team_id = team
        self.route(ctx, ticket, exclude=[previous] if previous else [], index=index)

    def _on_message(self, ctx: DeskContext, event: MessageAdded) -> None:
        if event.direction != Direction.INBOUND.value or event.automated:
            return  # an auto-reply (see supportkit.domain._definitions) is nobody's request
        ticket = ctx.ticket(event.ticket_id)
        if ticket.status == "received":
            return
        if ticket.registered_at == ctx.now and ticket.assignee_id is None:
            return  # the first message: the registration handler evaluates it
        self.evaluate(ctx, ticket, text=_latest_inbound_text(ctx, ticket))

    def _on_updated(self, ctx: DeskContext, event: TicketUpdated) -> None:
        if not {"custom_fields", "priority", "category", "tags", "team_id"} & set(event.changes):
            return
        ticket = ctx.ticket(event.ticket_id)
        self.evaluate(ctx, ticket)
        if (
            ticket.assignee_id is None
            and ticket.status in self._waiting_statuses()
            and not _held(ticket, ctx.now)
        ):
            self._drain(ctx, None)  # a waiting ticket changed: it may fit free capacity now

    def _on_timer(self, ctx: DeskContext, timer: Timer) -> None:
        ticket = ctx.ticket(timer.ticket_id)
        self.evaluate(ctx, ticket)

    def _held_until_open(self, ctx: DeskContext, ticket: Ticket) -> bool:
        """A request on a closed channel that queues (the desk's channel hours) waits for
        the opening: queued now, routed by a timer when the channel opens."""
        if not _held(ticket, ctx.now):
            return False
        opens = datetime.fromisoformat(ticket.custom_fields["out_of_hours"]["next_open"])
        reason = f"{ticket.channel} is closed until {opens.isoformat()}"
        ticket.record(TicketQueued(ticket.id, ctx.now, ticket.team_id, reason))
        key = f"{OPEN_TIMER_KIND}:{ticket.id}"
        ctx.uow.schedule_timer(Timer(key, opens, OPEN_TIMER_KIND, ticket.id))
        return True

    def _on_channel_open(self, ctx: DeskContext, timer: Timer) -> None:
        ticket = ctx.ticket(timer.ticket_id)
        if ticket.assignee_id is None and not self._is_done(ticket) and ticket.status != "received":
            self.route(ctx, ticket)

    def _on_agent_saved(self, ctx: DeskContext, event: AgentSaved) -> None:
        """``desk.add_agent`` (a new agent, more capacity, ...): waiting tickets may fit."""
        self.roster_changed(ctx)
        self._drain(ctx, [event.agent_id])

    def _on_availability(self, ctx: DeskContext, event: AgentAvailabilityChanged) -> None:
        self.roster_changed(ctx)
        if event.availability == Availability.ONLINE.value:
            self._drain(ctx, [event.agent_id])

    def _on_team_saved(self, ctx: DeskContext, event: TeamSaved) -> None:
        self.roster_changed(ctx)

    def escalate(
        self,
        ticket_id: str,
        *,
        actor: str,
        reason: str,
        to_tier: str | None = None,
        down: bool = False,
    ) -> Ticket:
        """Escalate by hand: one tier up (or *to_tier*, or one down with *down*).
        At the top of the ladder this raises EscalationRefused, saying so."""
        request = ManualRequest(reason, to_tier=to_tier, down=down, actor=actor)

        def use_case(ctx: DeskContext) -> Ticket:
            ticket = ctx.ticket(ticket_id)
            context = attrs.evolve(self._context(ctx, ticket), manual=request)
            decision = ManualEscalation().evaluate(ticket, context)
            assert decision is not None
            self._escalate(ctx, ticket, decision)
            return ticket

        return self.desk.run(use_case)

    def bot_failed(self, ticket_id: str) -> EscalationDecision | None:
        """The first-line bot could not answer: let the policy hand the ticket over."""

        def use_case(ctx: DeskContext) -> EscalationDecision | None:
            return self.evaluate(ctx, ctx.ticket(ticket_id), bot_failed=True)

        return self.desk.run(use_case)


def _latest_inbound_text(ctx: DeskContext, ticket: Ticket) -> str:
    """What the customer wrote last (an automated inbound message, an auto-reply, is
    not the customer speaking: see :func:`supportkit.domain._definitions.is_automated`)."""
    for m in reversed(ctx.uow.messages_for(ticket.id)):
        if m.direction is Direction.INBOUND and not is_automated(m.meta):
            return m.text
    return ""


def _due_at(policy: Any, ticket: Ticket, context: EscalationContext) -> datetime | None:
    """The earliest ``due_at`` of *policy* or any policy nested in it."""
    found: list[datetime] = []
    stack = [policy]
    while stack:
        p = stack.pop()
        due_at = getattr(p, "due_at", None)
        if callable(due_at):
            when = due_at(ticket, context)
            if when is not None:
                found.append(when)
        stack.extend(getattr(p, "policies", ()))
    return min(found) if found else None


def _held(ticket: Ticket, now: datetime) -> bool:
    """Whether *ticket* waits for its channel to open (``OutOfHours.queue()``)."""
    held = ticket.custom_fields.get("out_of_hours")
    if not isinstance(held, dict) or held.get("action") != "queue":
        return False
    return datetime.fromisoformat(held["next_open"]) > now


def _queue_key(ticket: Ticket) -> tuple[int, datetime, int]:
    """A ticket's place in the waiting queue: most urgent, then oldest, then by number."""
    return (-int(ticket.priority), ticket.age_reference, ticket.number)


def _stored_holder(ticket: Ticket, open_statuses: frozenset[str]) -> str | None:
    """Whom the stored row of *ticket* counts in an agent's open load: the assignee and
    status it had when this transaction loaded it (before the changes its events record)."""
    assignee, status = ticket.assignee_id, ticket.status
    for ev in ticket.events:
        if isinstance(ev, TicketAssigned):
            assignee = ev.previous_agent_id
            break
    for ev in ticket.events:
        if isinstance(ev, StatusChanged):
            status = ev.from_status
            break
    return assignee if status in open_statuses else None
