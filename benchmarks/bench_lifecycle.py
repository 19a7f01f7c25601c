"""Full ticket lifecycle benchmark: supportkit against django-helpdesk and a raw sqlite3 floor.

One lifecycle is: receive a customer's message (a new ticket), reply, start
diagnosis, resolve with a resolution, close. Every backend runs it at each
size N, side by side in the same run, each (backend, N) in its own fresh
process so no run inherits another's heap or page cache state:

- ``supportkit-memory`` / ``supportkit-sqlite``: ``SupportDesk`` over
  ``MemoryStorage`` / ``SQLiteStorage`` (a file, WAL, synchronous=FULL, the
  default; ``-normal``: synchronous=NORMAL, the opt-in). The SQLite storage
  runs with inline WAL checkpoints (``background_checkpoint=None``) so that
  its PRAGMAs are exactly the ones the other sides get (``_pragmas.py``).
- ``raw-sqlite3-per-step``: hand-written SQL, one transaction per use case,
  the same rows: the floor every target is measured against.
  ``raw-sqlite3``: the same rows in one transaction per lifecycle (reference).
- ``django-helpdesk``: its models on SQLite, each step through
  ``update_ticket`` (what its views call) in one ``transaction.atomic()``,
  notification e-mails off. ``django-helpdesk-orm``: the same rows written
  straight through its models, one ``atomic()`` per step: a lower bound for
  django-helpdesk (see ``_django_helpdesk.py``).

Every SQLite side runs exactly the same PRAGMAs (2 KiB pages, WAL, 64 MB
cache, memory temp store, autocheckpoint 1000, synchronous FULL or NORMAL);
each run prints them. Every SQLite figure is shown for FULL and for NORMAL
(names ending in ``-normal``).

What is measured at size N ("N live tickets"):

1. The store is prefilled with N live (open) tickets, each with its first
   message (supportkit: ``desk.receive``; raw: ``executemany``;
   django-helpdesk: ``bulk_create`` of tickets and their opening follow-ups).
   Prefill is not timed.
2. A warm-up of 50 lifecycles (not timed).
3. M full lifecycles of new tickets are timed, step by step, on top of
   them: M = min(N, --sample) for supportkit and the raw floor (default
   10,000: all of them at 1k and 10k, a 10k sample at 100k) and
   M = min(N, --django-sample) for django-helpdesk (default 1,000), which
   would otherwise take minutes.
   The store ends with N open + M closed tickets. The M lifecycles run in
   5 consecutive rounds; the figures are the median round (µs per
   lifecycle, and µs per step), which keeps a GC pause or a neighbour
   process on a shared machine from deciding a result.
4. ``--repeat K`` runs every (backend, N) worker K times, interleaved (all
   backends once, then all again), and reports the median over the repeats
   with the spread (min-max): on a machine shared with other jobs a single
   worker can run at half speed while its neighbour does not.

Per-step (per-transition) costs come from ``perf_counter`` around each
call; the flatness check compares them at the largest N with the smallest.
Memory per live ticket (memory storage): ``tracemalloc`` traced bytes after
receiving the N prefill tickets into a fresh ``MemoryStorage`` (ticket,
customer, message, events, indexes), divided by N (tracemalloc runs during the
untimed prefill only).

Run it in the benchmark environment (``bash benchmarks/bootstrap.sh`` once):

    .venv-bench/bin/python benchmarks/bench_lifecycle.py                 # 1k, 10k, 100k
    .venv-bench/bin/python benchmarks/bench_lifecycle.py --quick         # 1k, 10k; small samples
    .venv-bench/bin/python benchmarks/bench_lifecycle.py --sizes 1000 --backends raw-sqlite3

If the running interpreter lacks Django, the django-helpdesk workers run
under ``.venv-bench/bin/python`` when it exists, and are skipped (said so)
when it does not. This benchmark is never part of the pytest suite.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

STEPS = ("receive", "reply", "diagnose", "resolve", "close")
TRANSITIONS = ("diagnose", "resolve", "close")  # pure state changes, no new message
WARMUP = 50
WORKER_TIMEOUT = 600  # seconds for one (backend, N) process

SUPPORTKIT_BACKENDS = (
    "supportkit-memory",
    "supportkit-sqlite",
    "supportkit-sqlite-normal",
)
RAW_BACKENDS = (
    "raw-sqlite3-per-step",
    "raw-sqlite3",
    "raw-sqlite3-per-step-normal",
    "raw-sqlite3-normal",
)
DJANGO_BACKENDS = (
    "django-helpdesk",
    "django-helpdesk-orm",
    "django-helpdesk-normal",
    "django-helpdesk-orm-normal",
)
ALL_BACKENDS = SUPPORTKIT_BACKENDS + RAW_BACKENDS + DJANGO_BACKENDS

CUSTOMER_TEXT = "Hello, my printer says it is offline since this morning."
REPLY_TEXT = "Could you try switching it off and on again?"
RESOLUTION = "Power-cycled the print server; the queue drains again."


def mode_of(backend: str) -> str:
    """The synchronous setting a backend's figures were measured with."""
    return "NORMAL" if backend.endswith("-normal") else "FULL"


