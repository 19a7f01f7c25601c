"""One routing decision with 10, 1,000 and 10,000 agents, per strategy.

The candidate search is indexed (supportkit.policies.AgentIndex), so the cost
of a decision should barely grow with the number of agents: the target is at
most 3x the cost at 10 agents when there are 10,000.

Each measurement routes a ticket (L1, team "support", English, two required
skills) with the default filters; the second half of the table also applies
the assignment to the index and releases it again, so loads move and the
lazy heaps see real churn. Figures are the median of 5 runs per decision.

    .venv/bin/python benchmarks/bench_routing.py [--repeat 2000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
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


if __name__ == "__main__":
    main()
