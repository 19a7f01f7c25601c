"""Email parse throughput over the real-mail corpus, against the stdlib floor.

    .venv/bin/python benchmarks/bench_email.py [--rounds 5]

Floor: ``email.message_from_bytes(raw, policy=email.policy.default)`` alone
(structure only: no charset repair, no HTML, no quote stripping). supportkit:
``parse_email(raw)`` (structure, headers, charsets, sanitised HTML, text,
visible reply, attachments with sha256, loop flags). Optional: the same plus
``SupportDesk.receive`` on an in-memory desk (parse-and-register).
Median of ``--rounds`` passes over every message; messages/s and MB/s.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from supportkit.channels.email import parse_email  # noqa: E402

CORPORA = ROOT / ".." / "shared" / "corpora"


def corpus() -> list[bytes]:
    files = []
    for folder in ("flanker", "mikel-mail", "zammad"):
        for path in sorted((CORPORA / folder).rglob("*")):
            if path.suffix in (".eml", ".box") and "dkim" not in path.parts:
                files.append(path.read_bytes())
    return files


def stdlib_floor(raw: bytes) -> object:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    # touch what a desk needs, as the modern API exposes it
    for name in ("From", "To", "Subject", "Message-ID"):
        with contextlib.suppress(Exception):
            msg.get(name)
    try:
        body = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        if body is not None:
            body.get_content()
    except Exception:
        pass
    return msg


def stdlib_compat32(raw: bytes) -> object:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def make_register() -> Callable[[bytes], object]:
    from supportkit import SupportDesk
    from supportkit.channels.email import Address, EmailChannel
    from supportkit.ports._clock import FakeClock

    counter = itertools.count()
    desk = SupportDesk(
        clock=FakeClock(datetime(2026, 1, 5, tzinfo=UTC)), ids=lambda: f"i{next(counter)}"
    )
    channel = EmailChannel(desk, Address("desk@example.com"))
    return channel.ingest


def bench(fn: Callable[[bytes], object], data: list[bytes], rounds: int) -> tuple[float, int]:
    times = []
    failures = 0
    for _ in range(rounds):
        start = time.perf_counter()
        for raw in data:
            try:
                fn(raw)
            except Exception:
                failures += 1
        times.append(time.perf_counter() - start)
    return statistics.median(times), failures // rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--register", action="store_true", help="also parse-and-register")
    args = parser.parse_args()
    if not CORPORA.is_dir():
        sys.exit("../shared/corpora not present: nothing to measure")
    data = corpus()
    size = sum(map(len, data)) / 1e6
    print(f"{len(data)} messages, {size:.1f} MB, median of {args.rounds} rounds")
    rows: list[tuple[str, Callable[[bytes], object]]] = [
        ("stdlib email (policy=default), floor", stdlib_floor),
        ("stdlib email (compat32, structure only)", stdlib_compat32),
        ("supportkit parse_email", parse_email),
    ]
    if args.register:
        rows.append(("supportkit parse + desk.receive (memory)", make_register()))
    statuses: dict[str, int] = {}
    for label, fn in rows:
        if label.startswith("supportkit parse +"):
            seconds, failures = bench(fn, data, 1)  # a second pass would be all duplicates
        else:
            seconds, failures = bench(fn, data, args.rounds)
        if label.startswith("supportkit parse +"):
            channel_ingest = make_register()
            for raw in data:
                status = getattr(channel_ingest(raw), "status", "?")
                statuses[status] = statuses.get(status, 0) + 1
        print(
            f"{label:45s} {len(data) / seconds:8.0f} msg/s  {size / seconds:6.1f} MB/s"
            f"  exceptions: {failures}"
        )
    if statuses:
        print("parse-and-register outcomes:", statuses)


if __name__ == "__main__":
    main()