def suffix(mode: str) -> str:
    return "-normal" if mode == "NORMAL" else ""


class Unavailable(Exception):
    """A backend cannot run here (missing package, API not there yet)."""


# --------------------------------------------------------------------------
# supportkit
#
# LEAD: this is the one place that knows SupportDesk's API. It is written
# against the API agreed for issue 3; if a signature differs, adapt the five
# calls in SupportkitLifecycle and nothing else.
# --------------------------------------------------------------------------


class SupportkitLifecycle:
    def __init__(self, backend: str, workdir: Path) -> None:
        try:
            from supportkit import SupportDesk
        except ImportError as exc:
            raise Unavailable(f"supportkit.SupportDesk is not importable yet ({exc})") from exc
        if backend == "supportkit-memory":
            from supportkit.storage.memory import MemoryStorage

            storage: Any = MemoryStorage()
        else:
            try:
                from supportkit.storage.sqlite import SQLiteStorage
            except ImportError as exc:
                raise Unavailable(
                    f"supportkit.storage.sqlite is not importable yet ({exc})"
                ) from exc
            path = workdir / "supportkit.sqlite3"
            _unlink_db(path)
            storage = SQLiteStorage(path, synchronous=mode_of(backend), background_checkpoint=None)
        self.storage = storage
        # first_reply_event=None: the reply step leaves the status alone and the
        # diagnosis is its own step, exactly as on the raw floor and django-helpdesk
        self.desk = SupportDesk(storage, first_reply_event=None)

    def receive(self, i: int, subject: str = "Printer offline") -> Any:
        return self.desk.receive(
            channel="email",
            sender=f"c{i}@example.com",
            subject=subject,
            text=CUSTOMER_TEXT,
        )

    def prefill(self, n: int) -> None:
        batch = self.desk.batch  # 1,000 use cases per commit: the prefill is not timed
        for start in range(0, n, 1000):
            with batch():
                for i in range(start, min(n, start + 1000)):
                    self.receive(10_000_000 + i, subject=f"Live request {i}")

    def lifecycles(self, count: int, offset: int) -> dict[str, float]:
        desk = self.desk
        receive = self.receive
        clock = time.perf_counter
        totals = dict.fromkeys(STEPS, 0.0)
        for i in range(offset, offset + count):
            t0 = clock()
            t = receive(i)
            t1 = clock()
            desk.reply(t.id, author="agent-1", text=REPLY_TEXT)
            t2 = clock()
            desk.start_diagnosis(t.id, actor="agent-1")
            t3 = clock()
            desk.resolve(t.id, actor="agent-1", resolution=RESOLUTION)
            t4 = clock()
            desk.close(t.id, actor="system")
            t5 = clock()
            totals["receive"] += t1 - t0
            totals["reply"] += t2 - t1
            totals["diagnose"] += t3 - t2
            totals["resolve"] += t4 - t3
            totals["close"] += t5 - t4
        return totals

    def close_storage(self) -> None:
        close = getattr(self.storage, "close", None)
        if callable(close):
            close()


def _unlink_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


# --------------------------------------------------------------------------
# workers: one (backend, N) per process; each prints one JSON object
# --------------------------------------------------------------------------


ROUNDS = 5


def _rounds(run: Callable[[int, int], dict[str, float]], measure: int, offset: int) -> list[dict]:
    """Time *measure* lifecycles in ROUNDS consecutive rounds; per-round seconds per step."""
    out = []
    done = 0
    for r in range(ROUNDS):
        count = measure * (r + 1) // ROUNDS - done
        if count <= 0:
            continue
        totals = run(count, offset + done)
        out.append({"count": count, **totals})
        done += count
    return out


