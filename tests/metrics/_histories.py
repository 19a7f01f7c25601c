"""Random ticket histories, made by driving a real SupportDesk with a fake clock."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from supportkit import Agent, FakeClock, Priority, SupportDesk, SupportKitError, Team
from supportkit.ports import Storage

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CHANNELS = ("email", "chat", "phone")
AGENTS = ("ann", "bob")
CATEGORIES = (None, "billing", "login")
TAGS = ("refund", "password", "outage")

Op = tuple[Any, ...]

ops: st.SearchStrategy[Op] = st.one_of(
    st.tuples(
        st.just("new"),
        st.sampled_from(CHANNELS),
        st.sampled_from(list(Priority)),
        st.sampled_from(CATEGORIES),
        st.frozensets(st.sampled_from(TAGS), max_size=2),
    ),
    st.tuples(st.just("customer"), st.integers(0, 5)),
    st.tuples(st.just("reply"), st.integers(0, 5)),
    st.tuples(st.just("bot"), st.integers(0, 5)),
    st.tuples(st.just("autoreply"), st.integers(0, 5)),
    st.tuples(st.just("spam"), st.integers(0, 5)),
    st.tuples(st.just("duplicate"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("note"), st.integers(0, 5)),
    st.tuples(st.just("resolve"), st.integers(0, 5)),
    st.tuples(st.just("close"), st.integers(0, 5)),
    st.tuples(st.just("reopen"), st.integers(0, 5)),
    st.tuples(st.just("wait"), st.integers(0, 5)),
    st.tuples(st.just("escalate"), st.integers(0, 5), st.sampled_from(("L1", "L2", "L3"))),
    st.tuples(st.just("assign"), st.integers(0, 5), st.sampled_from((*AGENTS, None))),
    st.tuples(st.just("advance"), st.integers(1, 3000)),
)

_new = st.tuples(
    st.just("new"),
    st.sampled_from(CHANNELS),
    st.sampled_from(list(Priority)),
    st.sampled_from(CATEGORIES),
    st.frozensets(st.sampled_from(TAGS), max_size=2),
)
#: a few tickets first, then a mixed sequence of use cases mostly on them
histories = st.builds(
    lambda first, rest: [*first, *rest],
    st.lists(_new, min_size=1, max_size=8),
    st.lists(ops, min_size=5, max_size=60),
)


def make_desk(storage: Storage, prefix: str = "id") -> tuple[SupportDesk, FakeClock]:
    """A desk on a fake clock whose ids are *prefix* and a counter (desks sharing one
    database need different prefixes)."""
    clock = FakeClock(START)
    counter = itertools.count(1)
    desk = SupportDesk(storage, clock=clock, ids=lambda: f"{prefix}{next(counter):05d}")
    desk.add_team(Team("support", "Support"))
    for a in AGENTS:
        desk.add_agent(Agent(a, a.title(), teams=("support",)))
    return desk, clock


def drive(desk: SupportDesk, clock: FakeClock, history: Sequence[Op]) -> list[str]:
    """Apply *history*; operations the desk refuses are skipped. Returns the ticket ids."""
    tickets: list[str] = []
    for op in history:
        kind = op[0]
        if kind == "advance":
            clock.advance(minutes=op[1])
            continue
        if kind == "new":
            n = len(tickets)
            extra = op[3:] if len(op) > 3 else (None, ())
            t = desk.receive(
                op[1],
                f"c{n}@example.com",
                "help",
                priority=op[2],
                category=extra[0],
                tags=extra[1],
            )
            if n % 3:  # some tickets have a kind of support, some none
                desk.set_kind(t.id, ("technical", "customer")[n % 2], actor="ann")
            tickets.append(t.id)
            clock.advance(minutes=1)
            continue
        if not tickets:
            continue
        tid = tickets[op[1] % len(tickets)]
        try:
            if kind == "customer":
                t = desk.receive("email", "someone@example.com", "more", ticket_id=tid)
                if t.id not in tickets:
                    tickets.append(t.id)
            elif kind == "reply":
                desk.reply(tid, "ann", "answer")
            elif kind == "bot":
                desk.reply(tid, "bot", "an article that may help", meta={"bot": True})
            elif kind == "autoreply":
                desk.receive(
                    "email",
                    "someone@example.com",
                    "I am out of office",
                    ticket_id=tid,
                    meta={"auto_submitted": "auto-replied"},
                )
            elif kind == "spam":
                desk.close_as_spam(tid, actor="ann", reason="advertising")
            elif kind == "duplicate":
                other = tickets[op[2] % len(tickets)]
                desk.close_as_duplicate(tid, actor="ann", duplicate_of=other)
            elif kind == "note":
                desk.add_note(tid, "ann", "note")
            elif kind == "resolve":
                desk.resolve(tid, actor="ann", resolution="fixed")
            elif kind == "close":
                desk.close(tid, actor="ann")
            elif kind == "reopen":
                desk.reopen(tid, actor="ann", reason="not fixed")
            elif kind == "wait":
                desk.wait_on_customer(tid, actor="ann")
            elif kind == "escalate":
                desk.escalate(tid, op[2], actor="ann", reason="hard")
            elif kind == "assign":
                desk.assign(tid, op[2])
        except SupportKitError:
            pass
        clock.advance(minutes=1)
    return tickets
