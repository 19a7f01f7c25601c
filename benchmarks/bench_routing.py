"""One routing decision with 10, 1,000 and 10,000 agents, per strategy.

The candidate search is indexed (supportkit.policies.AgentIndex), so the cost
of a decision should barely grow with the number of agents: the target is at
most 3x the cost at 10 agents when there are 10,000.

Each measurement routes a ticket (L1, team "support", English, two required
skills) with the default filters; the second half of the table also applies
the assignment to the index and releases it again, so loads move and the
lazy heaps see real churn. Figures are the median of 5 runs per decision.

Then routing inside a desk, where every decision is made in the database
under the routing lock: tickets received (each registered and routed) per
second with 1 and 4 processes on a SQLite file and on PostgreSQL, beside the
same desk without routing (the floor: what routing adds is the difference).

    .venv/bin/python benchmarks/bench_routing.py [--repeat 2000] [--tickets 200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from supportkit.domain._model import Agent, Team
from supportkit.policies import (
    AgentIndex,
    LeastLoaded,
    Roster,
    RoundRobin,
    Router,
    RoutingRequest,
    RoutingState,
    SkillsBestMatch,
)

SIZES = (10, 1_000, 10_000)
SKILLS = ("billing", "sql", "network", "mobile", "api", "security", "hardware", "sso")
LANGS = ("en", "ru", "de")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PG_URL = os.environ.get("SUPPORTKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def build(n: int, seed: int = 7) -> AgentIndex:
    rnd = random.Random(seed)
    teams = [Team("support", "Support", "L1"), Team("experts", "Experts", "L2")]
    agents = []
    for i in range(n):
        tier = "L1" if i % 4 else "L2"
        agents.append(
            Agent(
                f"agent-{i:05d}",
                f"Agent {i}",
                tier=tier,
                teams=("support",) if tier == "L1" else ("experts",),
                skills=frozenset(rnd.sample(SKILLS, 3)),
                languages=frozenset({"en", rnd.choice(LANGS)}),
                capacity=rnd.randint(5, 12),
            )
        )
    roster = Roster(teams=teams, agents=agents)
    loads = {a.id: rnd.randint(0, 4) for a in agents}
    return AgentIndex.from_roster(roster, loads)


def measure(router: Router, index: AgentIndex, repeat: int, apply: bool) -> float:
    state = RoutingState()
    req = RoutingRequest(
        "T-1",
        tier="L1",
        team_id="support",
        language="en",
        required_skills=frozenset({"sql", "api"}),
    )
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeat):
            decision = router.route(req, index, now=NOW, state=state)
            state = decision.state
            assert decision.agent_id is not None
            if apply:
                index.assign(decision.agent_id)
                index.release(decision.agent_id)
        samples.append((time.perf_counter() - t0) / repeat)
    return statistics.median(samples)


# -- routing inside a desk, on a database shared by processes ------------------------------

DESK_AGENTS = 20


def _open(url: str) -> Any:
    if url.startswith("postgresql://"):
        from supportkit.storage.postgres import PostgresStorage

        return PostgresStorage(url, pool_size=2)
    from supportkit.storage.sqlite import SQLiteStorage

    return SQLiteStorage(url, background_checkpoint=None)


def _desk(storage: Any, routed: bool) -> Any:
    from supportkit import SupportDesk
    from supportkit.extensions import DeskRouting

    return SupportDesk(storage, extensions=[DeskRouting()] if routed else [])


def _receive_many(
    url: str, name: str, n: int, routed: bool, start_at: float
) -> tuple[list[float], float, float]:
    """Receive *n* tickets (each registered and, if *routed*, routed): the seconds each
    took, and when this process started and ended (wall clock)."""
    storage = _open(url)
    desk = _desk(storage, routed)
    time.sleep(max(0.0, start_at - time.time()))
    took = []
    began = time.time()
    for i in range(n):
        t0 = time.perf_counter()
        desk.receive("email", f"{name}-{i}@example.com", f"request {i}", subject=f"{name} {i}")
        took.append(time.perf_counter() - t0)
    ended = time.time()
    storage.close()
    return took, began, ended


def _fresh(kind: str, tmp: str) -> tuple[str, Any]:
    """A new empty database: (url, cleanup)."""
    if kind == "sqlite":
        path = f"{tmp}/bench-{uuid.uuid4().hex[:8]}.sqlite3"
        return path, lambda: None
    import psycopg

    name = f"sk_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")

    def drop() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")

    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{name}", drop


def desk_run(
    kind: str, processes: int, per_process: int, routed: bool, tmp: str, agents: int
) -> dict[str, float]:
    from supportkit import SupportDesk
    from supportkit.domain import Agent, Team
    from supportkit.extensions import DeskRouting

    url, cleanup = _fresh(kind, tmp)
    try:
        with _open(url) as storage:
            team = Team("support", "Support", "L1")
            crew = [
                Agent(f"a{i:02d}", f"Agent {i}", teams=("support",), capacity=10_000)
                for i in range(agents)
            ]
            SupportDesk(storage, extensions=[DeskRouting(teams=[team], agents=crew)])
        ctx = multiprocessing.get_context("spawn")
        start_at = time.time() + 2.0
        with ctx.Pool(processes) as pool:
            jobs = [
                pool.apply_async(_receive_many, (url, f"p{n}", per_process, routed, start_at))
                for n in range(processes)
            ]
            done = [j.get(timeout=600) for j in jobs]
        took = sorted(x for d in done for x in d[0])
        wall = max(d[2] for d in done) - min(d[1] for d in done)
        return {
            "per_s": len(took) / wall,
            "p50_ms": took[len(took) // 2] * 1e3,
            "p99_ms": took[int(len(took) * 0.99)] * 1e3,
        }
    finally:
        cleanup()


def desk_main(per_process: int) -> None:
    import tempfile

    kinds = ["sqlite"]
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            kinds.append("postgresql")
    except Exception as exc:  # reported; the SQLite figures still run
        print(f"(PostgreSQL skipped: {exc})")
    print()
    print(f"Receiving tickets through a desk, {os.cpu_count()} cores:")
    header = (
        f"{'database':<12}{'agents':>7}{'procs':>6}{'routing':>9}{'tickets/s':>11}"
        f"{'p50 ms':>9}{'p99 ms':>9}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            for agents, processes in ((DESK_AGENTS, 1), (DESK_AGENTS, 4), (1_000, 1)):
                for routed in (False, True):
                    r = desk_run(kind, processes, per_process, routed, tmp, agents)
                    print(
                        f"{kind:<12}{agents:>7,}{processes:>6}{'yes' if routed else 'no':>9}"
                        f"{r['per_s']:>11.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--tickets", type=int, default=200, help="per process, in the desk part")
    args = parser.parse_args()
    strategies = {
        "round-robin": RoundRobin(),
        "least-loaded": LeastLoaded(),
        "skills-best-match": SkillsBestMatch(),
    }
    indexes = {n: build(n) for n in SIZES}
    header = f"{'strategy':<34}" + "".join(f"{n:>10,} ag" for n in SIZES) + f"{'10k/10':>10}"
    print(header)
    print("-" * len(header))
    for apply in (False, True):
        for name, strategy in strategies.items():
            router = Router(strategy=strategy)
            cost = {n: measure(router, indexes[n], args.repeat, apply) for n in SIZES}
            row = "".join(f"{cost[n] * 1e6:>10.1f} µs" for n in SIZES)
            ratio = cost[SIZES[-1]] / cost[SIZES[0]]
            label = f"{name}{' + assign/release' if apply else ''}"
            print(f"{label:<34}{row}{ratio:>9.2f}x")
    desk_main(args.tickets)


if __name__ == "__main__":
    main()
