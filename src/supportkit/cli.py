"""The ``supportkit`` command line: ``supportkit report``, ``demo``, ``import`` and ``worker``.

``supportkit report`` reads a desk's database (SQLite file by default, or a
``sqlite:///path`` / ``postgresql://...`` URL) and prints its metrics as a
terminal table, JSON, CSV or a self-contained HTML page. Aggregation runs
inside the database (:func:`supportkit.metrics.sql_metrics`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ._duration import parse_duration
from .domain._errors import SupportKitError, ValidationError

__all__ = ["main", "parse_duration", "parse_instant"]

DEFAULT_SLA = "first_response=4h,next_response=8h,resolution=3d"
#: the database ``supportkit demo`` writes, and the one ``supportkit report`` reads by default
DEMO_DB = "supportkit-demo.sqlite3"


def parse_instant(text: str, *, end_of_day: bool = False) -> datetime:
    """An ISO date or datetime; a date is midnight UTC (the next midnight if *end_of_day*).

    A datetime without an offset is taken as UTC.
    """
    try:
        if len(text.strip()) == 10:
            d = date.fromisoformat(text.strip())
            at = datetime(d.year, d.month, d.day, tzinfo=UTC)
            return at + timedelta(days=1) if end_of_day else at
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"cannot read {text!r} as a date or time: write 2026-01-31 or 2026-01-31T18:00+03:00"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _sla_targets(spec: str) -> dict[str, timedelta]:
    if spec.strip().lower() in ("", "none", "off"):
        return {}
    out = {}
    for part in spec.split(","):
        name, sep, value = part.partition("=")
        if not sep:
            raise ValidationError(
                f"cannot read SLA target {part!r}: write name=duration, e.g. first_response=4h"
            )
        out[name.strip()] = parse_duration(value)
    return out


def _parser() -> argparse.ArgumentParser:
    from .metrics import DIMENSIONS, FORMATS

    parser = argparse.ArgumentParser(prog="supportkit", description="supportkit tools")
    sub = parser.add_subparsers(dest="command", metavar="{report,demo,import,worker}")
    sub.required = True
    rep = sub.add_parser(
        "report",
        help="metrics of a desk's database",
        description="Print the support metrics of a desk's database.",
    )
    src = rep.add_mutually_exclusive_group()
    src.add_argument("--db", metavar="PATH", help=f"SQLite file (default: {DEMO_DB}, the demo's)")
    src.add_argument("--url", help="sqlite:///path or postgresql://user@host/db")
    rep.add_argument("--since", help="first day or instant of the window (received tickets)")
    rep.add_argument(
        "--until",
        help="last day (inclusive) or instant (exclusive) of the window (default: no end)",
    )
    rep.add_argument(
        "--at", help="instant of the backlog (default: --until, else the last stored change)"
    )
    rep.add_argument("--group-by", choices=DIMENSIONS, default=None)
    rep.add_argument("--format", choices=FORMATS, default="table")
    rep.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    rep.add_argument(
        "--sla",
        default=None,
        help="SLA targets to judge tickets against, or 'none' (default: the outcomes of the "
        f"desk's own SLA clocks if it has any, else {DEFAULT_SLA})",
    )
    rep.add_argument(
        "--business-hours",
        metavar="HH:MM-HH:MM",
        help="measure business time too, with these opening hours (e.g. 09:00-18:00)",
    )
    rep.add_argument("--business-days", default="mon-fri", help="default: mon-fri")
    rep.add_argument("--timezone", default="UTC", help="time zone of the business hours")
    rep.add_argument("--holidays", metavar="COUNTRY", help="public holidays, e.g. RU or DE")
    rep.add_argument(
        "--series-days",
        type=int,
        default=None,
        help="days in the backlog chart (default: from the first ticket received)",
    )
    rep.add_argument(
        "--topic-weeks",
        type=int,
        default=None,
        help="weeks in the topics view (at least 2; default: the data's weeks, at most 26)",
    )
    rep.add_argument(
        "--desk", default="default", help="the desk to report on, in a database of many desks"
    )
    demo = sub.add_parser("demo", help="run the demo desk")
    demo.add_argument("args", nargs=argparse.REMAINDER)
    _import_parser(sub)
    _worker_parser(sub)
    return parser


def _worker_parser(sub: Any) -> None:
    worker = sub.add_parser(
        "worker",
        help="run the production loops (timers, relay, mailboxes, reprocessing, auto-close)",
        description="Run a desk's production loops until SIGTERM; settings from --config "
        "and SUPPORTKIT_* environment variables (see docs/production.md).",
    )
    worker.add_argument("--config", metavar="FILE", help="TOML settings (environment wins)")
    worker.add_argument(
        "--once", action="store_true", help="run each loop one pass, then exit (cron, tests)"
    )


def worker(args: argparse.Namespace) -> int:
    """``supportkit worker``: JSON log lines on stderr; SIGTERM/SIGINT finish the pass
    under way and exit 0 (also while it starts); a bad configuration exits 2."""
    import signal

    from .worker import Worker, load_config, log_to

    asked: list[str] = []  # a signal that came while the worker was being built
    previous = {
        sig: signal.signal(sig, lambda signum, frame: asked.append(signal.Signals(signum).name))
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        try:
            config = load_config(args.config)
            log_to(level=config.log_level)
            runner = Worker(config)
        except SupportKitError as exc:
            print(f"supportkit worker: {exc}", file=sys.stderr)
            return 2

        def stop(signum: int, frame: Any) -> None:
            runner.log.action("worker", "worker.stopping", signal=signal.Signals(signum).name)
            runner.stop()

        for sig in previous:
            signal.signal(sig, stop)
        if asked:
            runner.log.action("worker", "worker.stopping", signal=asked[0])
            runner.stop()
        with runner:
            return runner.run(once=args.once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _import_parser(sub: Any) -> None:
    imp = sub.add_parser(
        "import",
        help="move another help desk's database into supportkit",
        description="Import a django-helpdesk database (read-only) into a supportkit desk. "
        "Safe to run again: imported tickets are skipped, an interrupted import resumes.",
    )
    imp.add_argument("kind", choices=["django-helpdesk"], help="what the source is")
    imp.add_argument("source", metavar="DATABASE_URL", help="SQLite path or postgresql:// URL")
    imp.add_argument(
        "--to",
        default="sqlite:///supportkit.sqlite3",
        metavar="URL",
        help="the supportkit storage to import into (default: sqlite:///supportkit.sqlite3)",
    )
    imp.add_argument("--batch-size", type=int, default=500, help="tickets per transaction")
    imp.add_argument(
        "--anonymous-sender",
        metavar="ADDRESS",
        help="the customer of tickets without a submitter e-mail (default: report them)",
    )
    imp.add_argument(
        "--source-name",
        default="django-helpdesk",
        help="prefix of the imported ids (one per source database imported into one desk)",
    )
    imp.add_argument(
        "--relay-events",
        action="store_true",
        help="leave the replayed history's events to a relay to a broker (default: marked "
        "relayed, so other processes never hear of old tickets as new)",
    )
    imp.add_argument("--no-progress", action="store_true", help="draw no progress bar")


def run_import(args: argparse.Namespace, out: Any, err: Any) -> int:
    """``supportkit import``: 0 when every ticket is in, 1 when some were reported."""
    from .importers import import_django_helpdesk
    from .importers._progress import progress_bar
    from .storage import open_storage

    storage = open_storage(args.to)
    try:
        with progress_bar(err, enabled=not args.no_progress) as progress:
            summary = import_django_helpdesk(
                args.source,
                storage,
                batch_size=args.batch_size,
                source_name=args.source_name,
                anonymous_sender=args.anonymous_sender,
                progress=progress,
                relay_events=args.relay_events,
            )
    finally:
        storage.close()
    print("\n".join(summary.lines()), file=out)
    return 1 if summary.problems else 0


def _connect(args: argparse.Namespace) -> tuple[Any, str, Any]:
    """(connection, dialect, closer) of the report's database."""
    url: str | None = args.url
    if url is None:
        path = args.db or DEMO_DB
    elif url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
    elif url.startswith(("postgresql://", "postgres://")):
        from .storage.postgres import PostgresStorage

        PostgresStorage(url, desk=args.desk).close()  # brings the schema up to date
        import psycopg

        conn = psycopg.connect(url, autocommit=False)
        return conn, "postgresql", conn.close
    else:
        raise ValidationError(f"unknown database URL {url!r}: use sqlite:///path or postgresql://")
    if not os.path.exists(path):
        hint = " (run `supportkit demo` to make it)" if path == DEMO_DB else ""
        raise ValidationError(
            f"no database at {path!r}{hint}: pass --db PATH or --url, or run from the desk's "
            "directory"
        )
    from .storage.sqlite import SQLiteStorage

    storage = SQLiteStorage(path, desk=args.desk)
    return storage.connection(), "sqlite", storage.close


