"""Fuzzing the mail path: only SupportKitError comes out, nothing is half-stored.

A seeded mutation fuzzer takes real mail (``../shared/corpora`` when
present, plus built-in seeds) and truncates it, flips bytes, floods headers,
nests it deep, breaks boundaries and encoded words; hypothesis adds random
bytes and header-shaped text. Each case goes through ``parse_email`` and
through ``EmailChannel.ingest`` on a real SQLite file: the parser returns a
message or raises MalformedMessage; the channel keeps every mail raw with a
final status (processed, ignored or failed with its error), never pending.

About 2,000 cases under CI=true (the "ci" profile), a few hundred locally.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit import MalformedMessage, SupportDesk
from supportkit.channels.email import EmailChannel, parse_email
from supportkit.storage.sqlite import SQLiteStorage

CORPORA = Path(__file__).resolve().parents[4] / "shared" / "corpora"
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")
MUTATION_CASES = 1600 if IN_CI else 240

BUILT_IN = [
    b"From: Ann <ann@example.com>\r\nTo: desk@support.example\r\nSubject: Hi\r\n"
    b"Message-ID: <s1@example.com>\r\n\r\nHello, my order is late.\r\n",
    b"From: =?koi8-r?B?8NLJ18XU?= <ivan@example.ru>\r\nSubject: =?utf-8?q?=D0=9F=D1=80?=\r\n"
    b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\n'
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"0J/RgNC40LLQtdGC\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>hi<b>there</p>\r\n--b--\r\n",
    b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
    b"Content-Type: message/rfc822\r\n\r\nFrom: b@example.com\r\nSubject: inner\r\n\r\nbody\r\n"
    b"--x\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n"
    b"\r\nJVBERi0xLjQK\r\n--x--\r\n",
]


def _seeds() -> list[bytes]:
    seeds = list(BUILT_IN)
    if CORPORA.is_dir():
        for path in sorted(CORPORA.rglob("*")):
            if path.suffix in (".eml", ".box") and path.stat().st_size < 64 * 1024:
                seeds.append(path.read_bytes())
    return seeds


def _truncate(rng: random.Random, raw: bytes) -> bytes:
    return raw[: rng.randrange(len(raw) + 1)]


def _flip(rng: random.Random, raw: bytes) -> bytes:
    out = bytearray(raw)
    for _ in range(rng.randint(1, 20)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _header_flood(rng: random.Random, raw: bytes) -> bytes:
    name = rng.choice([b"Received", b"X-Junk", b"From", b"Subject", b"Content-Type", b"To"])
    value = rng.choice([b"x", b"=?utf-8?q?a?=", b"a@b.c", b"\xff\xfe", b"multipart/mixed"])
    return b"".join(name + b": " + value + b"\r\n" for _ in range(rng.randint(100, 3000))) + raw


def _nest(rng: random.Random, raw: bytes) -> bytes:
    depth = rng.choice([2, 10, 60, 101, 150, 400])
    head = b"From: n@example.com\r\n"
    for i in range(depth):
        head += f'Content-Type: multipart/mixed; boundary="n{i}"\r\n\r\n--n{i}\r\n'.encode()
    tail = b"".join(f"\r\n--n{i}--".encode() for i in reversed(range(depth)))
    return head + b"Content-Type: message/rfc822\r\n\r\n" + raw + tail


def _splice(rng: random.Random, raw: bytes) -> bytes:
    junk = rng.choice(
        [
            b"\x00",
            b"=?",
            b"?=",
            b"=?ut\x00f-8?q?",
            b"\r\n--",
            b"<div>" * 500,
            b"> q\n" * 200,
            b'charset="\x00"',
            b"\r\n\r\n",
            b"boundary=",
            b"\xd0",
            b"\x1b$B",
        ]
    )
    at = rng.randrange(len(raw) + 1)
    return raw[:at] + junk + raw[at:]


MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    _truncate,
    _flip,
    _header_flood,
    _nest,
    _splice,
]


def _check_parse(raw: bytes) -> None:
    try:
        msg = parse_email(raw)
    except MalformedMessage as exc:
        refused = str(exc)
        assert refused, "a refusal must say why"
        return
    assert isinstance(msg.text, str)
    assert isinstance(msg.full_text, str)
    assert "\r" not in msg.subject
    assert "\n" not in msg.subject


@pytest.fixture
def channel(tmp_path: Path) -> EmailChannel:
    desk = SupportDesk(storage=SQLiteStorage(tmp_path / "fuzz.sqlite3"))
    return EmailChannel(desk, "desk@support.example")


def _check_stored(channel: EmailChannel, raws: list[bytes]) -> None:
    outcomes = [channel.ingest(raw) for raw in raws]
    assert {o.status for o in outcomes} <= {"processed", "ignored", "failed", "duplicate"}
    with channel.desk.storage.unit_of_work() as uow:
        kept = uow.list_raw_inbound(limit=10 * len(raws))
    assert {r.status for r in kept} <= {"processed", "ignored", "failed"}, "left half-done"
    for row in kept:
        if row.status == "processed":
            assert row.ticket_id is not None
            assert channel.desk.get_ticket(row.ticket_id) is not None
        else:
            assert row.error, f"{row.status} without its reason"
    assert {r.raw for r in kept} >= {
        raw for raw, o in zip(raws, outcomes, strict=True) if o.status != "duplicate"
    }


def test_mutated_real_mail_parses_or_fails_cleanly_and_is_kept(channel: EmailChannel) -> None:
    rng = random.Random(20261124)
    seeds = _seeds()
    cases = []
    for _ in range(MUTATION_CASES):
        raw = rng.choice(seeds)
        for _ in range(rng.randint(1, 3)):
            raw = rng.choice(MUTATIONS)(rng, raw)
        _check_parse(raw)
        cases.append(raw)
    _check_stored(channel, cases[: max(60, MUTATION_CASES // 8)])


@given(st.binary(max_size=4000))
def test_random_bytes_parse_or_fail_cleanly(raw: bytes) -> None:
    _check_parse(raw)


_HEADER_NAMES = st.sampled_from(
    ["From", "To", "Subject", "Content-Type", "Content-Transfer-Encoding", "Message-ID", "Date"]
)
_HEADER_VALUES = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda cs, enc, body: f"=?{cs}?{enc}?{body}?=",
        st.text(max_size=12),
        st.sampled_from(["q", "b", "Q", "B", "x"]),
        st.text(max_size=60),
    ),
    st.sampled_from(
        [
            'multipart/mixed; boundary="a"',
            "text/plain; charset=\x00",
            "base64",
            "quoted-printable",
            '"Name" <>',
            "<>",
            "Mon, 99 Foo 99999 99:99:99 +9999",
        ]
    ),
)


@given(
    st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=12),
    st.binary(max_size=2000),
)
def test_random_headers_and_bodies_parse_or_fail_cleanly(
    headers: list[tuple[str, str]], body: bytes
) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    _check_parse(head.encode("utf-8", "surrogatepass") + b"\r\n" + body)
