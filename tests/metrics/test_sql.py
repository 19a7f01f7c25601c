"""The SQL push-down on SQLite and PostgreSQL gives what the streaming calculator gives.

One seeded history (with de-escalation, reopening, waits, feedback and
SLA outcomes) is driven on a memory desk and on the SQL backend; every
grouping, with and without business time, must agree.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from supportkit import MemoryStorage, Priority
from supportkit.metrics import (
    DIMENSIONS,
    FeedbackRecord,
    SlaOutcome,
    compute_metrics,
    iter_ticket_facts,
    sql_metrics,
)
from supportkit.policies import office_hours
from supportkit.ports import Storage

from ._histories import CHANNELS, START, Op, drive, make_desk
from ._oracle import assert_close


def _history(seed: int, n: int = 400) -> list[Op]:
    rng = random.Random(seed)
    ops: list[Op] = [("new", rng.choice(CHANNELS), rng.choice(list(Priority))) for _ in range(12)]
    kinds = [
        "customer",
        "reply",
        "note",
        "resolve",
        "close",
        "reopen",
        "wait",
        "escalate",
        "assign",
        "advance",
        "new",
    ]
    for _ in range(n):
        kind = rng.choice(kinds)
        idx = rng.randrange(12)
        if kind == "new":
            ops.append(("new", rng.choice(CHANNELS), rng.choice(list(Priority))))
        elif kind == "advance":
            ops.append(("advance", rng.randrange(1, 900)))
        elif kind == "escalate":
            ops.append(("escalate", idx, rng.choice(("L1", "L2", "L3"))))
        elif kind == "assign":
            ops.append(("assign", idx, rng.choice(("ann", "bob", None))))
        else:
            ops.append((kind, idx))
    return ops


HISTORY = _history(11)


@pytest.fixture(scope="module")
def memory() -> Any:
    desk, clock = make_desk(MemoryStorage())
    ids = drive(desk, clock, HISTORY)
    return desk, clock, ids


def _sqlite(tmp: Path) -> Iterator[tuple[Storage, Any, str]]:
    from supportkit.storage.sqlite import SQLiteStorage

    with SQLiteStorage(tmp / "desk.sqlite3") as storage:
        yield storage, storage.connection(), "sqlite"


def _postgres() -> Iterator[tuple[Storage, Any, str]]:
    from supportkit.storage.postgres import PostgresStorage

    from ..pg import pg_schema

    with pg_schema() as url, PostgresStorage(url) as storage:
        import psycopg

        with psycopg.connect(url) as conn:
            yield storage, conn, "postgresql"


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str]]:
    gen = _sqlite(tmp_path_factory.mktemp("sql")) if request.param == "sqlite" else _postgres()
    storage, conn, dialect = next(gen)
    desk, clock = make_desk(storage)
    drive(desk, clock, HISTORY)
    yield conn, dialect
    for _ in gen:
        pass


@pytest.mark.parametrize("group_by", [None, *DIMENSIONS])
@pytest.mark.parametrize("business", [False, True], ids=["calendar", "business"])
def test_sql_metrics_equal_streaming_metrics(
    memory: Any, backend: tuple[Any, str], group_by: str | None, business: bool
) -> None:
    desk, clock, ids = memory
    conn, dialect = backend
    rng = random.Random(5)
    feedback = [
        FeedbackRecord(
            rng.choice(ids),
            rng.randint(1, 5),
            rng.choice([None, *range(11)]),
            START + timedelta(hours=rng.randrange(200)),
        )
        for _ in range(30)
    ] + [FeedbackRecord("unknown-ticket", 5, 10, START)]
    outcomes = [
        SlaOutcome(
            rng.choice(ids),
            rng.choice(["first_response", "resolution"]),
            rng.random() < 0.7,
            START + timedelta(hours=rng.randrange(200)),
        )
        for _ in range(30)
    ]
    options: dict[str, Any] = {
        "at": clock.now() - timedelta(hours=20),
        "since": START + timedelta(minutes=3),
        "group_by": group_by,
        "feedback": feedback,
        "sla_outcomes": outcomes,
        "sla_targets": {
            "first_response": timedelta(hours=2),
            "next_response": timedelta(hours=3),
            "resolution": timedelta(hours=30),
        },
        "calendar": office_hours("Europe/Berlin", country="DE") if business else None,
    }
    with desk.storage.unit_of_work() as uow:
        expected = compute_metrics(iter_ticket_facts(uow), **options)
    got = sql_metrics(conn, dialect=dialect, **options)
    assert expected.total.tickets > 20
    assert expected.total.reopen.numerator > 0
    assert expected.total.next_response.count > 0
    assert_close(got.to_dict(), expected.to_dict())


def test_the_history_de_escalates_some_ticket(memory: Any) -> None:
    desk, _, ids = memory
    back = [t for t in ids if desk.get_ticket(t).escalation_count > 1]
    assert back, "the seeded history should escalate some ticket twice"