def report(args: argparse.Namespace, out: Any) -> int:
    from .extensions import stored_sla_outcomes
    from .metrics import (
        breakdown,
        data_range,
        read_snapshot,
        render,
        sql_complaint_metrics,
        sql_metrics,
        sql_topic_facts,
        sql_topics,
        stored_feedback,
        weeks_covering,
        with_complaints,
        with_topics,
    )

    since = parse_instant(args.since) if args.since else None
    until = parse_instant(args.until, end_of_day=True) if args.until else None
    calendar = None
    if args.business_hours:
        from .policies._calendar import office_hours

        calendar = office_hours(
            args.timezone,
            hours=args.business_hours.split(","),
            weekdays=args.business_days,
            country=args.holidays,
        )
    asked = _sla_targets(args.sla) if args.sla is not None else None
    conn, dialect, close = _connect(args)
    try:
        with read_snapshot(conn, dialect, args.desk) as snap:
            first, last = data_range(snap)
            # by default the data's range: up to the last stored change
            at = parse_instant(args.at) if args.at else until or last or datetime.now(UTC)
            if asked is None and snap.sla_clocks_after(None, 1):
                targets: dict[str, timedelta] = {}  # judged by the desk's own SLA clocks
                outcomes = stored_sla_outcomes(snap)
            else:
                targets = _sla_targets(DEFAULT_SLA) if asked is None else asked
                outcomes = []
            options: dict[str, Any] = {
                "dialect": dialect,
                "at": at,
                "since": since,
                "until": until,
                "calendar": calendar,
                "sla_targets": targets,
                "sla_outcomes": outcomes,
                "feedback": stored_feedback(snap),
                "series_days": args.series_days,
                "desk": args.desk,
            }
            result = sql_metrics(conn, group_by=args.group_by, **options)
            by_channel = None
            if args.format == "html" and args.group_by != "channel":
                by_channel = sql_metrics(conn, group_by="channel", **options)
            facts = list(
                sql_topic_facts(conn, dialect=dialect, since=since, until=until, desk=args.desk)
            )
            topics = {by: breakdown(facts, by=by) for by in ("category", "tag")}
            complaints = sql_complaint_metrics(
                conn, dialect=dialect, since=since, until=until, desk=args.desk
            )
            weeks = args.topic_weeks
            if weeks is None:  # the data's weeks
                weeks = weeks_covering(since or first, at)
            trends = sql_topics(conn, dialect=dialect, at=at, weeks=weeks, desk=args.desk)
    finally:
        close()
    text = render(result, args.format, by_channel=by_channel, topics=topics)
    text = with_topics(with_complaints(text, args.format, complaints), args.format, trends)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {args.output}", file=out)
    else:
        out.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``supportkit`` console script and ``python -m supportkit``."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "demo":
        from importlib import import_module

        demo_main = import_module("supportkit.demo").main
        rest = [a for a in args.args if a != "--"]
        return int(demo_main(rest) or 0)
    if args.command == "worker":
        return worker(args)
    try:
        if args.command == "import":
            return run_import(args, sys.stdout, sys.stderr)
        return report(args, sys.stdout)
    except SupportKitError as exc:
        print(f"supportkit {args.command}: {exc}", file=sys.stderr)
        return 2