def _result(backend: str, n: int, rounds: list[dict]) -> dict:
    """Median over rounds of µs per lifecycle and of µs per step (robust to GC pauses and
    to other processes on a shared machine)."""
    measured = sum(r["count"] for r in rounds)
    per_round = [sum(v for k, v in r.items() if k != "count") / r["count"] for r in rounds]
    steps = [k for k in rounds[0] if k not in ("count", "lifecycle")]
    us = statistics.median(per_round) * 1e6
    return {
        "backend": backend,
        "n": n,
        "measured": measured,
        "rounds": len(rounds),
        "us_per_lifecycle": us,
        "lifecycles_per_s": 1e6 / us,
        "us_per_lifecycle_rounds": [x * 1e6 for x in per_round],
        "steps_us": {s: statistics.median(r[s] / r["count"] for r in rounds) * 1e6 for s in steps},
    }


def worker_supportkit(backend: str, n: int, measure: int, workdir: Path) -> list[dict]:
    lc = SupportkitLifecycle(backend, workdir)
    extra: dict[str, float] = {}
    if backend == "supportkit-memory":
        # Memory per live ticket: tracemalloc around the (untimed) prefill.
        lc.receive(-1)  # first-call caches (imports, converters) are not per ticket
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        lc.prefill(n)
        gc.collect()
        extra["bytes_per_live_ticket"] = (tracemalloc.get_traced_memory()[0] - before) / n
        tracemalloc.stop()
    else:
        from _pragmas import read

        extra["pragmas"] = read(lc.storage.connection().cursor())  # type: ignore[assignment]
        lc.prefill(n)
    lc.lifecycles(WARMUP, 0)
    rounds = _rounds(lc.lifecycles, measure, WARMUP)
    lc.close_storage()
    return [{**_result(backend, n, rounds), **extra}]


def worker_raw(n: int, measure: int, workdir: Path, mode: str) -> list[dict]:
    from _raw_floor import STEPS as RAW_STEPS
    from _raw_floor import RawFloor

    assert RAW_STEPS == STEPS
    floor = RawFloor(workdir / "raw.sqlite3", mode)
    from _pragmas import read

    pragmas = read(floor.db.cursor())
    floor.prefill(n)
    floor.one_tx(WARMUP)
    one_tx = _rounds(lambda count, _offset: {"lifecycle": floor.one_tx(count)}, measure, 0)
    floor.check(WARMUP + measure)
    floor.per_step(WARMUP)
    per_step = _rounds(lambda count, _offset: floor.per_step(count), measure, 0)
    floor.check(2 * (WARMUP + measure))
    floor.close()
    return [
        _result("raw-sqlite3" + suffix(mode), n, one_tx),
        {
            **_result("raw-sqlite3-per-step" + suffix(mode), n, per_step),
            "pragmas": pragmas,
        },
    ]


def worker_django(n: int, measure: int, workdir: Path, template: Path, mode: str) -> list[dict]:
    import _django_helpdesk as dh

    db = workdir / "helpdesk.sqlite3"
    _unlink_db(db)
    dh.copy_template(template, db)
    dh.configure(db, mode)
    from _pragmas import read
    from django.db import connection

    pragmas = read(connection.cursor())
    hd = dh.HelpdeskLifecycle()
    hd.prefill(n)
    hd.lifecycles(WARMUP, 0)
    via_views = _rounds(hd.lifecycles, measure, WARMUP)
    hd.check(0, WARMUP + measure)
    hd.lifecycles_orm(WARMUP, WARMUP + measure)
    via_orm = _rounds(hd.lifecycles_orm, measure, 2 * WARMUP + measure)
    hd.check(0, 2 * (WARMUP + measure))
    return [
        {**_result("django-helpdesk" + suffix(mode), n, via_views), "pragmas": pragmas},
        _result("django-helpdesk-orm" + suffix(mode), n, via_orm),
    ]


