"""Several processes opening a PostgresStorage on a fresh database at the same moment (a
deployment's first start): every one opens it, none sees a catalog collision."""

from __future__ import annotations

import multiprocessing
from typing import Any

from ..pg import pg_schema


def open_when_told(url: str, ready: Any, go: Any) -> dict[str, int] | str:
    from supportkit.storage.postgres import PostgresStorage

    ready.wait(60)  # every process is up and has imported supportkit
    go.wait(60)
    try:
        storage = PostgresStorage(url, pool_size=1)
    except Exception as exc:  # reported to the parent, which fails the test with it
        return f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    versions = dict(storage.schema_versions)
    storage.close()
    return versions


def test_four_processes_create_the_schema_at_once() -> None:
    ctx = multiprocessing.get_context("spawn")
    for _ in range(3):  # the race is narrow: a few fresh databases
        with pg_schema() as url, ctx.Manager() as manager:
            ready, go = manager.Barrier(5), manager.Event()
            with ctx.Pool(4) as pool:
                pending = [pool.apply_async(open_when_told, (url, ready, go)) for _ in range(4)]
                ready.wait(60)
                go.set()
                results = [p.get(timeout=120) for p in pending]
            errors = [r for r in results if isinstance(r, str)]
            assert not errors
            assert all(r == results[0] for r in results)
