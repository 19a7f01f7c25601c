"""From one django-helpdesk ticket to the supportkit use cases that replay it.

Pure: no I/O. A ticket becomes a :class:`TicketPlan`, a list of steps, each
at the instant it happened in django-helpdesk, or an :class:`Unmappable`
error naming why not. The statuses map onto the default lifecycle:

============  ==============================================================
Open          the ticket is received (registered); from resolved: ``reopen``
Reopened      from resolved: ``reopen`` (an open ticket stays open)
Resolved      ``resolve`` (the follow-up's comment or the ticket's resolution)
Closed        ``close``; an open ticket is resolved and closed at that instant
              (supportkit closes only resolved tickets)
Duplicate     ``close_as_duplicate`` (left out of the SLA figures)
============  ==============================================================

In supportkit ``closed`` is final, while django-helpdesk reopens closed
tickets; so a closing that a later status change undoes is imported as a
resolution, and only the ticket's last closing closes it. Public follow-ups
written after that closing are kept as notes (a closed ticket takes no more
messages). Instants never go backwards: a follow-up dated before the step
before it is moved up to that step's instant and counted in the warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ..domain._errors import SupportKitError
from ..domain._model import Attachment, Direction, Priority
from ._source import HelpdeskFollowUp, HelpdeskTicket, HelpdeskUser, parse_when

__all__ = [
    "Assign",
    "Change",
    "Open",
    "Post",
    "TicketPlan",
    "Unmappable",
    "plan_ticket",
]

OPEN, REOPENED, RESOLVED, CLOSED, DUPLICATE = 1, 2, 3, 4, 5
STATUS_NAMES = {1: "Open", 2: "Reopened", 3: "Resolved", 4: "Closed", 5: "Duplicate"}
#: django-helpdesk's 1 (Critical) .. 5 (Very Low) on supportkit's four priorities
PRIORITIES = {
    1: Priority.URGENT,
    2: Priority.HIGH,
    3: Priority.NORMAL,
    4: Priority.LOW,
    5: Priority.LOW,
}
#: who the importer's own steps (team, custom fields) are recorded as
SYSTEM = "django-helpdesk"


class Unmappable(SupportKitError):
    """A django-helpdesk row that cannot become a supportkit ticket (the reason says why)."""


@attrs.frozen
class Open:
    at: datetime
    key: str
    channel: str
    sender: str
    sender_name: str | None
    subject: str
    text: str
    priority: Priority
    team_id: str | None
    source_id: int
    attachments: tuple[Attachment, ...] = ()
    meta: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Post:
    at: datetime
    key: str
    direction: Direction
    author: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    meta: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Change:
    """A lifecycle step: ``resolve``, ``close``, ``reopen`` or ``close_as_duplicate``."""

    at: datetime
    event: str
    actor: str
    reason: str
    duplicate_of: str | None = None  # the source key of the ticket it duplicates


@attrs.frozen
class Assign:
    at: datetime
    agent_id: str


Step = Open | Post | Change | Assign


@attrs.define
class TicketPlan:
    source_id: int
    key: str
    steps: list[Step]
    warnings: list[str] = attrs.field(factory=list)


def ticket_key(source: str, ticket_id: int) -> str:
    """The external id of an imported ticket's opening message: the import's idempotency key."""
    return f"{source}:ticket:{ticket_id}"


def followup_key(source: str, followup_id: int) -> str:
    return f"{source}:followup:{followup_id}"


class _Timeline:
    """Instants that never go backwards."""

    def __init__(self, start: datetime, warnings: list[str]) -> None:
        self.last = start
        self.warnings = warnings

    def at(self, value: Any, what: str) -> datetime:
        try:
            when = parse_when(value)
        except (ValueError, TypeError):
            raise Unmappable(f"{what} has no readable date ({value!r})") from None
        if when < self.last:
            self.warnings.append("a date before the step before it was moved up to it")
            return self.last
        self.last = when
        return when


def _attachments(fu: HelpdeskFollowUp) -> tuple[tuple[Attachment, ...], list[str]]:
    return (
        tuple(Attachment(a.filename, a.mime_type, max(a.size, 0)) for a in fu.attachments),
        [a.path for a in fu.attachments],
    )


def plan_ticket(
    t: HelpdeskTicket,
    *,
    source: str,
    users: Mapping[int, HelpdeskUser],
    agents: Mapping[int, str],
    teams: Mapping[int, str],
    anonymous_sender: str | None = None,
) -> TicketPlan:
    """The steps replaying *t*; :class:`Unmappable` when it cannot be imported.

    *agents* maps django-helpdesk user ids to supportkit agent ids (the staff
    and everyone tickets are assigned to); other users who write public
    follow-ups are the customer. *teams* maps queue ids to team ids.
    """
    if t.status not in STATUS_NAMES:
        raise Unmappable(
            f"status {t.status!r} is not one of django-helpdesk's statuses "
            f"{', '.join(f'{n} ({c})' for c, n in STATUS_NAMES.items())}; a custom status "
            "needs its own mapping: change it in django-helpdesk to one of these and run again"
        )
    for fu in t.followups:
        if fu.new_status is not None and fu.new_status not in STATUS_NAMES:
            raise Unmappable(
                f"follow-up {fu.id} sets status {fu.new_status!r}, which is not one of "
                f"django-helpdesk's statuses {sorted(STATUS_NAMES)}"
            )
    sender = t.submitter_email or anonymous_sender
    if not sender:
        raise Unmappable(
            "no submitter e-mail, so no customer to open the ticket for: set one in "
            "django-helpdesk, or pass --anonymous-sender ADDRESS to import such tickets "
            "under one customer"
        )
    warnings: list[str] = []
    try:
        created = parse_when(t.created)
    except (ValueError, TypeError):
        raise Unmappable(f"the ticket has no readable creation date ({t.created!r})") from None
    clock = _Timeline(created, warnings)
    key = ticket_key(source, t.id)
    followups = list(t.followups)
    opening: HelpdeskFollowUp | None = None
    if (
        followups
        and t.description.strip()
        and followups[0].comment.strip() == t.description.strip()
    ):
        opening = followups.pop(0)
    text = (t.description.strip() and t.description) or t.title.strip() or "(no text)"
    priority = PRIORITIES.get(t.priority, Priority.NORMAL)
    if t.priority not in PRIORITIES:
        warnings.append(f"priority {t.priority!r} unknown: imported as normal")
    files, paths = _attachments(opening) if opening else ((), [])
    meta: dict[str, Any] = {"imported_from": source, "source_id": t.id}
    if paths:
        meta["attachment_paths"] = paths
    steps: list[Step] = [
        Open(
            at=created,
            key=key,
            channel="email" if opening is not None and opening.message_id else "web",
            sender=sender,
            sender_name=None,
            subject=t.title.strip() or "(no subject)",
            text=text,
            priority=priority,
            team_id=teams.get(t.queue_id),
            source_id=t.id,
            attachments=files,
            meta=meta,
        )
    ]
    if t.queue_id not in teams:
        warnings.append(f"queue {t.queue_id} not found: imported without a team")

    # the status changes, in order; the ticket's own status last if the follow-ups
    # do not end there (bulk edits, admin changes)
    changes: list[tuple[HelpdeskFollowUp | None, int]] = []
    if opening is not None and opening.new_status not in (None, OPEN):
        changes.append((opening, opening.new_status))
    changes.extend((fu, fu.new_status) for fu in followups if fu.new_status is not None)
    current = changes[-1][1] if changes else OPEN
    if current != t.status:
        changes.append((None, t.status))
    final_closing = len(changes) - 1 if t.status in (CLOSED, DUPLICATE) else -1

    state = "open"  # open | resolved | closed, as the replay goes
    owner_at: datetime | None = None
    change_index = 0

    def actor_of(fu: HelpdeskFollowUp | None) -> str:
        """The agent who wrote *fu*; the customer for a public one by anybody else."""
        if fu is None:
            return SYSTEM
        if fu.user_id is not None and fu.user_id in agents:
            return agents[fu.user_id]
        if not fu.public:
            return SYSTEM
        user = users.get(fu.user_id) if fu.user_id is not None else None
        return (user.email if user and user.email else None) or sender

    def change(fu: HelpdeskFollowUp | None, status: int, at: datetime, final: bool) -> None:
        nonlocal state
        actor = actor_of(fu)
        comment = (fu.comment.strip() if fu else "") or t.resolution.strip()
        name = STATUS_NAMES[status]
        if status in (OPEN, REOPENED):
            if state == "resolved":
                steps.append(Change(at, "reopen", actor, f"{name} in django-helpdesk"))
                state = "open"
            return
        if state == "open" and (status in (RESOLVED, CLOSED) or not final):
            steps.append(Change(at, "resolve", actor, comment or f"{name} in django-helpdesk"))
            state = "resolved"
        if not final:
            return
        if status == CLOSED:
            steps.append(Change(at, "close", actor, "closed in django-helpdesk"))
        else:
            merged = f" (merged into ticket {t.merged_to_id})" if t.merged_to_id else ""
            dup = ticket_key(source, t.merged_to_id) if t.merged_to_id else None
            steps.append(
                Change(
                    at, "close_as_duplicate", actor, f"duplicate in django-helpdesk{merged}", dup
                )
            )
        state = "closed"

    if opening is not None and opening.new_status not in (None, OPEN):
        change(opening, changes[0][1], created, final_closing == 0)
        change_index = 1
    for fu in followups:
        at = clock.at(fu.date, f"follow-up {fu.id}")
        files, paths = _attachments(fu)
        text = fu.comment.strip() and fu.comment
        if text or files:
            author = actor_of(fu)
            if not fu.public:
                direction = Direction.NOTE
                user = users.get(fu.user_id) if fu.user_id is not None else None
                if author == SYSTEM and user is not None:
                    author = user.email or user.username
            elif fu.user_id is not None and fu.user_id in agents:
                direction = Direction.OUTBOUND
            else:
                direction = Direction.INBOUND
            meta = {"imported_from": source, "source_id": fu.id}
            if paths:
                meta["attachment_paths"] = paths
            if state == "closed" and direction is not Direction.NOTE:
                meta["public"] = direction.value  # written after the closing: kept as a note
                direction = Direction.NOTE
            if direction is Direction.OUTBOUND:
                meta["deliver"] = False  # django-helpdesk sent it already
            steps.append(
                Post(at, followup_key(source, fu.id), direction, author, text, files, meta)
            )
        if fu.owner_changed:
            owner_at = at
        if fu.new_status is not None:
            change(fu, fu.new_status, at, change_index == final_closing)
            change_index += 1
    if change_index < len(changes):  # the ticket's own status, at its last change
        try:
            modified = parse_when(t.modified)
        except (ValueError, TypeError):
            modified = clock.last
        change(None, changes[-1][1], max(modified, clock.last), final_closing == len(changes) - 1)
    if t.assigned_to_id is not None:
        if t.assigned_to_id not in agents:
            warnings.append(f"assigned to unknown user {t.assigned_to_id}: left unassigned")
        else:
            assign = Assign(owner_at or created, agents[t.assigned_to_id])
            index = next((i for i, s in enumerate(steps) if s.at > assign.at), len(steps))
            steps.insert(max(index, 1), assign)
    return TicketPlan(t.id, key, steps, warnings)
