"""Any sequence of django-helpdesk statuses replays onto the default lifecycle.

Property: whatever follow-ups a ticket has (statuses in any order, comments or
none, public or private, by an agent or the customer), its plan runs through a
real desk without an error, ends in the status django-helpdesk shows, and its
history never goes back in time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit import FakeClock, SupportDesk
from supportkit.domain import Agent
from supportkit.importers import Unmappable
from supportkit.importers._django_helpdesk import _apply
from supportkit.importers._plan import plan_ticket
from supportkit.importers._source import HelpdeskFollowUp, HelpdeskTicket, HelpdeskUser
from supportkit.storage.memory import MemoryStorage

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
USERS = {
    1: HelpdeskUser(1, "alice", "alice@example.com", "Alice", True, True),
    2: HelpdeskUser(2, "carol", "carol@example.com", "", False, True),
}
EXPECTED = {
    1: {"registered", "diagnosing"},
    2: {"registered", "diagnosing"},
    3: {"resolved"},
    4: {"closed"},
    5: {"closed"},
}

followups = st.lists(
    st.tuples(
        st.integers(0, 10_000),  # minutes after the creation (sorted below)
        st.sampled_from(["", "Some words."]),
        st.booleans(),  # public
        st.sampled_from([None, 1, 2]),  # user: nobody, the agent, a customer with an account
        st.sampled_from([None, None, 1, 2, 3, 4, 5]),  # new status
    ),
    max_size=12,
)


def ticket(
    status: int, rows: list[tuple[int, str, bool, int | None, int | None]]
) -> HelpdeskTicket:
    fus = tuple(
        HelpdeskFollowUp(
            id=i + 1,
            date=(T0 + timedelta(minutes=m)).isoformat(),
            title="",
            comment=comment,
            public=public,
            user_id=user,
            new_status=new,
            message_id=None,
        )
        for i, (m, comment, public, user, new) in enumerate(sorted(rows, key=lambda r: r[0]))
    )
    return HelpdeskTicket(
        id=7,
        title="Printer",
        queue_id=1,
        created=T0.isoformat(),
        modified=(T0 + timedelta(days=30)).isoformat(),
        submitter_email="dan@example.com",
        assigned_to_id=1,
        status=status,
        description="It is offline.",
        resolution="",
        priority=3,
        merged_to_id=None,
        followups=fus,
    )


@given(
    status=st.sampled_from([1, 2, 3, 4, 5]),
    rows=followups,
    opening=st.sampled_from([None, 1, 3, 4, 5]),  # the "Ticket Opened" follow-up, its status
)
def test_any_status_sequence_replays_and_ends_where_django_helpdesk_is(
    status: int, rows: list[tuple[int, str, bool, int | None, int | None]], opening: int | None
) -> None:
    if opening is not None:  # carries the description: the opening message, not a second one
        rows = [(0, "It is offline.", True, None, None if opening == 1 else opening), *rows]
    clock = FakeClock(T0)
    desk = SupportDesk(MemoryStorage(), clock=clock)
    desk.add_agent(Agent("alice", "Alice"))
    plan = plan_ticket(
        ticket(status, rows), source="hd", users=USERS, agents={1: "alice"}, teams={1: "support"}
    )
    with desk.batch():
        _apply(desk, clock, plan)
    (t,) = desk.find_tickets()
    assert t.status in EXPECTED[status]
    instants = [h.at for h in desk.history(t.id)]
    assert instants == sorted(instants)
    assert instants[0] == T0
    messages = desk.messages(t.id)
    assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)
    written = 1 + sum(1 for _, comment, *_ in rows if comment) - (opening is not None)
    assert len(messages) == written


def test_unreadable_dates_make_the_ticket_unmappable_with_the_reason() -> None:
    good = ticket(1, [(5, "Hello", True, 1, None)])
    options = {"source": "hd", "users": USERS, "agents": {1: "alice"}, "teams": {}}
    with pytest.raises(Unmappable, match="no readable creation date"):
        plan_ticket(attrs.evolve(good, created="yesterday"), **options)  # type: ignore[arg-type]
    broken = attrs.evolve(good.followups[0], date=None)
    with pytest.raises(Unmappable, match="follow-up 1 has no readable date"):
        plan_ticket(attrs.evolve(good, followups=(broken,)), **options)  # type: ignore[arg-type]
    plan = plan_ticket(attrs.evolve(good, priority=9), **options)  # type: ignore[arg-type]
    assert plan.warnings == [
        "priority 9 unknown: imported as normal",
        "queue 1 not found: imported without a team",
    ]
