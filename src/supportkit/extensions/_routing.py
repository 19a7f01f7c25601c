"""Routing and escalation wired into a SupportDesk: ``SupportDesk(extensions=[DeskRouting(...)])``.

The extension keeps the desk's :class:`AgentIndex` (availability and open
tickets per agent) and :class:`TicketQueue` in memory, rebuilt from storage
when the desk is built; the round-robin cursors live in storage (key-value
namespace ``supportkit.routing``), so round-robin stays fair across restarts.

In the transaction of each use case it:

* routes a ticket when it is registered, and again when it is escalated
  (every assignment is a ``TicketAssigned`` event naming the strategy;
  a ticket nobody can take gets ``TicketQueued`` and waits);
* evaluates the escalation policy on registration, on every inbound
  message, on reopening, on a diagnosis (``custom_fields["needs_tier"]``)
  and on its time targets (a desk timer), and escalates through the desk
  (``TicketEscalated`` with from-tier, to-tier, reason and policy);
* assigns queued tickets as soon as capacity frees: a ticket is resolved
  or closed, an agent comes online (:meth:`DeskRouting.set_availability`
  or ``desk.set_availability``).

One process owns the in-memory index; with several processes sharing a
database, call :meth:`DeskRouting.resync` (cheap enough at startup and on a
schedule) or route from a single worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import attrs

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
_PAGE = 1000


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
        self.index = AgentIndex(roster=self.roster)
        self.queue = TicketQueue()
        self._desk: Desk | None = None
        self._applied: dict[str, str | None] = {}

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

        desk.run(save)
        self.resync()
        desk.on(StatusChanged, self._on_status)
        desk.on(TicketEscalated, self._on_escalated)
        desk.on(TicketAssigned, self._on_assigned)
        desk.on(MessageAdded, self._on_message)
        desk.on(TicketUpdated, self._on_updated)
        desk.on(AgentSaved, self._on_agent_saved)
        desk.on(TeamSaved, self._on_team_saved)
        desk.on_timer(TIMER_KIND, self._on_timer)
        desk.on_timer(OPEN_TIMER_KIND, self._on_channel_open)
        desk.signals.for_type(AgentAvailabilityChanged).connect(self._on_availability, weak=False)

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            raise ConfigurationError(
                "DeskRouting is not installed; pass it in SupportDesk(extensions=[...])"
            )
        return self._desk

    def resync(self) -> None:
        """Rebuild the roster, the index (loads from open tickets) and the queue
        (unassigned open tickets) from storage."""
        desk = self.desk
        with desk.storage.unit_of_work() as uow:
            teams = uow.list_teams()
            agents = uow.list_agents()
            open_tickets = self._open_tickets(uow)
        self.roster = Roster(teams=teams, agents=agents, ladder=self.ladder)
        loads: dict[str, int] = {}
        queue = TicketQueue()
        for t in open_tickets:
            if t.assignee_id is not None:
                loads[t.assignee_id] = loads.get(t.assignee_id, 0) + 1
            elif t.status not in ("received",):
                queue.push(self.request_for(t), t.age_reference)
        self.index = AgentIndex.from_roster(self.roster, loads)
        self.queue = queue

    def _open_tickets(self, uow: Any) -> list[Ticket]:
        desk = self.desk
        statuses = sorted(
            {
                s
                for lc in [desk.lifecycle]
                for s in lc.states
                if not lc.is_final(s) and s not in self.done_statuses
            }
        )
        found: list[Ticket] = []
        offset = 0
        while True:
            page = uow.find_tickets(
                TicketQuery(status=statuses, limit=_PAGE, offset=offset, oldest_first=True)
            )
            found.extend(page)
            if len(page) < _PAGE:
                return found
            offset += _PAGE

    # -- host-facing helpers ---------------------------------------------------------
    def add_agent(self, agent: Agent) -> Agent:
        """Add an agent to the desk and to routing; queued tickets may go to them."""
        self.roster.check_agent(agent)
        self._host_desk().add_agent(agent)  # the AgentSaved handler puts it in the index
        self.drain(freed=[agent.id])
        return agent

    def set_availability(self, agent_id: str, availability: Availability | str) -> Agent:
        """Same as ``desk.set_availability``; queued tickets are assigned if the agent
        comes online."""
        return self._host_desk().set_availability(agent_id, availability)

    def _host_desk(self) -> SupportDesk:
        """The desk as the host built it, for the helpers that call its use cases."""
        return cast("SupportDesk", self.desk)

    def drain(self, freed: Iterable[str] | None = None) -> list[RoutingDecision]:
        """Assign queued tickets to free capacity now (in its own transaction)."""

        def use_case(ctx: DeskContext) -> list[RoutingDecision]:
            return self._drain(ctx, freed)

        return self.desk.run(use_case)

    def request_for(self, ticket: Ticket, previous: Iterable[str] = ()) -> RoutingRequest:
        return RoutingRequest.for_ticket(
            ticket,
            skills_by_category=self.skills_by_category,
            skills_by_kind=self.skills_by_kind,
            previous_agents=previous,
        )

    # -- routing --------------------------------------------------------------------
    def route(
        self, ctx: DeskContext, ticket: Ticket, *, exclude: Iterable[str] = ()
    ) -> RoutingDecision:
        """Route *ticket* now (inside a use case): assign it or queue it."""
        request = attrs.evolve(
            self.request_for(ticket, self._previous_agents(ctx, ticket)),
            excluded_agents=frozenset(exclude),
        )
        decision = self._decide(ctx, request)
        if decision.agent_id is not None:
            self._apply(ctx, ticket, decision)
        else:
            self.queue.push(request, ticket.age_reference)
            ticket.record(TicketQueued(ticket.id, ctx.now, ticket.team_id, decision.reason))
        return decision

    def _decide(self, ctx: DeskContext, request: RoutingRequest) -> RoutingDecision:
        raw = ctx.uow.kv_get(NAMESPACE, "state")
        state = RoutingState.from_dict(raw if isinstance(raw, dict) else None)
        decision = self.router.route(request, self.index, now=ctx.now, state=state)
        if decision.state != state:
            ctx.uow.kv_put(NAMESPACE, "state", decision.state.as_dict())
        return decision

    def _apply(self, ctx: DeskContext, ticket: Ticket, decision: RoutingDecision) -> None:
        assert decision.agent_id is not None
        self.index.assign(decision.agent_id)
        self._applied[ticket.id] = decision.agent_id
        self.queue.remove(ticket.id)
        ctx.assign(
            ticket,
            decision.agent_id,
            actor=self.actor,
            strategy=decision.strategy,
            team_id=decision.team_id,
        )

    def _drain(self, ctx: DeskContext, freed: Iterable[str] | None) -> list[RoutingDecision]:
        watch = list(freed) if freed is not None else None
        done: list[RoutingDecision] = []
        for item in self.queue:
            if self.index.assignable_count == 0:
                break
            if watch is not None and not any(
                self.index.can_take(a) for a in watch if a in self.index
            ):
                break
            decision = self._decide(ctx, item.request)
            if decision.agent_id is None:
                continue
            ticket = ctx.ticket(item.request.ticket_id)
            if ticket.assignee_id is not None or self._is_done(ticket):
                self.queue.remove(ticket.id)
                continue
            self._apply(ctx, ticket, decision)
            done.append(decision)
        return done

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
        if was_open and not now_open:
            self.queue.remove(ticket.id)
            if ticket.assignee_id is not None and ticket.assignee_id in self.index:
                self.index.release(ticket.assignee_id)
                self._drain(ctx, [ticket.assignee_id])
        elif now_open and not was_open and event.from_status != "received":
            if ticket.assignee_id is not None and ticket.assignee_id in self.index:
                self.index.assign(ticket.assignee_id)
            if event.event == "reopen":
                self.evaluate(ctx, ticket)

    def _on_assigned(self, ctx: DeskContext, event: TicketAssigned) -> None:
        mine = self._applied.pop(event.ticket_id, "-") == event.agent_id
        ticket = ctx.ticket(event.ticket_id)
        if self._is_done(ticket):
            return
        if event.previous_agent_id is not None and event.previous_agent_id in self.index:
            self.index.release(event.previous_agent_id)
            self._drain(ctx, [event.previous_agent_id])
        if not mine and event.agent_id is not None and event.agent_id in self.index:
            self.index.assign(event.agent_id)
            self.queue.remove(ticket.id)

    def _on_escalated(self, ctx: DeskContext, event: TicketEscalated) -> None:
        ticket = ctx.ticket(event.ticket_id)
        previous = ticket.assignee_id
        team = self.roster.team_for_tier(ticket.tier, ticket.team_id)
        if previous is not None and previous in self.index:
            if self.index.agent(previous).tier == ticket.tier:
                return  # already with an agent of the new tier
            ctx.assign(ticket, None, actor=self.actor, strategy="escalation")
        ticket.team_id = team
        self.route(ctx, ticket, exclude=[previous] if previous else [])

    def _on_message(self, ctx: DeskContext, event: MessageAdded) -> None:
        if event.direction != Direction.INBOUND.value:
            return
        ticket = ctx.ticket(event.ticket_id)
        if ticket.status == "received" or event.author == "bot":
            return
        if ticket.registered_at == ctx.now and ticket.assignee_id is None:
            return  # the first message: the registration handler evaluates it
        self.evaluate(ctx, ticket, text=_latest_inbound_text(ctx, ticket))

    def _on_updated(self, ctx: DeskContext, event: TicketUpdated) -> None:
        if not {"custom_fields", "priority", "category", "tags"} & set(event.changes):
            return
        ticket = ctx.ticket(event.ticket_id)
        self.evaluate(ctx, ticket)
        if ticket.assignee_id is None and ticket.id in self.queue:
            self.queue.push(self.request_for(ticket), ticket.age_reference)

    def _on_timer(self, ctx: DeskContext, timer: Timer) -> None:
        ticket = ctx.ticket(timer.ticket_id)
        self.evaluate(ctx, ticket)

    def _held_until_open(self, ctx: DeskContext, ticket: Ticket) -> bool:
        """A request on a closed channel that queues (the desk's channel hours) waits for
        the opening: queued now, routed by a timer when the channel opens."""
        held = ticket.custom_fields.get("out_of_hours")
        if not isinstance(held, dict) or held.get("action") != "queue":
            return False
        opens = datetime.fromisoformat(held["next_open"])
        if opens <= ctx.now:
            return False
        reason = f"{ticket.channel} is closed until {opens.isoformat()}"
        ticket.record(TicketQueued(ticket.id, ctx.now, ticket.team_id, reason))
        key = f"{OPEN_TIMER_KIND}:{ticket.id}"
        ctx.uow.schedule_timer(Timer(key, opens, OPEN_TIMER_KIND, ticket.id))
        return True

    def _on_channel_open(self, ctx: DeskContext, timer: Timer) -> None:
        ticket = ctx.ticket(timer.ticket_id)
        if ticket.assignee_id is None and not self._is_done(ticket) and ticket.status != "received":
            self.route(ctx, ticket)

    def _on_team_saved(self, ctx: DeskContext, event: TeamSaved) -> None:
        """``desk.add_team`` after the desk was built: the roster learns the team."""
        team = next(t for t in ctx.uow.list_teams() if t.id == event.team_id)
        teams = {**self.roster.teams, team.id: team}
        self.roster = Roster(
            teams=list(teams.values()), agents=list(self.roster.agents.values()), ladder=self.ladder
        )
        self.index.roster = self.roster

    def _on_agent_saved(self, ctx: DeskContext, event: AgentSaved) -> None:
        """``desk.add_agent`` (or a change to an agent) is seen by routing at once."""
        agent = ctx.uow.get_agent(event.agent_id)  # the desk checked its tier and teams
        if agent.id in self.index:
            self.index.update(agent)
        else:
            self.index.add(agent)

    def _on_availability(self, desk: Any, *, event: AgentAvailabilityChanged) -> None:
        if event.agent_id not in self.index:
            return
        self.index.set_availability(event.agent_id, Availability(event.availability))
        if self.index.can_take(event.agent_id) and len(self.queue):
            self.drain(freed=[event.agent_id])

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
    for m in reversed(ctx.uow.messages_for(ticket.id)):
        if m.direction is Direction.INBOUND:
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
