"""The ``supportkit`` command line: ``supportkit report`` and ``supportkit demo``.

``supportkit report`` reads a desk's database (SQLite file by default, or a
``sqlite:///path`` / ``postgresql://...`` URL) and prints its metrics as a
terminal table, JSON, CSV or a self-contained HTML page. Aggregation runs
inside the database (:func:`supportkit.metrics.sql_metrics`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .domain._errors import SupportKitError, ValidationError

__all__ = ["main", "parse_duration", "parse_instant"]

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
DEFAULT_SLA = "first_response=4h,next_response=8h,resolution=3d"


def parse_duration(text: str) -> timedelta:
    """``"4h"``, ``"1h30m"``, ``"3d"``, ``"90s"`` as a timedelta."""
    text = text.strip()
    pos, seconds = 0, 0.0
    for m in _DURATION_RE.finditer(text):
        if text[pos : m.start()].strip():
            break
        seconds += float(m.group(1)) * _UNITS[m.group(2).lower()]
        pos = m.end()
    if pos == 0 or text[pos:].strip():
        raise ValidationError(f"cannot read duration {text!r}: write it like 4h, 1h30m, 3d or 90s")
    return timedelta(seconds=seconds)


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
    sub = parser.add_subparsers(dest="command", metavar="{report,demo}")
    sub.required = True
    rep = sub.add_parser(
        "report",
        help="metrics of a desk's database",
        description="Print the support metrics of a desk's database.",
    )
    src = rep.add_mutually_exclusive_group()
    src.add_argument("--db", metavar="PATH", help="SQLite file (default: supportkit.sqlite3)")
    src.add_argument("--url", help="sqlite:///path or postgresql://user@host/db")
    rep.add_argument("--since", help="first day or instant of the window (received tickets)")
    rep.add_argument(
        "--until", help="last day (inclusive) or instant (exclusive) of the window (default: --at)"
    )
    rep.add_argument("--at", help="instant of the backlog (default: --until, or now)")
    rep.add_argument("--group-by", choices=DIMENSIONS, default=None)
    rep.add_argument("--format", choices=FORMATS, default="table")
    rep.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    rep.add_argument(
        "--sla",
        default=DEFAULT_SLA,
        help=f"SLA targets to judge tickets against, or 'none' (default: {DEFAULT_SLA})",
    )
    rep.add_argument(
        "--business-hours",
        metavar="HH:MM-HH:MM",
        help="measure business time too, with these opening hours (e.g. 09:00-18:00)",
    )
    rep.add_argument("--business-days", default="mon-fri", help="default: mon-fri")
    rep.add_argument("--timezone", default="UTC", help="time zone of the business hours")
    rep.add_argument("--holidays", metavar="COUNTRY", help="public holidays, e.g. RU or DE")
    rep.add_argument("--series-days", type=int, default=30, help="days in the backlog chart")
    rep.add_argument(
        "--topic-weeks", type=int, default=4, help="weeks in the topics view (at least 2)"
    )
    rep.add_argument(
        "--desk", default="default", help="the desk to report on, in a database of many desks"
    )
    demo = sub.add_parser("demo", help="run the demo desk")
    demo.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _open(args: argparse.Namespace) -> tuple[Any, Any, str]:
    url: str | None = args.url
    if url is None:
        path = args.db or "supportkit.sqlite3"
    elif url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
    elif url.startswith(("postgresql://", "postgres://")):
        from .storage.postgres import PostgresStorage

        pg = PostgresStorage(url, desk=args.desk)
        uow = pg.unit_of_work()
        uow.__enter__()
        return pg, uow, "postgresql"
    else:
        raise ValidationError(f"unknown database URL {url!r}: use sqlite:///path or postgresql://")
    if not os.path.exists(path):
        raise ValidationError(
            f"no database at {path!r}: pass --db PATH or --url, or run from the desk's directory"
        )
    from .storage.sqlite import SQLiteStorage

    storage = SQLiteStorage(path, desk=args.desk)
    return storage, None, "sqlite"


def report(args: argparse.Namespace, out: Any) -> int:
    from .metrics import (
        render,
        sql_metrics,
        stored_complaint_metrics,
        stored_feedback,
        stored_topics,
        with_complaints,
        with_topics,
    )

    since = parse_instant(args.since) if args.since else None
    until = parse_instant(args.until, end_of_day=True) if args.until else None
    now = datetime.now(UTC)
    at = parse_instant(args.at) if args.at else (min(until, now) if until else now)
    if until is None:
        until = at
    calendar = None
    if args.business_hours:
        from .policies._calendar import office_hours

        calendar = office_hours(
            args.timezone,
            hours=args.business_hours.split(","),
            weekdays=args.business_days,
            country=args.holidays,
        )
    targets = _sla_targets(args.sla)
    storage, uow, dialect = _open(args)
    try:
        conn = uow.raw_connection() if uow is not None else storage.connection()
        if uow is None:
            with storage.unit_of_work() as kv_uow:
                feedback = stored_feedback(kv_uow)
        else:
            feedback = stored_feedback(uow)
        options: dict[str, Any] = {
            "desk": args.desk,
            "dialect": dialect,
            "at": at,
            "since": since,
            "until": until,
            "calendar": calendar,
            "sla_targets": targets,
            "feedback": feedback,
            "series_days": args.series_days,
        }
        result = sql_metrics(conn, group_by=args.group_by, **options)
        if uow is None:
            with storage.for_desk(args.desk).unit_of_work() as c_uow:
                complaints = stored_complaint_metrics(c_uow, since=since, until=until)
                topics = stored_topics(c_uow, at=at, weeks=args.topic_weeks)
        else:
            complaints = stored_complaint_metrics(uow, since=since, until=until)
            topics = stored_topics(uow, at=at, weeks=args.topic_weeks)
        by_channel = None
        if args.format == "html" and args.group_by != "channel":
            by_channel = sql_metrics(conn, group_by="channel", **options)
    finally:
        if uow is not None:
            uow.__exit__(None, None, None)
        storage.close()
    text = render(result, args.format, by_channel=by_channel)
    text = with_topics(with_complaints(text, args.format, complaints), args.format, topics)
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
    try:
        return report(args, sys.stdout)
    except SupportKitError as exc:
        print(f"supportkit report: {exc}", file=sys.stderr)
        return 2
