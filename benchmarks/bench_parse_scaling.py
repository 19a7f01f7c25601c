"""Parse time against input size for hostile mail shapes: linear, beside the stdlib parser.

Each shape is built at 1x, 4x and 16x its base size and parsed by
``supportkit.channels.email.parse_email`` and, on the same bytes, by the
standard library (``email.message_from_bytes`` with ``policy.default``,
then ``get_body`` and its content, the closest stdlib equivalent of
"give me the text"). A linear parser's time grows about 4x per step; the
``growth`` column is the ratio to the previous size. The stdlib has no
quote stripping or HTML sanitising, so on those shapes it only parses.

    python benchmarks/bench_parse_scaling.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import statistics
import sys
import time
from collections.abc import Callable

from supportkit import MalformedMessage
from supportkit.channels.email import parse_email

HEAD = b"From: Ann <ann@example.com>\r\nTo: desk@support.example\r\nSubject: x\r\n"


def quotes(n: int) -> bytes:
    """Alternating quoted and unquoted lines (280 KB took 30 s before the fix)."""
    body = "\n".join(">q" if i % 2 == 0 else "a" for i in range(n)).encode()
    return HEAD + b"\r\n" + body


def nested_divs(n: int) -> bytes:
    """An HTML-only mail of n nested <div>s (1.1 MB took nh3 14 s)."""
    html = b"<div>" * n + b"deep" + b"</div>" * n
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html


def unclosed_attrs(n: int) -> bytes:
    """n unterminated tags: quadratic in the stdlib HTMLParser's rescans."""
    html = b'<a href="x" title="' * n
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html


def mime_nesting(n: int) -> bytes:
    """multipart nested n deep (n <= 100: past that the parser refuses, clearly)."""
    out = HEAD + b"MIME-Version: 1.0\r\n"
    for i in range(n):
        out += f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
    out += b"Content-Type: text/plain\r\n\r\ninner\r\n"
    for i in reversed(range(n)):
        out += f"--b{i}--\r\n".encode()
    return out


def header_flood(n: int) -> bytes:
    """n Received headers with encoded words."""
    lines = b"".join(b"Received: =?utf-8?q?hop_=C3=A9?= from x by y\r\n" for _ in range(n))
    return lines + HEAD + b"\r\nhello"


def encoded_subject(n: int) -> bytes:
    """A subject of n adjacent encoded words (split multi-byte characters)."""
    words = b" ".join(b"=?utf-8?b?0J/RgNC4?=" for _ in range(n))
    return b"From: a@example.com\r\nSubject: " + words + b"\r\n\r\nhi"


SHAPES: list[tuple[str, Callable[[int], bytes], int]] = [
    ("alternating >q / a lines", quotes, 20_000),
    ("nested <div>", nested_divs, 25_000),
    ("unterminated <a title=", unclosed_attrs, 5_000),
    ("MIME nesting depth", mime_nesting, 6),
    ("Received header flood", header_flood, 2_000),
    ("encoded words in Subject", encoded_subject, 1_000),
]


def ours(raw: bytes) -> None:
    with contextlib.suppress(MalformedMessage):  # a refused message is an answer too
        parse_email(raw)


def stdlib(raw: bytes) -> None:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_body(("plain", "html"))  # type: ignore[attr-defined]
    if body is not None:
        body.get_content()
    for name in ("From", "Subject"):
        str(msg.get(name, ""))


def timed(fn: Callable[[bytes], None], raw: bytes, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            fn(raw)
        except RecursionError:
            return float("nan")
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one run per point")
    args = ap.parse_args()
    repeat = 1 if args.quick else 3
    print(f"Python {sys.version.split()[0]}; median of {repeat}; growth = time / previous size")
    print(f"{'shape':28} {'size':>5} {'bytes':>9} {'supportkit':>11} {'growth':>6} "
          f"{'stdlib':>9} {'growth':>6}")  # fmt: skip
    for name, build, base in SHAPES:
        prev: tuple[float, float] | None = None
        for factor in (1, 4, 16):
            raw = build(base * factor)
            a = timed(ours, raw, repeat)
            b = timed(stdlib, raw, repeat)
            ga = f"{a / prev[0]:.1f}x" if prev else ""
            gb = f"{b / prev[1]:.1f}x" if prev else ""
            print(f"{name:28} {factor:>4}x {len(raw):>9} {a * 1000:>9.1f}ms {ga:>6} "
                  f"{b * 1000:>7.1f}ms {gb:>6}")  # fmt: skip
            prev = (a, b)


if __name__ == "__main__":
    main()
