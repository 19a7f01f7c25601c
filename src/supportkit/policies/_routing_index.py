"""The agent index: the candidate search of routing, kept up to date incrementally.

Agents are grouped in *pools*, one per team, tier, language and skill, plus
one pool of everybody. Each pool keeps, for its agents that can take a
ticket now (online and below capacity):

* a sorted list of their ids, the ring round-robin walks;
* a heap ordered by load relative to capacity, with lazy invalidation:
  a load change pushes a fresh entry and leaves the old one to be skipped
  (and dropped when a search meets it), and the heap is rebuilt when stale
  entries outnumber live ones. A pool's heap is built the first time a
  search by load needs it, so pools only round-robin walks cost nothing.

A routing decision reads the smallest pool the filters name and checks the
other conditions only on the agents it actually visits, so its cost depends
on how many agents it looks at, not on how many agents the desk has.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Sequence

from supportkit.domain._errors import NotFound
from supportkit.domain._model import Agent, Availability

from ._tiers import Roster

__all__ = ["ALL_AGENTS", "AgentIndex", "PoolKey"]

PoolKey = tuple[str, str]
"""``("team", "billing")``, ``("tier", "L2")``, ``("language", "ru")``, ``("skill", "sql")``."""

ALL_AGENTS: PoolKey = ("all", "")

_HeapItem = tuple[float, int, str, int]  # (load/capacity, load, agent id, stamp)


class _Pool:
    __slots__ = ("heap", "heap_on", "members", "ring", "stale")

    def __init__(self) -> None:
        self.members: set[str] = set()
        self.ring: list[str] = []
        self.heap: list[_HeapItem] = []
        self.heap_on = False  # the load heap is built on first use, then maintained
        self.stale = 0


class _Entry:
    __slots__ = ("agent", "assignable", "load", "pools", "stamp")

    def __init__(self, agent: Agent, load: int) -> None:
        self.agent = agent
        self.load = load
        self.stamp = 0
        self.assignable = False
        self.pools: frozenset[PoolKey] = _pool_keys(agent)


def _pool_keys(agent: Agent) -> frozenset[PoolKey]:
    keys: set[PoolKey] = {ALL_AGENTS, ("tier", agent.tier)}
    keys.update(("team", t) for t in agent.teams)
    keys.update(("language", lang) for lang in agent.languages)
    keys.update(("skill", s) for s in agent.skills)
    return frozenset(keys)


def _can_take(agent: Agent, load: int) -> bool:
    return agent.availability is Availability.ONLINE and load < agent.capacity


class AgentIndex:
    """Live routing state of agents: availability and open-ticket load, indexed.

    Mutate it only through its methods (``add``, ``update``, ``remove``,
    ``set_availability``, ``assign``, ``release``, ``set_load``) so the
    indexes stay right; an :class:`Agent` handed in is owned by the index.
    Not thread-safe: one index per desk process, updated under the desk's lock.

    >>> index = AgentIndex([Agent("a1", "Ann", teams=("billing",))])
    >>> index.assign("a1"); index.load("a1")
    1
    """

    def __init__(self, agents: Iterable[Agent] = (), *, roster: Roster | None = None) -> None:
        self.roster = roster
        self._entries: dict[str, _Entry] = {}
        self._pools: dict[PoolKey, _Pool] = {}
        self._assignable = 0
        self._stamps = 0
        for agent in agents:
            self.add(agent)

    @classmethod
    def from_roster(cls, roster: Roster, loads: dict[str, int] | None = None) -> AgentIndex:
        """An index of the roster's agents, with their current open-ticket counts."""
        index = cls(roster=roster)
        loads = loads or {}
        for agent in roster.agents.values():
            index.add(agent, load=loads.get(agent.id, 0))
        return index

    # -- reading ------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._entries

    def __iter__(self) -> Iterator[Agent]:
        return (e.agent for e in self._entries.values())

    def agent(self, agent_id: str) -> Agent:
        return self._entry(agent_id).agent

    def load(self, agent_id: str) -> int:
        """Open tickets assigned to the agent."""
        return self._entry(agent_id).load

    def ratio(self, agent_id: str) -> float:
        """Load relative to capacity (1.0 is full; an agent with capacity 0 is always full)."""
        e = self._entry(agent_id)
        return e.load / e.agent.capacity if e.agent.capacity else 1.0

    def can_take(self, agent_id: str) -> bool:
        """True if the agent is online and below capacity."""
        e = self._entries.get(agent_id)
        return e is not None and e.assignable

    @property
    def assignable_count(self) -> int:
        """How many agents can take a ticket now."""
        return self._assignable

    def pools_of(self, agent_id: str) -> frozenset[PoolKey]:
        return self._entry(agent_id).pools

    def stamp(self, agent_id: str) -> int:
        return self._entry(agent_id).stamp

    def available_in(self, key: PoolKey) -> Sequence[str]:
        """Sorted ids of the agents of pool *key* that can take a ticket now."""
        pool = self._pools.get(key)
        return pool.ring if pool is not None else ()

    def members(self, key: PoolKey) -> frozenset[str]:
        pool = self._pools.get(key)
        return frozenset(pool.members) if pool is not None else frozenset()

    def iter_by_load(self, key: PoolKey) -> Iterator[str]:
        """Agents of pool *key* that can take a ticket, least loaded first (ties by id).

        Beyond dropping stale entries from the top, reads the heap without
        changing it (a frontier walk over the heap's tree), so it is safe to
        stop early; do not change the index while iterating.
        """
        pool = self._pools.get(key)
        if pool is None:
            return
        heap, entries = self._heap(pool), self._entries
        # lazy invalidation: drop stale entries from the top, so the least
        # loaded agent is found at once however many updates came before
        while heap:
            top = heap[0]
            e = entries.get(top[2])
            if e is not None and e.stamp == top[3] and e.assignable:
                break
            heapq.heappop(heap)
            pool.stale = max(pool.stale - 1, 0)
        if not heap:
            return
        frontier: list[tuple[_HeapItem, int]] = [(heap[0], 0)]
        n = len(heap)
        while frontier:
            item, i = heapq.heappop(frontier)
            entry = entries.get(item[2])
            if entry is not None and entry.stamp == item[3] and entry.assignable:
                yield item[2]
            child = 2 * i + 1
            if child < n:
                heapq.heappush(frontier, (heap[child], child))
                if child + 1 < n:
                    heapq.heappush(frontier, (heap[child + 1], child + 1))

    def least_loaded(
        self, key: PoolKey, accept: Callable[[str], bool] | None = None, limit: int = 1
    ) -> list[str]:
        """Up to *limit* agents of pool *key* that can take a ticket and that
        *accept* admits, least loaded first (ties by id).

        Stale heap entries met on the way are dropped for good (lazy
        invalidation), so each update is paid for once; valid entries looked
        at are put back.
        """
        pool = self._pools.get(key)
        if pool is None or limit < 1:
            return []
        heap, entries = self._heap(pool), self._entries
        found: list[str] = []
        kept: list[_HeapItem] = []
        try:
            while heap:
                item = heapq.heappop(heap)
                e = entries.get(item[2])
                if e is None or e.stamp != item[3] or not e.assignable:
                    pool.stale = max(pool.stale - 1, 0)
                    continue
                kept.append(item)
                if accept is None or accept(item[2]):
                    found.append(item[2])
                    if len(found) >= limit:
                        break
        finally:
            for item in kept:
                heapq.heappush(heap, item)
        return found

    def iter_ring(self, key: PoolKey, after: str | None = None) -> Iterator[str]:
        """Agents of pool *key* that can take a ticket, in id order starting after
        *after* and wrapping around once (the round-robin ring)."""
        ring = self.available_in(key)
        n = len(ring)
        if not n:
            return
        start = bisect_right(ring, after) if after is not None else 0
        for i in range(n):
            yield ring[(start + i) % n]

    # -- changing -------------------------------------------------------------

    def add(self, agent: Agent, *, load: int = 0) -> None:
        """Index a new agent (checked against the roster, if the index has one)."""
        if agent.id in self._entries:
            raise ValueError(f"agent {agent.id!r} is indexed already; use update()")
        if self.roster is not None:
            self.roster.check_agent(agent)
        entry = _Entry(agent, load)
        self._entries[agent.id] = entry
        for key in entry.pools:
            self._pools.setdefault(key, _Pool()).members.add(agent.id)
        self._refresh(entry)

    def update(self, agent: Agent) -> None:
        """Re-index an agent whose teams, tier, skills, languages, capacity,
        availability or working hours changed; its load is kept."""
        load = self.load(agent.id)
        self.remove(agent.id)
        self.add(agent, load=load)

    def remove(self, agent_id: str) -> None:
        entry = self._entry(agent_id)
        self._set(entry, assignable=False)
        for key in entry.pools:
            pool = self._pools[key]
            pool.members.discard(agent_id)
        del self._entries[agent_id]

    def set_availability(self, agent_id: str, availability: Availability) -> None:
        entry = self._entry(agent_id)
        entry.agent.availability = availability
        self._refresh(entry)

    def set_load(self, agent_id: str, load: int) -> None:
        if load < 0:
            raise ValueError(f"agent {agent_id!r}: load {load} is negative")
        entry = self._entry(agent_id)
        entry.load = load
        self._refresh(entry)

    def assign(self, agent_id: str) -> None:
        """One more open ticket for the agent."""
        self.set_load(agent_id, self.load(agent_id) + 1)

    def release(self, agent_id: str) -> None:
        """One open ticket fewer (resolved, reassigned, escalated away)."""
        self.set_load(agent_id, max(self.load(agent_id) - 1, 0))

    # -- internals ------------------------------------------------------------

    def _entry(self, agent_id: str) -> _Entry:
        try:
            return self._entries[agent_id]
        except KeyError:
            raise NotFound(
                "agent", agent_id, "add it to the AgentIndex (or the roster) first"
            ) from None

    def _refresh(self, entry: _Entry) -> None:
        self._set(entry, assignable=_can_take(entry.agent, entry.load))

    def _set(self, entry: _Entry, *, assignable: bool) -> None:
        was = entry.assignable
        agent_id = entry.agent.id
        self._stamps += 1
        entry.stamp = self._stamps
        entry.assignable = assignable
        if was != assignable:
            self._assignable += 1 if assignable else -1
        ratio = entry.load / entry.agent.capacity if assignable else 1.0
        item: _HeapItem = (ratio, entry.load, agent_id, entry.stamp)
        for key in entry.pools:
            pool = self._pools[key]
            if was:
                pool.stale += 1
            if was and not assignable:
                pool.ring.pop(bisect_right(pool.ring, agent_id) - 1)
            elif assignable and not was:
                insort(pool.ring, agent_id)
            if not pool.heap_on:
                continue
            if assignable:
                heapq.heappush(pool.heap, item)
            if pool.stale > len(pool.ring) + 32:
                self._compact(pool)

    def _heap(self, pool: _Pool) -> list[_HeapItem]:
        if not pool.heap_on:
            entries = self._entries
            heap = []
            for aid in pool.ring:
                e = entries[aid]
                heap.append((e.load / e.agent.capacity, e.load, aid, e.stamp))
            heapq.heapify(heap)
            pool.heap = heap
            pool.heap_on = True
            pool.stale = 0
        return pool.heap

    def _compact(self, pool: _Pool) -> None:
        entries = self._entries
        live = []
        for item in pool.heap:
            e = entries.get(item[2])
            if e is not None and e.stamp == item[3] and e.assignable:
                live.append(item)
        heapq.heapify(live)
        pool.heap = live
        pool.stale = 0
