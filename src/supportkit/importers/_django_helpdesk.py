"""``import_django_helpdesk``: a django-helpdesk database into a supportkit storage.

Every ticket is replayed through the desk's own use cases (receive, reply,
note, assign, resolve, close, reopen, close as duplicate) on a clock set to
each step's instant in django-helpdesk, so the history, first responses and
resolution times are those of the source and the metrics on imported data
mean what they meant there. The desk used has no extensions: routing, SLA
clocks and the bot do not act on history.

Tickets go in batches (``desk.batch()``: one transaction per batch). A
ticket is imported whole or not at all; its opening message carries the
source ticket's id as external id (``django-helpdesk:ticket:42``), so a
second run skips what the first imported and an interrupted run resumes
where it stopped. A row that cannot be mapped is reported with its reason
and the rest go on; when the database refuses a batch because of one
ticket, the batch is replayed ticket by ticket to name it.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from ..desk import SupportDesk
from ..domain._errors import (
    ConcurrencyConflict,
    ConfigurationError,
    StorageError,
    SupportKitError,
)
from ..domain._model import Agent, Availability, Direction, Team, Ticket
from ..ports._clock import FakeClock
from ..ports._storage import Storage
from ..typing import DeskContext
from ._plan import (
    SYSTEM,
    Assign,
    Change,
    Open,
    Post,
    TicketPlan,
    Unmappable,
    plan_ticket,
    ticket_key,
)
from ._source import HelpdeskSource, HelpdeskUser, open_source

__all__ = ["ImportProblem", "ImportSummary", "import_django_helpdesk"]

#: called after each batch with (tickets read so far, tickets in the source)
Progress = Callable[[int, int], None]


@attrs.frozen
class ImportProblem:
    """A django-helpdesk ticket left out, and why."""

    ticket_id: int
    reason: str


@attrs.define
class ImportSummary:
    """What an import did."""

    tickets_in_source: int = 0
    imported: int = 0
    #: imported by an earlier run (same source id), left as they are
    already_imported: int = 0
    problems: list[ImportProblem] = attrs.field(factory=list)
    messages: int = 0
    notes: int = 0
    teams_added: int = 0
    agents_added: int = 0
    #: tickets imported with a remark (a date moved up, an unknown priority), by remark
    warnings: Counter[str] = attrs.field(factory=Counter)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """The summary as text lines (what ``supportkit import`` prints)."""
        rate = self.imported / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"tickets in the source: {self.tickets_in_source}",
            f"imported: {self.imported} ({rate:,.0f} tickets/s), with {self.messages} "
            f"messages and {self.notes} notes",
            f"already imported before (skipped): {self.already_imported}",
            f"teams added: {self.teams_added}, agents added: {self.agents_added}",
            f"not imported: {len(self.problems)}",
        ]
        out += [f"  ticket {p.ticket_id}: {p.reason}" for p in self.problems]
        out += [f"remark ({n} tickets): {w}" for w, n in sorted(self.warnings.items())]
        return out


def import_django_helpdesk(
    source: str | HelpdeskSource,
    storage: Storage,
    *,
    batch_size: int = 500,
    source_name: str = "django-helpdesk",
    anonymous_sender: str | None = None,
    progress: Progress | None = None,
    relay_events: bool = False,
) -> ImportSummary:
    """Import a django-helpdesk database (SQLite path or URL, ``postgresql://`` URL)
    into *storage*: queues become teams, staff and assignees agents, tickets with
    their follow-ups tickets with messages, notes and their lifecycle history.

    Safe to run again: tickets imported before (keyed by *source_name* and the
    source id) are skipped. Returns the :class:`ImportSummary`; unmappable
    tickets are in ``summary.problems``, never half-written.

    The events of the replayed history are marked relayed in the batch's
    transaction, so a relay to a broker never forwards them (another process
    hears of no old ticket as if it were new); *relay_events* keeps them for
    the relay instead.
    """
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be at least 1, not {batch_size}")
    src = open_source(source) if isinstance(source, str) else source
    started = time.perf_counter()
    clock = FakeClock(datetime.now(UTC))
    desk = SupportDesk(storage, clock=clock)
    summary = ImportSummary()
    try:
        summary.tickets_in_source = src.count_tickets()
        teams = _teams(desk, src, summary)
        users = {u.id: u for u in src.users()}
        agents = _agents(desk, src, users, summary)
        read = 0
        for page in src.tickets(batch_size):
            keys = {t.id: ticket_key(source_name, t.id) for t in page}
            done = desk.run(functools.partial(_imported, keys=tuple(keys.values())))
            plans: list[TicketPlan] = []
            for t in page:
                if keys[t.id] in done:
                    summary.already_imported += 1
                    continue
                try:
                    plans.append(
                        plan_ticket(
                            t,
                            source=source_name,
                            users=users,
                            agents=agents,
                            teams=teams,
                            anonymous_sender=anonymous_sender,
                        )
                    )
                except Unmappable as exc:
                    summary.problems.append(ImportProblem(t.id, str(exc)))
                except (TypeError, ValueError, AttributeError) as exc:  # a value of a wrong type
                    summary.problems.append(
                        ImportProblem(t.id, f"unreadable row ({type(exc).__name__}: {exc})")
                    )
            _apply_batch(desk, clock, plans, summary, relay_events)
            read += len(page)
            if progress is not None:
                progress(read, summary.tickets_in_source)
        desk.flush_outbox()
    finally:
        if isinstance(source, str):
            src.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _imported(ctx: DeskContext, *, keys: Iterable[str]) -> set[str]:
    return {k for k in keys if ctx.uow.find_message_by_external_id(k) is not None}


def _teams(desk: SupportDesk, src: HelpdeskSource, summary: ImportSummary) -> dict[int, str]:
    have = {t.id for t in desk.teams()}
    out: dict[int, str] = {}
    with desk.batch():
        for q in src.queues():
            out[q.id] = q.slug
            if q.slug not in have:
                desk.add_team(Team(q.slug, q.title or q.slug))
                have.add(q.slug)
                summary.teams_added += 1
    return out


def _agents(
    desk: SupportDesk,
    src: HelpdeskSource,
    users: Mapping[int, HelpdeskUser],
    summary: ImportSummary,
) -> dict[int, str]:
    """django-helpdesk's staff and everyone a ticket is assigned to, as agents (by username)."""
    have = {a.id for a in desk.agents()}
    assignees = src.assignee_ids()
    out: dict[int, str] = {}
    with desk.batch():
        for u in users.values():
            if not (u.is_staff or u.id in assignees):
                continue
            out[u.id] = u.username
            if u.username not in have:
                desk.add_agent(
                    Agent(
                        u.username,
                        u.full_name or u.username,
                        email=u.email or None,
                        availability=Availability.ONLINE if u.is_active else Availability.OFFLINE,
                    )
                )
                have.add(u.username)
                summary.agents_added += 1
    return out


def _apply_batch(
    desk: SupportDesk,
    clock: FakeClock,
    plans: list[TicketPlan],
    summary: ImportSummary,
    relay_events: bool,
) -> None:
    if not plans:
        return

    def write(batch: list[TicketPlan]) -> list[tuple[int, int]]:
        with desk.batch():
            done = [_apply(desk, clock, p) for p in batch]
            if not relay_events:
                desk.run(functools.partial(_skip_relay, ticket_ids=[d[2] for d in done]))
        return [(d[0], d[1]) for d in done]

    try:
        counts = write(plans)
    except SupportKitError as exc:
        if not _about_the_data(exc):
            raise
        # one ticket spoiled the batch: replay it ticket by ticket to name that one
        for p in plans:
            try:
                (c,) = write([p])
            except SupportKitError as one:
                if not _about_the_data(one):
                    raise
                cause = one.__cause__ if isinstance(one.__cause__, SupportKitError) else one
                summary.problems.append(ImportProblem(p.source_id, _reason(cause)))
            else:
                _count(summary, p, c)
        return
    for p, c in zip(plans, counts, strict=True):
        _count(summary, p, c)


def _about_the_data(exc: SupportKitError) -> bool:
    """A failure a ticket's content caused (not a database that is down or busy)."""
    cause = exc.__cause__ if isinstance(exc.__cause__, SupportKitError) else exc
    return not isinstance(cause, StorageError | ConcurrencyConflict)


def _reason(exc: SupportKitError) -> str:
    return f"{type(exc).__name__}: {exc}"


def _count(summary: ImportSummary, plan: TicketPlan, counts: tuple[int, int]) -> None:
    summary.imported += 1
    summary.messages += counts[0]
    summary.notes += counts[1]
    for w in set(plan.warnings):
        summary.warnings[w] += 1


def _skip_relay(ctx: DeskContext, *, ticket_ids: Iterable[str]) -> None:
    """Mark the events of the imported tickets relayed: history is not news."""
    seqs = [e.seq for tid in ticket_ids for e in ctx.uow.events_for(tid)]
    ctx.uow.skip_relay(seqs)


def _apply(desk: SupportDesk, clock: FakeClock, plan: TicketPlan) -> tuple[int, int, str]:
    """Replay *plan* through the desk's use cases; returns (messages, notes, ticket id)."""
    ticket: Ticket | None = None
    messages = notes = 0
    for step in plan.steps:
        clock.set(step.at)
        if isinstance(step, Open):
            ticket = desk.receive(
                step.channel,
                step.sender,
                step.text,
                subject=step.subject,
                sender_name=step.sender_name,
                attachments=step.attachments,
                external_id=step.key,
                received_at=step.at,
                priority=step.priority,
                meta=step.meta,
            )
            changes: dict[str, Any] = {"custom_fields": {"django_helpdesk_id": step.source_id}}
            if step.team_id is not None:
                changes["team_id"] = step.team_id
            desk.update(ticket.id, actor=SYSTEM, **changes)
            messages += 1
            continue
        assert ticket is not None, "a plan starts with its Open step"
        tid = ticket.id
        if isinstance(step, Post):
            desk.run(functools.partial(_post, ticket_id=tid, step=step))
            if step.direction is Direction.NOTE:
                notes += 1
            else:
                messages += 1
        elif isinstance(step, Assign):
            desk.assign(tid, step.agent_id, actor=SYSTEM)
        elif isinstance(step, Change):
            _change(desk, tid, step)
    assert ticket is not None, "a plan starts with its Open step"
    return messages, notes, ticket.id


def _post(ctx: DeskContext, *, ticket_id: str, step: Post) -> None:
    t = ctx.ticket(ticket_id)
    fields = {
        "attachments": step.attachments,
        "external_id": step.key,
        "meta": dict(step.meta),
        "created_at": step.at,
    }
    if step.direction is Direction.OUTBOUND:
        ctx.reply(t, step.author, step.text, **fields)
    else:
        ctx.add_message(t, step.direction, step.author, step.text, **fields)  # type: ignore[arg-type]


def _change(desk: SupportDesk, ticket_id: str, step: Change) -> None:
    if step.event == "resolve":
        desk.resolve(ticket_id, actor=step.actor, resolution=step.reason)
    elif step.event == "reopen":
        desk.reopen(ticket_id, actor=step.actor, reason=step.reason)
    elif step.event == "close":
        desk.close(ticket_id, actor=step.actor, reason=step.reason)
    else:
        original = None
        if step.duplicate_of is not None:
            original = desk.run(lambda ctx: _ticket_of(ctx, step.duplicate_of))  # type: ignore[arg-type]
        if original is not None and original != ticket_id:
            desk.close_as_duplicate(
                ticket_id, actor=step.actor, duplicate_of=original, reason=step.reason
            )
        else:  # the original is not (yet) imported: closed as a duplicate all the same
            desk.run(lambda ctx: _close_duplicate(ctx, ticket_id, step))


def _ticket_of(ctx: DeskContext, key: str) -> str | None:
    msg = ctx.uow.find_message_by_external_id(key)
    return None if msg is None else str(msg.ticket_id)


def _close_duplicate(ctx: DeskContext, ticket_id: str, step: Change) -> None:
    t = ctx.ticket(ticket_id)
    ctx.transition(t, "close_as_duplicate", step.actor, step.reason)
    t.closed_at = ctx.now
    t.close_reason = step.reason
