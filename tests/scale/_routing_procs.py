"""Routing from several processes: the workers (spawned), and a replay of the stored history.

Every worker builds its own desk with its own :class:`DeskRouting` on the
shared database; the agents are stored once by the test (a worker passes
none, so it overwrites nothing).
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from supportkit import SupportDesk
from supportkit.domain import Agent, Priority, Team
from supportkit.domain._events import StatusChanged, TicketAssigned, TicketQueued
from supportkit.extensions import DeskRouting
from supportkit.ports import Storage, StoredEvent

from ._procs import open_url

AGENTS = 5
CAPACITY = 3
TEAM = Team("support", "Support", "L1")


def agents(capacity: int = CAPACITY) -> list[Agent]:
    return [
        Agent(f"a{n}", f"Agent {n}", teams=("support",), capacity=capacity) for n in range(AGENTS)
    ]


def setup(url: str) -> None:
    """Store the team and the agents (the desk built here saves them)."""
    with open_url(url) as storage:
        SupportDesk(storage, extensions=[DeskRouting(teams=[TEAM], agents=agents())])


def desk_on(storage: Storage) -> SupportDesk:
    return SupportDesk(storage, extensions=[DeskRouting()])


def _wait_until(start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.time()))


def churn(url: str, name: str, n: int, resolve_every: int, start_at: float) -> list[str]:
    """Receive *n* tickets (priorities LOW, NORMAL, HIGH in turn); after every
    *resolve_every* of them resolve the oldest of its own tickets that is assigned.
    The errors met (none expected)."""
    storage = open_url(url)
    desk = desk_on(storage)
    errors: list[str] = []
    mine: list[str] = []
    _wait_until(start_at)
    for i in range(n):
        try:
            t = desk.receive(
                "email",
                f"{name}-{i}@example.com",
                f"request {i} from {name}",
                subject=f"{name} {i}",
                priority=Priority(1 + i % 3),
            )
            mine.append(t.id)
            if i % resolve_every == resolve_every - 1:
                for tid in mine:
                    got = desk.get_ticket(tid)
                    if got.assignee_id is not None and got.status != "resolved":
                        desk.resolve(tid, actor=got.assignee_id, resolution="answered")
                        break
        except Exception as exc:
            errors.append(repr(exc))
    storage.close()
    return errors


def _receive(desk: SupportDesk, name: str, priorities: list[int]) -> list[str]:
    return [
        desk.receive(
            "email",
            f"{name}-{i}@example.com",
            f"{name} {i}",
            subject=f"{name} {i}",
            priority=Priority(p),
        ).id
        for i, p in enumerate(priorities)
    ]


def _resolve(desk: SupportDesk, ticket_ids: list[str]) -> None:
    for tid in ticket_ids:
        t = desk.get_ticket(tid)
        assert t.assignee_id is not None
        desk.resolve(tid, actor=t.assignee_id, resolution="answered")


def _availability(desk: SupportDesk, agent_ids: list[str], online: bool) -> None:
    for agent_id in agent_ids:
        desk.set_availability(agent_id, "online" if online else "offline")


def _capacity(desk: SupportDesk, agent_id: str, capacity: int) -> None:
    desk.add_agent(Agent(agent_id, agent_id, teams=("support",), capacity=capacity))


def _assignees(desk: SupportDesk, ticket_ids: list[str]) -> list[str | None]:
    return [desk.get_ticket(t).assignee_id for t in ticket_ids]


COMMANDS: dict[str, Callable[..., Any]] = {
    "receive": _receive,
    "resolve": _resolve,
    "availability": _availability,
    "capacity": _capacity,
    "assignees": _assignees,
}


def serve(url: str, commands: Any, replies: Any) -> None:
    """A long-lived process with its desk built at start (as a web worker has it), running
    the commands it is sent, in order; replies ("ok", result) or ("error", repr)."""
    storage = open_url(url)
    desk = desk_on(storage)
    replies.put(("ok", "ready"))
    while True:
        cmd, args = commands.get()
        if cmd == "stop":
            break
        try:
            replies.put(("ok", COMMANDS[cmd](desk, *args)))
        except Exception as exc:
            replies.put(("error", repr(exc)))
    storage.close()


class Desks:
    """*n* desk processes on *url*, all started (desks built) before the first command."""

    def __init__(self, url: str, n: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._pipes = [(ctx.Queue(), ctx.Queue()) for _ in range(n)]
        self._procs = [
            ctx.Process(target=serve, args=(url, c, r), daemon=True) for c, r in self._pipes
        ]
        for p in self._procs:
            p.start()
        for n_ in range(n):
            assert self._reply(n_) == "ready"

    def _reply(self, n: int) -> Any:
        status, value = self._pipes[n][1].get(timeout=120)
        if status != "ok":
            raise AssertionError(f"desk process {n}: {value}")
        return value

    def call(self, n: int, cmd: str, *args: Any) -> Any:
        """Run *cmd* in process *n* and wait for its result."""
        self._pipes[n][0].put((cmd, args))
        return self._reply(n)

    def __enter__(self) -> Desks:
        return self

    def __exit__(self, *exc: object) -> None:
        for commands, _ in self._pipes:
            commands.put(("stop", ()))
        for p in self._procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()


def stored_events(storage: Storage) -> Iterator[StoredEvent]:
    seq = 0
    while True:
        with storage.unit_of_work() as uow:
            page = uow.events_since(seq, 1000)
        if not page:
            return
        yield from page
        seq = page[-1].seq


def replay(url: str) -> dict[str, Any]:
    """Replay the stored history in order, one transaction at a time (events of one use
    case share its instant), checking after each one: no agent over capacity, no ticket
    assigned while a more urgent or older one still waits, no free slot while a ticket
    waits. Returns the highest load seen and the problems found."""
    with open_url(url) as storage:
        events = [se.event for se in stored_events(storage)]
        with storage.unit_of_work() as uow:
            tickets = {t.id: t for t in uow.find_tickets(_all())}
    key = {tid: (-int(t.priority), t.age_reference, t.number) for tid, t in tickets.items()}
    load: Counter[str] = Counter()
    holder: dict[str, str] = {}
    waiting: set[str] = set()
    problems: list[str] = []
    highest = 0
    groups: list[list[Any]] = []
    last: datetime | None = None
    for ev in events:
        if not isinstance(ev, TicketAssigned | TicketQueued | StatusChanged):
            continue
        if ev.at != last:
            groups.append([])
            last = ev.at
        groups[-1].append(ev)
    for group in groups:
        assigned: list[str] = []
        for ev in group:
            if isinstance(ev, TicketQueued):
                waiting.add(ev.ticket_id)
            elif isinstance(ev, TicketAssigned):
                if ev.previous_agent_id is not None:
                    load[ev.previous_agent_id] -= 1
                if ev.agent_id is not None:
                    load[ev.agent_id] += 1
                    holder[ev.ticket_id] = ev.agent_id
                    assigned.append(ev.ticket_id)
                waiting.discard(ev.ticket_id)
            elif ev.to_status == "resolved":
                waiting.discard(ev.ticket_id)
                agent = holder.pop(ev.ticket_id, None)
                if agent is not None:
                    load[agent] -= 1
        highest = max([highest, *load.values()])
        over = {a: n for a, n in load.items() if n > CAPACITY}
        if over:
            problems.append(f"over capacity at {group[0].at}: {over}")
        for tid in assigned:
            ahead = [w for w in waiting if key[w] < key[tid]]
            if ahead:
                problems.append(f"#{tickets[tid].number} assigned while {len(ahead)} ahead wait")
        free = AGENTS * CAPACITY - sum(load.values())
        if waiting and free > 0:
            problems.append(f"{len(waiting)} waiting with {free} free slots at {group[0].at}")
    return {"highest": highest, "problems": problems, "waiting": waiting, "load": dict(load)}


def _all() -> Any:
    from supportkit.ports import TicketQuery

    return TicketQuery(limit=100_000)