def run_worker(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.worker == "django-template":
            import _django_helpdesk as dh

            dh.prepare_template(Path(args.template))
            results: list[dict] = []
        elif args.worker in SUPPORTKIT_BACKENDS:
            results = worker_supportkit(args.worker, args.n, args.measure, workdir)
        elif args.worker == "raw":
            results = worker_raw(args.n, args.measure, workdir, args.sync)
        elif args.worker == "django":
            results = worker_django(args.n, args.measure, workdir, Path(args.template), args.sync)
        else:
            raise SystemExit(f"unknown worker {args.worker!r}")
    except Unavailable as exc:
        print(json.dumps({"unavailable": str(exc)}))
        return 0
    print(json.dumps({"results": results}))
    return 0


# --------------------------------------------------------------------------
# orchestration
# --------------------------------------------------------------------------


def _python_with_django() -> str | None:
    try:
        import django  # noqa: F401
        import helpdesk  # noqa: F401

        return sys.executable
    except ImportError:
        pass
    bench = ROOT / ".venv-bench" / "bin" / "python"
    return str(bench) if bench.exists() else None


def _spawn(
    python: str,
    worker: str,
    n: int,
    measure: int,
    workdir: Path,
    template: Path,
    sync: str = "FULL",
) -> dict:
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--sync",
        sync,
        "--worker",
        worker,
        "--n",
        str(n),
        "--measure",
        str(measure),
        "--workdir",
        str(workdir),
        "--template",
        str(template),
    ]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, check=False, timeout=WORKER_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {"error": f"worker {worker} N={n} gave no result within {WORKER_TIMEOUT}s"}
    elapsed = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        return {
            "error": f"worker {worker} N={n} failed (exit {proc.returncode}):\n" + "\n".join(tail)
        }
    out = json.loads(lines[-1])
    out["elapsed"] = elapsed
    return out


def _fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    print(line)
    print("-" * len(line))
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    print()


def merge_runs(runs: list[dict]) -> dict:
    """One result from the repeats of a (backend, N) worker: the median of each figure,
    with every run's µs per lifecycle kept (``us_per_lifecycle_runs``) for the spread."""
    if len(runs) == 1:
        return {**runs[0], "us_per_lifecycle_runs": [runs[0]["us_per_lifecycle"]]}
    us = statistics.median(r["us_per_lifecycle"] for r in runs)
    steps = {s: statistics.median(r["steps_us"][s] for r in runs) for s in runs[0]["steps_us"]}
    return {
        **runs[0],
        "measured": sum(r["measured"] for r in runs),
        "us_per_lifecycle": us,
        "lifecycles_per_s": 1e6 / us,
        "steps_us": steps,
        "us_per_lifecycle_runs": [r["us_per_lifecycle"] for r in runs],
    }


