"""Every real message in ../shared/corpora parses, and Zammad's expectations hold."""

from __future__ import annotations

import base64
import difflib
import email
import email.policy
import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from supportkit.channels.email import format_addresses, parse_addresses, parse_email
from supportkit.channels.email._html import html_to_text
from supportkit.channels.email._parse import (
    _raw_header,
    _repair_header_block,
    _strip_mbox_envelope,
)

CORPORA = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpora"
pytestmark = pytest.mark.skipif(
    not CORPORA.is_dir(), reason="../shared/corpora not present (real-mail corpora)"
)


def corpus_messages() -> list[Path]:
    if not CORPORA.is_dir():
        return []
    found = []
    for folder in ("flanker", "mikel-mail", "zammad"):
        for path in sorted((CORPORA / folder).rglob("*")):
            if path.suffix in (".eml", ".box") and "dkim" not in path.parts:
                found.append(path)
    return found


class _RubyLoader(yaml.SafeLoader):
    pass


_RubyLoader.add_multi_constructor(
    "!ruby/", lambda loader, suffix, node: loader.construct_mapping(node, deep=True)
)
_RubyLoader.add_constructor(
    "!binary", lambda loader, node: base64.b64decode(loader.construct_scalar(node))
)

# Keys where Zammad's recorded value is Zammad's own defect or invention, not the
# mail's content; we assert our (correct) reading instead, in test_email_parse.py.
KNOWN_DEVIATIONS = {
    ("mail046.yml", "from"): "Zammad decodes GB2312 raw header bytes as cp1250 mojibake",
    ("mail046.yml", "from_display_name"): "same GB2312 mojibake in Zammad",
    ("mail046.yml", "attachments"): "Zammad re-encodes the forwarded message",
    ("mail054.yml", "body"): "Zammad loses the body after the broken header fold; we recover it",
    ("mail076.yml", "from"): "Zammad keeps a stray '>' in the address",
    ("mail076.yml", "from_email"): "Zammad keeps a stray '>' in the address",
    ("mail076.yml", "from_display_name"): "Zammad builds a name out of the address",
    ("mail096.yml", "message_id"): "a Message-ID Zammad generated itself",
    ("mail006.yml", "to"): "Zammad keeps a To header that is not an address list verbatim",
    ("mail052.yml", "from"): "Zammad keeps the (comment) form of the address",
    ("mail092.yml", "from"): "Zammad keeps the (comment) form of the address",
    ("mail102.yml", "body"): "Zammad renders text+inline images as HTML; we keep text/plain",
    ("mail102.yml", "content_type"): "Zammad renders text+inline images as HTML",
}


def _ws(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _compare(name: str, key: str, want: Any, raw: bytes) -> bool:
    msg = parse_email(raw)
    header_source = email.message_from_bytes(
        _repair_header_block(_strip_mbox_envelope(raw)), policy=email.policy.compat32
    )
    if key == "subject":
        return bool(msg.subject == want or _ws(msg.subject) == _ws(want))
    if key == "from":
        got = format_addresses(parse_addresses(_raw_header(header_source, "From")))
        return _ws(got) == _ws(want)
    if key == "from_email":
        return bool(msg.sender.address == want)
    if key == "from_display_name":
        return bool(msg.sender.name == (want or ""))
    if key in ("to", "cc", "reply-to"):
        field = {"to": msg.to, "cc": msg.cc, "reply-to": msg.reply_to}[key]
        return _ws(format_addresses(field)) == _ws(want)
    if key == "content_type":
        return bool(msg.body_type == want)
    if key == "body":
        if want == "no visible content":
            return not msg.full_text.strip()
        if msg.body_type == "text/plain":
            return _ws(msg.full_text) == _ws(want)
        a, b = _ws(html_to_text(want)), _ws(html_to_text(msg.html or ""))
        return difflib.SequenceMatcher(None, a, b).ratio() > 0.8
    if key == "attachments":

        def md5(data: Any) -> str:
            data = data if isinstance(data, bytes) else str(data).encode()
            return hashlib.md5(data).hexdigest()

        wanted = Counter(
            md5(a["data"]) for a in want if not (a.get("preferences") or {}).get("original-format")
        )
        have = Counter(hashlib.md5(msg.data_of(a)).hexdigest() for a in msg.attachments)
        return wanted == have
    if key == "message_id":
        return bool(msg.external_id == want)
    return True  # "date": Zammad's value is its own import time


@pytest.mark.parametrize("path", corpus_messages(), ids=lambda p: p.name)
def test_every_corpus_message_parses_without_an_exception(path: Path) -> None:
    msg = parse_email(path.read_bytes())
    assert msg.channel == "email"
    assert "\n" not in msg.subject
    assert "\r" not in msg.subject
    assert msg.external_id


def test_corpus_holds_the_expected_number_of_messages() -> None:
    assert len(corpus_messages()) == 204


def test_zammad_expectations_hold_for_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    ok: Counter[str] = Counter()
    total: Counter[str] = Counter()
    failures: list[str] = []
    for yml in sorted((CORPORA / "zammad").glob("*.yml")):
        expected = yaml.load(yml.read_bytes(), Loader=_RubyLoader)
        raw = yml.with_suffix(".box").read_bytes()
        for key, want in expected.items():
            if (yml.name, key) in KNOWN_DEVIATIONS:
                continue
            total[key] += 1
            if _compare(yml.name, key, want, raw):
                ok[key] += 1
            else:
                failures.append(f"{yml.name}:{key}")
    with capsys.disabled():
        report = ", ".join(f"{k} {ok[k]}/{total[k]}" for k in sorted(total))
        print(f"\nZammad expectations (less {len(KNOWN_DEVIATIONS)} known deviations): {report}")
    assert failures == []
