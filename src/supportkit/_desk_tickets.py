"""Agents' use cases on tickets, and the desk's agents and teams."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from ._context import DeskContext
from ._desk_core import DeskCore, require_text
from ._kinds import set_kind_in
from .domain._errors import (
    ConcurrencyConflict,
    ValidationError,
)
from .domain._events import (
    AgentAvailabilityChanged,
    AgentSaved,
    TeamSaved,
)
from .domain._model import (
    Agent,
    Attachment,
    Availability,
    Direction,
    Message,
    Priority,
    Team,
    Ticket,
)
from .policies._tiers import Roster

log = logging.getLogger("supportkit")
T = TypeVar("T")


class TicketUseCases(DeskCore):
    # ------------------------------------------------------------------ agents' use cases
    def reply(
        self,
        ticket_id: str,
        author: str,
        text: str,
        *,
        html: str | None = None,
        attachments: Iterable[Attachment] = (),
        external_id: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Message:
        """An agent's (or the bot's) answer to the customer, sent through the ticket's channel.

        An agent's first public reply also fires the desk's ``first_reply_event``
        (``start_diagnosis`` by default) when the lifecycle allows it, so the
        customer's tracking moves from "registered" to "in progress".
        """
        require_text(text, "reply")

        def use_case(ctx: DeskContext) -> Message:
            return ctx.reply(
                ctx.ticket(ticket_id),
                author,
                text,
                html=html,
                attachments=attachments,
                external_id=external_id,
                meta=dict(meta or {}),
            )

        return self.run(use_case)

    def add_note(self, ticket_id: str, author: str, text: str) -> Message:
        """An internal note: visible to agents, never to the customer."""
        require_text(text, "note")
        return self.run(
            lambda ctx: ctx.add_message(ctx.ticket(ticket_id), Direction.NOTE, author, text)
        )

    def assign(self, ticket_id: str, agent_id: str | None, *, actor: str = "system") -> Ticket:
        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.assign(t, agent_id, actor=actor, strategy="manual")
            return t

        return self.run(use_case)

    def transition(
        self, ticket_id: str, event: str, *, actor: str, reason: str = "", **params: Any
    ) -> Ticket:
        """Fire any lifecycle event by name (for host-defined lifecycles)."""

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.transition(t, event, actor, reason, **params)
            return t

        return self.run(use_case)

    def start_diagnosis(self, ticket_id: str, *, actor: str) -> Ticket:
        return self.transition(ticket_id, "start_diagnosis", actor=actor)

    def wait_on_customer(self, ticket_id: str, *, actor: str, reason: str = "") -> Ticket:
        return self.transition(ticket_id, "wait_on_customer", actor=actor, reason=reason)

    def resolve(self, ticket_id: str, *, actor: str, resolution: str) -> Ticket:
        """Resolve with a summary of what fixed it (required)."""

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.resolve(t, actor, resolution)
            return t

        return self.run(use_case)

    def close(self, ticket_id: str, *, actor: str, reason: str = "") -> Ticket:
        def use_case(ctx: DeskContext) -> Ticket:
            return _close(ctx, ctx.ticket(ticket_id), actor, reason)

        return self.run(use_case)

    def close_resolved(
        self,
        ticket_id: str,
        *,
        actor: str,
        reason: str = "",
        resolved_before: datetime | None = None,
    ) -> Ticket | None:
        """Close the ticket only if it is still ``resolved`` (and was resolved before
        *resolved_before*); None, with nothing changed, if it is not any more.

        The check runs on the ticket as locked by this use case, so two
        processes closing the same ticket (auto-close on several workers) close
        it once; the other gets None. A customer's reply that reopened it
        meanwhile keeps it open.
        """

        def use_case(ctx: DeskContext) -> Ticket | None:
            t = ctx.ticket(ticket_id)
            if t.status != "resolved" or not self.lifecycle_of(t).can_fire(t.status, "close"):
                return None
            if resolved_before is not None and (
                t.resolved_at is None or t.resolved_at >= resolved_before
            ):
                return None
            return _close(ctx, t, actor, reason)

        return self.run(use_case)

    def close_as_spam(self, ticket_id: str, *, actor: str, reason: str) -> Ticket:
        return self._close_special(ticket_id, "close_as_spam", actor, reason)

    def close_as_duplicate(
        self, ticket_id: str, *, actor: str, duplicate_of: str, reason: str = ""
    ) -> Ticket:
        reason = reason or f"duplicate of {duplicate_of}"

        def extra(ctx: DeskContext, t: Ticket) -> None:
            original = ctx.ticket(duplicate_of)
            if original.id == t.id:
                raise ValidationError("a ticket cannot be a duplicate of itself")
            t.custom_fields["duplicate_of"] = original.number

        return self._close_special(ticket_id, "close_as_duplicate", actor, reason, extra)

    def merge_tickets(self, ticket_id: str, *, into: str, actor: str) -> Ticket:
        """Merge a ticket into another: it is closed as a duplicate of *into*, which gets
        a note pointing back to it, in one transaction. Returns *into*."""

        def use_case(ctx: DeskContext) -> Ticket:
            source = ctx.ticket(ticket_id)
            target = ctx.ticket(into)
            if source.id == target.id:
                raise ValidationError("a ticket cannot be merged into itself")
            source.custom_fields["duplicate_of"] = target.number
            reason = f"merged into #{target.number}"
            ctx.transition(source, "close_as_duplicate", actor, reason)
            source.closed_at = ctx.now
            source.close_reason = reason
            ctx.add_message(target, Direction.NOTE, actor, f"#{source.number} was merged here")
            return target

        return self.run(use_case)

    def _close_special(
        self,
        ticket_id: str,
        event: str,
        actor: str,
        reason: str,
        extra: Callable[[DeskContext, Ticket], None] | None = None,
    ) -> Ticket:
        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            if extra:
                extra(ctx, t)
            ctx.transition(t, event, actor, reason)
            t.closed_at = ctx.now
            t.close_reason = reason
            return t

        return self.run(use_case)

    def reopen(self, ticket_id: str, *, actor: str, reason: str) -> Ticket:
        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.transition(t, "reopen", actor, reason)
            t.reopen_count += 1
            t.resolved_at = None
            return t

        return self.run(use_case)

    def escalate(
        self, ticket_id: str, to_tier: str, *, actor: str, reason: str, policy: str = "manual"
    ) -> Ticket:
        """Move a ticket to another tier by hand (automatic policies install handlers)."""

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.escalate(t, to_tier, actor=actor, reason=reason, policy=policy)
            return t

        return self.run(use_case)

    def set_kind(self, ticket_id: str, kind: str, *, actor: str) -> Ticket:
        """Set the kind of support the request needs (one of the desk's ``kinds``);
        routing re-chooses required skills, metrics group by it."""

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            set_kind_in(ctx, t, kind, actor=actor)
            return t

        return self.run(use_case)

    def update(
        self,
        ticket_id: str,
        *,
        actor: str,
        expected_version: int | None = None,
        **changes: Any,
    ) -> Ticket:
        """Change priority, category, tags, custom_fields, language, subject or team.

        Each field given is overwritten whole. Pass the ``version`` of the ticket
        the new values were computed from as *expected_version* to refuse the
        change (:class:`ConcurrencyConflict`, ``retryable=False``) if anybody
        changed the ticket since; to change tags or one custom field without
        overwriting others' changes, use :meth:`add_tags`, :meth:`remove_tags`
        and :meth:`set_custom_field`, which never conflict.
        """
        if "priority" in changes:
            changes["priority"] = Priority(changes["priority"])
        if "tags" in changes:
            changes["tags"] = frozenset(changes["tags"])

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            if expected_version is not None and t.version != expected_version:
                raise ConcurrencyConflict(
                    "ticket", ticket_id, expected_version, t.version, retryable=False
                )
            ctx.update(t, actor, **changes)
            return t

        return self.run(use_case)

    def add_tags(self, ticket_id: str, *tags: str, actor: str) -> Ticket:
        """Add *tags* to the ticket's tags as they are when the change is stored.

        Atomic: concurrent additions and removals by other threads or processes
        are all kept (the ticket is read and written in one transaction holding it).
        """
        return self._change_tags(ticket_id, tags, actor, add=True)

    def remove_tags(self, ticket_id: str, *tags: str, actor: str) -> Ticket:
        """Remove *tags* from the ticket's tags (absent ones are ignored); atomic like
        :meth:`add_tags`."""
        return self._change_tags(ticket_id, tags, actor, add=False)

    def _change_tags(self, ticket_id: str, tags: Iterable[str], actor: str, *, add: bool) -> Ticket:
        given = frozenset(tags)
        for tag in given:
            if not isinstance(tag, str) or not tag.strip():
                raise ValidationError(f"a tag must be a non-empty string, not {tag!r}")

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            ctx.update(t, actor, tags=t.tags | given if add else t.tags - given)
            return t

        return self.run(use_case)

    def set_custom_field(self, ticket_id: str, key: str, value: Any, *, actor: str) -> Ticket:
        """Set one custom field, keeping every other field as stored (a merge per key).

        ``value=None`` removes the field. Concurrent changes to other fields are kept.
        """
        if not isinstance(key, str) or not key:
            raise ValidationError(f"a custom field needs a non-empty string key, not {key!r}")

        def use_case(ctx: DeskContext) -> Ticket:
            t = ctx.ticket(ticket_id)
            fields = dict(t.custom_fields)
            if value is None:
                fields.pop(key, None)
            else:
                fields[key] = value
            ctx.update(t, actor, custom_fields=fields)
            return t

        return self.run(use_case)

    # ------------------------------------------------------------------ agents and teams
    def add_team(self, team: Team) -> Team:
        """Add or change a team; checked with the stored teams by :class:`Roster`
        (tier, unknown fallback, cycles of fallback teams)."""

        def use_case(ctx: DeskContext) -> Team:
            teams = {t.id: t for t in ctx.uow.list_teams()}
            teams[team.id] = team
            Roster(teams=teams.values(), ladder=self.ladder)
            ctx.uow.save_team(team)
            ctx.record(TeamSaved("", ctx.now, team.id, team.tier, team.fallback))
            return team

        return self.run(use_case)

    def add_agent(self, agent: Agent) -> Agent:
        """Add or change an agent; checked by :class:`Roster` against the stored teams
        (tier, teams, capacity, working hours)."""

        def use_case(ctx: DeskContext) -> Agent:
            Roster(teams=ctx.uow.list_teams(), ladder=self.ladder).check_agent(agent)
            ctx.uow.save_agent(agent)
            ctx.record(AgentSaved("", ctx.now, agent.id, agent.tier, tuple(agent.teams)))
            return agent

        return self.run(use_case)

    def set_availability(self, agent_id: str, availability: Availability | str) -> Agent:
        value = Availability(availability)

        def use_case(ctx: DeskContext) -> Agent:
            agent = ctx.uow.get_agent(agent_id)
            agent.availability = value
            ctx.uow.save_agent(agent)
            ctx.record(AgentAvailabilityChanged("", ctx.now, agent_id, value.value))
            return agent

        return self.run(use_case)

    def agents(self) -> list[Agent]:
        with self.storage.unit_of_work() as uow:
            return uow.list_agents()

    def teams(self) -> list[Team]:
        with self.storage.unit_of_work() as uow:
            return uow.list_teams()


def _close(ctx: DeskContext, t: Ticket, actor: str, reason: str) -> Ticket:
    """The one closing of a resolved ticket (by an agent, or automatically)."""
    ctx.transition(t, "close", actor, reason)
    t.closed_at = ctx.now
    t.close_reason = reason or None
    return t