def report(results: list[dict], footprints: list[dict], sizes: list[int]) -> None:
    by = {(r["backend"], r["n"]): r for r in results}
    backends = [b for b in ALL_BACKENDS if any(k[0] == b for k in by)]

    print("\n== Full lifecycle (receive, reply, diagnose, resolve, close) ==")
    print("x django: lifecycles/s over django-helpdesk's, same synchronous mode")
    print("          (ORM lower bound / update_ticket), one atomic() per step on their side")
    print("x floor:  µs per lifecycle over the raw sqlite3 floor's, same synchronous mode,")
    print("          one commit per use case (the headline) / one per lifecycle\n")
    rows = []
    for n in sizes:
        for b in backends:
            r = by.get((b, n))
            if r is None:
                continue
            sfx = suffix(mode_of(b))
            dj_orm = by.get(("django-helpdesk-orm" + sfx, n))
            dj_views = by.get(("django-helpdesk" + sfx, n))
            floor = by.get(("raw-sqlite3-per-step" + sfx, n))
            one_tx = by.get(("raw-sqlite3" + sfx, n))
            vs_dj = "-"
            if dj_orm and dj_views and not b.startswith("django") and b != "supportkit-memory":
                vs_dj = (
                    f"{r['lifecycles_per_s'] / dj_orm['lifecycles_per_s']:.1f} / "
                    f"{r['lifecycles_per_s'] / dj_views['lifecycles_per_s']:.1f}"
                )
            vs_floor = "-"
            if floor and one_tx:
                vs_floor = (
                    f"{r['us_per_lifecycle'] / floor['us_per_lifecycle']:.2f} / "
                    f"{r['us_per_lifecycle'] / one_tx['us_per_lifecycle']:.2f}"
                )
            spread = r.get("us_per_lifecycle_runs") or [r["us_per_lifecycle"]]
            rows.append(
                [
                    b,
                    _fmt_int(n),
                    _fmt_int(r["measured"]),
                    f"{r['us_per_lifecycle']:,.1f}",
                    f"{min(spread):,.0f}-{max(spread):,.0f}",
                    _fmt_int(r["lifecycles_per_s"]),
                    vs_dj,
                    vs_floor,
                ]
            )
    _print_table(
        [
            "backend",
            "N live",
            "measured",
            "µs/lifecycle",
            "runs min-max",
            "lifecycles/s",
            "x django",
            "x floor",
        ],
        rows,
    )

    print("== Per step, µs (perf_counter around each call) ==")
    rows = []
    for b in backends:
        for n in sizes:
            r = by.get((b, n))
            if r is None or not r["steps_us"]:
                continue
            s = r["steps_us"]
            transition = sum(s[t] for t in TRANSITIONS) / len(TRANSITIONS)
            rows.append([b, _fmt_int(n), *(f"{s[t]:,.1f}" for t in STEPS), f"{transition:,.1f}"])
    if rows:
        _print_table(["backend", "N live", *STEPS, "transition*"], rows)
        print("* transition: mean of diagnose, resolve and close (state changes, no new message)\n")

    lo, hi = min(sizes), max(sizes)
    if lo != hi:
        print(f"== Flatness: per-step cost at N={hi:,} over N={lo:,} (target <= 1.2x) ==")
        rows = []
        for b in backends:
            a, z = by.get((b, lo)), by.get((b, hi))
            if not a or not z or not a["steps_us"]:
                continue
            ratios = [z["steps_us"][t] / a["steps_us"][t] for t in STEPS]
            ta = sum(a["steps_us"][t] for t in TRANSITIONS)
            tz = sum(z["steps_us"][t] for t in TRANSITIONS)
            rows.append(
                [
                    b,
                    *(f"{x:.2f}" for x in ratios),
                    f"{tz / ta:.2f}",
                    f"{z['us_per_lifecycle'] / a['us_per_lifecycle']:.2f}",
                ]
            )
        if rows:
            _print_table(["backend", *STEPS, "transition", "lifecycle"], rows)

    if footprints:
        print("== Memory per live ticket (supportkit-memory, tracemalloc) ==")
        _print_table(
            ["backend", "N live", "bytes/ticket"],
            [
                [f["backend"], _fmt_int(f["n"]), _fmt_int(f["bytes_per_live_ticket"])]
                for f in footprints
            ],
        )

    pragma_rows = sorted(
        {
            (r["backend"], json.dumps(r["pragmas"], sort_keys=True))
            for r in results
            if "pragmas" in r
        }
    )
    if pragma_rows:
        print("== PRAGMAs each SQLite side ran with (read back from its connection) ==")
        for backend, pragmas in pragma_rows:
            print(f"  {backend:<28} {pragmas}")
        by_mode: dict[str, set[str]] = {}
        for backend, pragmas in pragma_rows:
            by_mode.setdefault(mode_of(backend), set()).add(pragmas)
        same = all(len(v) == 1 for v in by_mode.values())
        print(f"  identical within each synchronous mode: {'yes' if same else 'NO'}\n")

    print("== Targets (same synchronous mode on every side) ==")
    for n in sizes:
        for mode in ("FULL", "NORMAL"):
            sfx = suffix(mode)
            sk = by.get(("supportkit-sqlite" + sfx, n))
            floor = by.get(("raw-sqlite3-per-step" + sfx, n))
            if not sk:
                continue
            if floor:
                x = sk["us_per_lifecycle"] / floor["us_per_lifecycle"]
                verdict = "ok" if x <= 2.5 else "MISSED"
                print(
                    f"  N={n:>7,} {mode:<6} supportkit vs per-use-case floor: {x:5.2f}x "
                    f"(target <= 2.5x) {verdict}"
                )
            for peer in ("django-helpdesk-orm", "django-helpdesk"):
                dj = by.get((peer + sfx, n))
                if dj:
                    x = sk["lifecycles_per_s"] / dj["lifecycles_per_s"]
                    verdict = "ok" if x >= 6 else "MISSED"
                    print(
                        f"  N={n:>7,} {mode:<6} supportkit vs {peer:<20} {x:5.1f}x faster "
                        f"per step (target >= 6x) {verdict}"
                    )
    if lo != hi:
        for b in SUPPORTKIT_BACKENDS:
            a, z = by.get((b, lo)), by.get((b, hi))
            if a and z:
                ta = sum(a["steps_us"][t] for t in TRANSITIONS)
                tz = sum(z["steps_us"][t] for t in TRANSITIONS)
                x = tz / ta
                verdict = "ok" if x <= 1.2 else "MISSED"
                print(
                    f"  {b}: transition cost N={hi:,} / N={lo:,} = {x:.2f}x "
                    f"(target <= 1.2x) {verdict}"
                )
    print()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        default="1000,10000,100000",
        help="live-ticket counts, comma-separated",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="sizes 1000,10000; samples of 2000 (django 200)",
    )
    p.add_argument("--backends", default=",".join(ALL_BACKENDS), help="comma-separated subset")
    p.add_argument(
        "--sample",
        type=int,
        default=10_000,
        help="supportkit/raw lifecycles timed per size",
    )
    p.add_argument(
        "--django-sample",
        type=int,
        default=1000,
        help="django-helpdesk lifecycles timed per size",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every (backend, N) worker this many times, interleaved (all backends once, "
        "then again); the figures are the medians over the repeats, the spread is printed",
    )
    p.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the database files (benchmarks/.work/)",
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--measure", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--workdir", default=str(HERE / ".work"), help=argparse.SUPPRESS)
    p.add_argument("--template", default="", help=argparse.SUPPRESS)
    p.add_argument("--sync", default="FULL", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        return run_worker(args)

    sizes = [1000, 10000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    django_sample = 200 if args.quick and args.django_sample == 1000 else args.django_sample
    sample = 2000 if args.quick and args.sample == 10_000 else args.sample
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(wanted) - set(ALL_BACKENDS)
    if unknown:
        p.error(f"unknown backends {sorted(unknown)}; choose from {', '.join(ALL_BACKENDS)}")

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    template = workdir / "helpdesk-template.sqlite3"
    print(
        f"supportkit lifecycle benchmark: Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, sizes {sizes}, "
        f"sample {sample}, django sample {django_sample}"
    )

    django_python = None
    if any(b in DJANGO_BACKENDS for b in wanted):
        django_python = _python_with_django()
        if django_python is None:
            print("  django-helpdesk: skipped (not installed; run `bash benchmarks/bootstrap.sh`)")
        else:
            _unlink_db(template)
            out = _spawn(django_python, "django-template", 0, 0, workdir, template)
            if "error" in out:
                print("  django-helpdesk: skipped, " + out["error"])
                django_python = None

    footprints: list[dict] = []
    skipped: set[str] = set()
    started = time.perf_counter()
    runs: dict[tuple[str, int], list[dict]] = {}
    for n, repeat in ((n, r) for n in sizes for r in range(max(1, args.repeat))):
        jobs: list[tuple[str, str, int, str]] = []
        for b in SUPPORTKIT_BACKENDS:
            if b in wanted:
                jobs.append((sys.executable, b, min(n, sample), mode_of(b)))
        for mode in ("FULL", "NORMAL"):
            if any(b in wanted and mode_of(b) == mode for b in RAW_BACKENDS):
                jobs.append((sys.executable, "raw", min(n, sample), mode))
            if django_python and any(b in wanted and mode_of(b) == mode for b in DJANGO_BACKENDS):
                jobs.append((django_python, "django", min(n, django_sample), mode))
        for python, worker, measure, mode in jobs:
            if worker in skipped:
                continue
            out = _spawn(python, worker, n, measure, workdir, template, mode)
            if "error" in out:
                print("  " + out["error"].replace("\n", "\n    "))
                skipped.add(worker)
                continue
            if "unavailable" in out:
                print(f"  {worker}: skipped, {out['unavailable']}")
                skipped.add(worker)
                continue
            for r in out["results"]:
                if "bytes_per_live_ticket" in r and repeat == 0:
                    footprints.append({k: r[k] for k in ("backend", "n", "bytes_per_live_ticket")})
                if r["backend"] in wanted:
                    runs.setdefault((r["backend"], n), []).append(r)
                    print(
                        f"  {r['backend']:<22} N={n:>7,}  {r['us_per_lifecycle']:>9,.1f} µs/lifecycle"
                        f"  ({r['measured']:,} timed; worker {out['elapsed']:.1f}s; "
                        f"run {repeat + 1})"
                    )
    results = [merge_runs(rs) for rs in runs.values()]

    print(f"\ntotal wall time {time.perf_counter() - started:.0f}s")
    report(results, footprints, sizes)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"sizes": sizes, "results": results, "memory": footprints}, indent=2)
        )
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
