"""All metrics over 1,000,000 tickets in SQLite: supportkit's SQL push-down against a floor.

The database is made by inserting rows straight into supportkit's schema
with ``executemany`` (a desk would take hours to make a million tickets):
tickets over 90 days on four channels, an inbound and an outbound message
each, a customer follow-up answered on a third of them, escalation events on
a tenth; the status history of every resolution, reopening and closing (the
backlog at an instant is read from it). It is kept next to this file
(``.bench_metrics_v2_<N>.sqlite3``) and reused.

The floor is what someone would write by hand for the same numbers: the
fewest SQL queries that fetch the needed columns, then numpy (means,
percentiles, bincounts, cumulative sums). supportkit must stay within 2x of
it. The two are checked to agree before timing.

Run: ``.venv/bin/python benchmarks/bench_metrics.py [--tickets N] [--repeat R] [--business]``
(needs numpy, benchmark-only). ``--business`` adds business-time metrics over every
ticket (office hours in Europe/Berlin), time and peak memory, each in a fresh process.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from supportkit.metrics import sql_metrics
from supportkit.metrics._stats import AGEING_BUCKETS, RESPONSE_HISTOGRAM
from supportkit.policies import office_hours
from supportkit.storage._sql_tickets import _TICKET_COLS
from supportkit.storage.postgres import PostgresStorage
from supportkit.storage.sqlite import SQLiteStorage

START = datetime(2026, 1, 1, tzinfo=UTC)
AT = START + timedelta(days=92)
CHANNELS = ("email", "chat", "phone", "web")
US = 1_000_000
DAY = 86_400 * US


def _us(dt: datetime) -> int:
    return int((dt - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * US


def build(final: Path, n: int) -> None:
    """Fill a fresh supportkit SQLite database with *n* synthetic tickets.

    Built under a temporary name and renamed when complete, so an interrupted
    build never leaves a half-filled cache behind."""
    path = final.with_name(final.name + ".building")
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    SQLiteStorage(path).close()  # creates and migrates the schema
    rng = random.Random(42)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = WAL")
    t0 = _us(START)
    batch = 50_000
    conn.execute("BEGIN")
    seq = 0
    for lo in range(0, n, batch):
        tickets, messages, events, history = [], [], [], []
        for i in range(lo, min(n, lo + batch)):
            tid = f"t{i:07d}"
            received = t0 + int(rng.random() * 90 * DAY)
            channel = CHANNELS[i % 4]
            frt = received + int(rng.expovariate(1 / 3600) * US) if rng.random() < 0.97 else None
            resolved = (
                (frt or received) + int(rng.expovariate(1 / 86400) * US)
                if frt and rng.random() < 0.85
                else None
            )
            closed = resolved + 3 * DAY if resolved and resolved + 3 * DAY < _us(AT) else None
            reopen = 1 if resolved and rng.random() < 0.05 else 0
            esc = 1 if rng.random() < 0.1 else 0
            if resolved and reopen:
                first = max(received, resolved - 3600 * US)
                history.append((tid, first, "resolve", "diagnosing", "resolved"))
                history.append((tid, (first + resolved) // 2, "reopen", "resolved", "diagnosing"))
            if resolved:
                history.append((tid, resolved, "resolve", "diagnosing", "resolved"))
            if closed:
                history.append((tid, closed, "close", "resolved", "closed"))
            tier = "L2" if esc else "L1"
            status = "closed" if closed else "resolved" if resolved else "diagnosing"
            tickets.append(
                (
                    tid,
                    i + 1,
                    "subject",
                    f"c{i % 50000}",
                    channel,
                    status,
                    1 + i % 4,
                    None,
                    tier,
                    f"team{i % 5}",
                    f"agent{i % 40}" if frt else None,
                    "",
                    "{}",
                    "en",
                    "default",
                    3,
                    received,
                    received,
                    frt,
                    received,
                    resolved,
                    closed,
                    resolved or frt or received,
                    "ok" if resolved else None,
                    None,
                    reopen,
                    esc,
                )
            )
            seq += 1
            messages.append(
                (seq, f"m{seq}", tid, "inbound", channel, "c", "x", "[]", "{}", received)
            )
            if frt:
                seq += 1
                messages.append(
                    (seq, f"m{seq}", tid, "outbound", channel, "a", "x", "[]", "{}", frt)
                )
                if rng.random() < 0.33:
                    follow = frt + int(rng.expovariate(1 / 7200) * US)
                    seq += 1
                    messages.append(
                        (seq, f"m{seq}", tid, "inbound", channel, "c", "x", "[]", "{}", follow)
                    )
                    if rng.random() < 0.9:
                        seq += 1
                        messages.append(
                            (
                                seq,
                                f"m{seq}",
                                tid,
                                "outbound",
                                channel,
                                "a",
                                "x",
                                "[]",
                                "{}",
                                follow + int(rng.expovariate(1 / 5400) * US),
                            )
                        )
            if esc:
                events.append(
                    (
                        tid,
                        "ticket.escalated",
                        received + 60 * US,
                        f'{{"ticket_id":"{tid}","from_tier":"L1","to_tier":"L2"}}',
                    )
                )
        conn.executemany(
            f"INSERT INTO sk_tickets ({_TICKET_COLS}) VALUES (" + ",".join("?" * 27) + ")",
            tickets,
        )
        conn.executemany(
            "INSERT INTO sk_messages (seq, id, ticket_id, direction, channel, author, text, "
            "attachments, meta, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            messages,
        )
        conn.executemany(
            "INSERT INTO sk_events (ticket_id, type, at, payload) VALUES (?,?,?,?)", events
        )
        conn.executemany(
            "INSERT INTO sk_history (ticket_id, at, actor, event, from_status, to_status, reason) "
            "VALUES (?, ?, 'a', ?, ?, ?, '')",
            history,
        )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    path.replace(final)


def _summary(values: np.ndarray) -> tuple[int, float, float, float, float]:
    if len(values) == 0:
        return (0, float("nan"), float("nan"), float("nan"), float("nan"))
    p = np.percentile(values, [50, 90, 95])
    return (len(values), float(values.mean()), float(p[0]), float(p[1]), float(p[2]))


def _table(conn: Any, sql: str, dtype: Any = np.int64) -> np.ndarray:
    """The rows of *sql* as a 2-D array, converted by numpy in C (no Python loop)."""
    rows = conn.execute(sql).fetchall()
    return np.array(rows, dtype=dtype).reshape(len(rows), -1)


def floor(
    conn: Any, at: datetime, series_days: int = 30, dialect: str = "sqlite"
) -> dict[str, Any]:
    """The same numbers, hand-written: few queries, numpy for the arithmetic, no Python loop
    over tickets, messages or history rows (numpy converts the fetched rows in C)."""
    at_us = _us(at)
    # ids in byte order on both databases (numpy compares code points)
    by_id = "t.id" if dialect == "sqlite" else 't.id COLLATE "C"'
    from_tier = (
        "json_extract(payload, '$.from_tier')"
        if dialect == "sqlite"
        else "payload::json ->> 'from_tier'"
    )
    # one row per ticket in id order; the responses per ticket counted by the database
    t = _table(
        conn,
        "SELECT t.received_at, COALESCE(t.first_response_at, -1), COALESCE(t.resolved_at, -1), "
        "t.reopen_count, t.escalation_count, COALESCE(o.n, 0) FROM sk_tickets t "
        "LEFT JOIN (SELECT ticket_id, COUNT(*) AS n FROM sk_messages "
        "WHERE direction = 'outbound' GROUP BY ticket_id) o ON o.ticket_id = t.id "
        f"ORDER BY {by_id}",
    )
    rec, frt, res, reo, esc, n_out = t.T
    labels = _table(
        conn,
        f"SELECT t.id, COALESCE(t.assignee_id, '(unassigned)') FROM sk_tickets t ORDER BY {by_id}",
        dtype=str,
    )
    ids, agents = labels[:, 0], labels[:, 1]
    has_frt, has_res = frt >= 0, res >= 0
    first = (frt[has_frt] - rec[has_frt]) / US
    resolution = (res[has_res] - rec[has_res]) / US
    waits = (
        _table(
            conn,
            """
            SELECT nxt - created_at FROM (
                SELECT direction, created_at,
                    LAG(direction) OVER w AS prev,
                    LEAD(created_at) OVER w AS nxt,
                    LEAD(direction) OVER w AS nxt_dir
                FROM sk_messages WHERE direction != 'note'
                WINDOW w AS (PARTITION BY ticket_id ORDER BY seq)) x
            WHERE direction = 'inbound' AND prev = 'outbound' AND nxt_dir = 'outbound'
            """,
        ).ravel()
        / US
    )
    # entering (-1) or leaving (+1) resolved/closed, from the history
    crossings = _table(
        conn,
        "SELECT ticket_id, at, CASE WHEN to_status IN ('resolved', 'closed') THEN -1 ELSE 1 END "
        "FROM sk_history WHERE (from_status IN ('resolved', 'closed')) "
        "<> (to_status IN ('resolved', 'closed'))",
        dtype=object,
    )
    c_ticket = np.searchsorted(ids, crossings[:, 0].astype(str))
    c_at, c_delta = crossings[:, 1].astype(np.int64), crossings[:, 2].astype(np.int64)
    by_then = c_at <= at_us
    done_count = np.bincount(c_ticket[by_then], -c_delta[by_then], minlength=len(ids))
    open_ = (rec <= at_us) & (done_count == 0)
    edges = [b for b, _ in AGEING_BUCKETS[:-1]]
    ageing = np.bincount(
        np.searchsorted(np.array(edges) * US, at_us - rec[open_], side="right"),
        minlength=len(AGEING_BUCKETS),
    )
    load = np.unique(agents[open_])
    hist = np.bincount(
        np.searchsorted(np.array([b for b, _ in RESPONSE_HISTOGRAM[:-1]]), first, side="right"),
        minlength=len(RESPONSE_HISTOGRAM),
    )
    p0 = at_us - series_days * DAY
    points = p0 + np.arange(series_days + 1) * DAY
    srt_rec = np.sort(rec)
    srt_in, srt_out = np.sort(c_at[c_delta > 0]), np.sort(c_at[c_delta < 0])
    series = (
        np.searchsorted(srt_rec, points, side="right")
        + np.searchsorted(srt_in, points, side="right")
        - np.searchsorted(srt_out, points, side="right")
    )
    tiers = conn.execute(
        f"SELECT {from_tier}, COUNT(DISTINCT ticket_id) FROM sk_events "
        "WHERE type = 'ticket.escalated' GROUP BY 1"
    ).fetchall()
    limit = {"first_response": 4 * 3600, "resolution": 3 * 86400}
    frt_at = has_frt & (frt <= at_us)
    sla_first = (
        int(np.sum(frt_at & ((frt - rec) <= limit["first_response"] * US))),
        int(np.sum(frt_at | (at_us - rec > limit["first_response"] * US))),
    )
    return {
        "tickets": len(rec),
        "first_response": _summary(first),
        "resolution": _summary(resolution),
        "next_response": _summary(waits),
        "fcr": int(np.sum(has_res & (reo == 0) & (n_out == 1))),
        "reopen": int(np.sum(reo > 0)),
        "escalation": int(np.sum(esc > 0)),
        "escalation_by_tier": tiers,
        "backlog": int(open_.sum()),
        "ageing": ageing.tolist(),
        "agent_load": len(load),
        "histogram": hist.tolist(),
        "series": series.tolist(),
        "sla_first_response": sla_first,
    }


def ours(conn: Any, at: datetime, group_by: str | None = None, dialect: str = "sqlite") -> Any:
    return sql_metrics(
        conn,
        dialect=dialect,
        at=at,
        group_by=group_by,
        series_days=30,
        sla_targets={"first_response": timedelta(hours=4), "resolution": timedelta(days=3)},
    )


def check(report: Any, ref: dict[str, Any]) -> None:
    t = report.total
    assert t.tickets == ref["tickets"]
    for name in ("first_response", "resolution", "next_response"):
        s = getattr(t, name)
        got = (s.count, s.mean, s.median, s.p90, s.p95)
        assert got[0] == ref[name][0], (name, got, ref[name])
        assert np.allclose(got[1:], ref[name][1:], rtol=1e-9), (name, got, ref[name])
    assert t.first_contact_resolution.numerator == ref["fcr"]
    assert t.reopen.numerator == ref["reopen"]
    assert t.escalation.numerator == ref["escalation"]
    assert t.backlog == ref["backlog"]
    assert list(t.ageing.values()) == ref["ageing"]
    assert [n for _, n in report.first_response_histogram] == ref["histogram"]
    assert [n for _, n in report.backlog_series] == ref["series"]
    assert len(report.agent_load) == ref["agent_load"]
    sla = t.sla["first_response"]
    assert (sla.numerator, sla.denominator) == ref["sla_first_response"]


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, tuple[float, Any]]:
    """Best time and last result of each function, run in turns (load shared alike)."""
    out: dict[str, tuple[float, Any]] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            result = fn()
            took = time.perf_counter() - t0
            if name not in out or took < out[name][0]:
                out[name] = (took, result)
    return out


CALENDAR = office_hours("Europe/Berlin")


def _business_child(path: str, what: str, queue: Any) -> None:
    """One measurement in a fresh process, so its peak memory is its own."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA cache_size = -262144")
    t0 = time.perf_counter()
    if what == "floor":
        # the calendar alone over the fetched pairs: the Python work business time needs
        rec, frt, res = _table(
            conn,
            "SELECT received_at, COALESCE(first_response_at, -1), COALESCE(resolved_at, -1) "
            "FROM sk_tickets",
        ).T
        between = CALENDAR.business_us_between
        first = np.fromiter(map(between, rec[frt >= 0].tolist(), frt[frt >= 0].tolist()), np.int64)
        np.fromiter(map(between, rec[res >= 0].tolist(), res[res >= 0].tolist()), np.int64)
        median: float | None = float(np.percentile(first / US, 50))
    else:
        report = sql_metrics(
            conn,
            at=AT,
            calendar=CALENDAR if what == "business" else None,
            sla_targets={"first_response": timedelta(hours=4), "resolution": timedelta(days=3)},
        )
        b = report.total.first_response_business
        median = b.median if b is not None else None
    took = time.perf_counter() - t0
    # VmHWM: this process's peak resident memory (ru_maxrss would keep the parent's across exec)
    status = Path("/proc/self/status").read_text()
    peak_mb = int(status.split("VmHWM:")[1].split()[0]) / 1024
    queue.put((took, peak_mb, median))


