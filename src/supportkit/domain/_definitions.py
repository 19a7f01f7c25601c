"""One definition of each concept the metrics, the SLA clocks and the ticket agree on.

Every path that needs one of these asks here: the ticket's timestamps
(``first_response_at``), :class:`~supportkit.extensions.SlaExtension`, the
streaming calculator, the SQL push-down (which builds its SQL from the
constants below), the report and the demo. ``docs/metrics-and-reports.md``
states each formula once.

- **A response** is a human agent's public reply: an outbound message that
  is not automated. A message is *automated* when a bot or the system wrote
  it (meta ``bot``, ``auto_submitted``, ``notification``,
  ``feedback_request``); the decision is made once, when the message is
  stored, and kept on it as ``meta["automated"] = True`` and on
  :class:`~supportkit.domain.MessageAdded` as ``automated``. Automated
  messages never count: not as a first or next response, not for
  first-contact resolution, and an automated inbound message (an
  auto-reply) starts no wait.
- **Excluded closings** (:data:`EXCLUDED_CLOSINGS`: spam, duplicate) take a
  ticket out of every SLA figure, once they happened.
- **Open at an instant T**: received at or before T, and not in a
  :data:`DONE_STATUSES` status after its last status change at or before T
  (read from the stored history, so a ticket resolved then reopened later
  is counted right at every instant).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ._model import Direction, HistoryEntry, Message

__all__ = [
    "AUTOMATED",
    "AUTOMATION_MARKERS",
    "DONE_STATUSES",
    "EXCLUDED_CLOSINGS",
    "backlog_changes",
    "excluded_from_sla_at",
    "is_auto_submitted",
    "is_automated",
    "is_first_contact_resolution",
    "is_open_at",
    "is_response",
    "response_count",
    "response_waits",
]

#: The meta key where the stored message keeps the decision "a machine wrote this".
AUTOMATED = "automated"
#: Meta keys that mark a message as written by a bot or the system.
AUTOMATION_MARKERS = ("bot", "auto_submitted", "notification", "feedback_request")
#: Lifecycle events whose closing takes the ticket out of the SLA figures.
EXCLUDED_CLOSINGS: frozenset[str] = frozenset({"close_as_spam", "close_as_duplicate"})
#: Statuses in which a ticket is out of the backlog (resolved, or closed for good).
DONE_STATUSES: tuple[str, ...] = ("resolved", "closed")


def is_auto_submitted(value: Any) -> bool:
    """Whether an RFC 3834 ``Auto-Submitted`` value (or flag) says a machine sent it."""
    if value is None or value is False:
        return False
    return not (isinstance(value, str) and value.strip().lower() in ("", "no"))


def is_automated(meta: Mapping[str, Any] | None) -> bool:
    """Whether message *meta* says a bot or the system wrote the message (see the module)."""
    if not meta:
        return False
    if meta.get(AUTOMATED) is True:
        return True
    if is_auto_submitted(meta.get("auto_submitted")):
        return True
    return any(
        meta.get(key) not in (None, False, "")
        for key in AUTOMATION_MARKERS
        if key != "auto_submitted"
    )


def _automated(message: Message) -> bool:
    return message.meta.get(AUTOMATED) is True


def is_response(direction: Direction | str, automated: bool) -> bool:
    """A human agent's public reply: outbound and not automated."""
    return Direction(direction) is Direction.OUTBOUND and not automated


def _is_customer(direction: Direction | str, automated: bool) -> bool:
    return Direction(direction) is Direction.INBOUND and not automated


def response_count(messages: Iterable[Message]) -> int:
    """How many responses (human public replies) are among *messages*."""
    return sum(1 for m in messages if is_response(m.direction, _automated(m)))


def response_waits(messages: Iterable[Message]) -> tuple[tuple[datetime, datetime | None], ...]:
    """The next-response waits of a ticket's messages (oldest first).

    A wait starts at a customer message (inbound, not automated) that comes
    after a response while no wait is open, and ends at the next response
    (``None`` while unanswered). Notes and automated messages are skipped.
    """
    waits: list[tuple[datetime, datetime | None]] = []
    answered = False
    start: datetime | None = None
    for m in messages:
        automated = _automated(m)
        if _is_customer(m.direction, automated):
            if answered and start is None:
                start = m.created_at
        elif is_response(m.direction, automated):
            if start is not None:
                waits.append((start, m.created_at))
                start = None
            answered = True
    if start is not None:
        waits.append((start, None))
    return tuple(waits)


def is_first_contact_resolution(resolved: bool, reopen_count: int, responses: int) -> bool:
    """Resolved with exactly one response and never reopened (bots' answers do not count)."""
    return resolved and reopen_count == 0 and responses == 1


def backlog_changes(
    received_at: datetime, history: Iterable[HistoryEntry]
) -> tuple[tuple[datetime, int], ...]:
    """When the ticket entered (+1) and left (-1) the backlog: reception, then every status
    change that crosses into or out of :data:`DONE_STATUSES`, in stored order."""
    out = [(received_at, 1)]
    for h in history:
        was, now = h.from_status in DONE_STATUSES, h.to_status in DONE_STATUSES
        if was != now:
            out.append((h.at, -1 if now else 1))
    return tuple(out)


def is_open_at(changes: Sequence[tuple[datetime, int]], at: datetime) -> bool:
    """Whether a ticket with these :func:`backlog_changes` is open at *at*.

    Open: received at or before *at*, and it has left a done status as often
    as it entered one by then (changes at exactly *at* have happened).
    """
    if not changes or changes[0][0] > at:
        return False
    return sum(delta for when, delta in changes[1:] if when <= at) == 0


def excluded_from_sla_at(history: Iterable[HistoryEntry]) -> datetime | None:
    """When the ticket was closed with an excluded closing (spam, duplicate), if it was."""
    for h in history:
        if h.event in EXCLUDED_CLOSINGS:
            return h.at
    return None