def business(path: Path) -> None:
    """Business-time metrics over every ticket: time and peak memory, each in its own process,
    beside the calendar alone over the same pairs and the clock-time report."""
    ctx = multiprocessing.get_context("spawn")
    results = {}
    for what in ("floor", "clock", "business"):
        queue = ctx.Queue()
        child = ctx.Process(target=_business_child, args=(str(path), what, queue))
        child.start()
        results[what] = queue.get()
        child.join()
    assert results["floor"][2] is not None
    assert results["business"][2] is not None
    assert abs(results["floor"][2] - results["business"][2]) < 1e-6, results
    labels = {
        "floor": "calendar alone over the fetched pairs",
        "clock": "sql_metrics, clock time only",
        "business": "sql_metrics with a business calendar",
    }
    print(f"{'business time (Europe/Berlin office hours)':<44}{'seconds':>10}{'peak MB':>10}")
    for what, (took, peak, _) in results.items():
        print(f"{labels[what]:<44}{took:>10.2f}{peak:>10.0f}")


_TABLES = ("sk_tickets", "sk_messages", "sk_history", "sk_events")


def postgresql(path: Path, url: str, n: int, repeat: int) -> float:
    """The same database copied into PostgreSQL (schema ``bench_metrics_<N>``, kept and
    reused), then the floor and ``sql_metrics`` in turns, checked to agree."""
    import psycopg

    schema = f"bench_metrics_{n}"
    sep = "&" if "?" in url else "?"
    conninfo = f"{url}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(url, autocommit=True) as admin:
        done = admin.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name = 'bench_loaded'",
            (schema,),
        ).fetchone()
        if done is None:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            admin.execute(f"CREATE SCHEMA {schema}")
    if done is None:
        t0 = time.perf_counter()
        PostgresStorage(conninfo).close()  # creates and migrates the schema
        src = sqlite3.connect(path)
        with psycopg.connect(conninfo) as pg:
            for table in _TABLES:
                pg_cols = {
                    r[0]
                    for r in pg.execute(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = %s AND table_name = %s",
                        (schema, table),
                    )
                }
                cols = [r[1] for r in src.execute(f"PRAGMA table_info({table})") if r[1] in pg_cols]
                names = ", ".join(cols)
                with pg.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in src.execute(f"SELECT {names} FROM {table}"):
                        copy.write_row(row)
            pg.execute("CREATE TABLE bench_loaded (at TEXT)")
        src.close()
        with psycopg.connect(conninfo, autocommit=True) as pg:
            pg.execute("VACUUM ANALYZE")
        print(f"copied into PostgreSQL schema {schema} in {time.perf_counter() - t0:.1f} s")
    with psycopg.connect(conninfo) as pg:
        version = pg.execute("SHOW server_version").fetchone()[0]
        pg.rollback()
        print(f"PostgreSQL {version}, the same {n:,} tickets")
        runs = interleaved(
            {
                "hand-written SQL + numpy floor": lambda: floor(pg, AT, dialect="postgresql"),
                "supportkit sql_metrics, total": lambda: ours(pg, AT, dialect="postgresql"),
                "supportkit sql_metrics, by channel": lambda: ours(
                    pg, AT, "channel", dialect="postgresql"
                ),
            },
            repeat,
        )
        pg.rollback()
    return _table_of_runs(runs)


def _table_of_runs(runs: dict[str, tuple[float, Any]]) -> float:
    """Print the runs beside the floor (the first); return the total's ratio."""
    (t_floor, ref), (t_ours, rep) = list(runs.values())[:2]
    check(rep, ref)
    print(f"{'what':<40}{'seconds':>10}{'x floor':>10}")
    for name, (secs, _) in runs.items():
        print(f"{name:<40}{secs:>10.2f}{secs / t_floor:>10.2f}")
    ratio = t_ours / t_floor
    print(f"target: within 2x of the floor: {'met' if ratio <= 2 else 'MISSED'} ({ratio:.2f}x)")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--business", action="store_true", help="also measure business-time metrics"
    )
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="also run on PostgreSQL (e.g. postgresql://postgres@127.0.0.1:5432/test)",
    )
    args = parser.parse_args(argv)
    path = Path(__file__).with_name(f".bench_metrics_v2_{args.tickets}.sqlite3")
    if not path.exists():
        t0 = time.perf_counter()
        build(path, args.tickets)
        print(f"built {path.name} in {time.perf_counter() - t0:.1f} s")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA cache_size = -262144")
    messages = conn.execute("SELECT COUNT(*) FROM sk_messages").fetchone()[0]
    print(f"{args.tickets:,} tickets, {messages:,} messages; SQLite {sqlite3.sqlite_version}")
    runs = interleaved(
        {
            "hand-written SQL + numpy floor": lambda: floor(conn, AT),
            "supportkit sql_metrics, total": lambda: ours(conn, AT),
            "supportkit sql_metrics, by channel": lambda: ours(conn, AT, "channel"),
        },
        args.repeat,
    )
    ratio = _table_of_runs(runs)
    if args.postgresql:
        ratio = max(ratio, postgresql(path, args.postgresql, args.tickets, args.repeat))
    if args.business:
        conn.close()
        business(path)
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
