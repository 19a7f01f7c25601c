"""Public test mail from other projects (tests/data/mail/) and the checks their tests make.

Shared by ``test_email_public_mail.py`` and ``benchmarks/mail_accuracy.py``. Each source
folder has an ``expected.json``: ``kind`` is ``message`` (a raw RFC 822 message, fed to
:func:`parse_email`) or ``body`` (a plain-text body only, fed to :func:`visible_reply`);
``messages`` maps a file name to the expectations the upstream tests state for it. Every
key of an entry is one expectation; an empty entry means "parsed or refused cleanly".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from supportkit.channels.email import InboundMessage, parse_email, visible_reply
from supportkit.domain._errors import MalformedMessage

DATA = Path(__file__).resolve().parents[2] / "data" / "mail"

#: measured only once, after the fixes (see tests/data/mail/README.md)
HELD_OUT = frozenset({"enmime", "crisp-email-reply-parser"})
DEV = ("talon", "email_reply_parser", "php-mime-mail-parser", "cpython", "django-helpdesk")


@attrs.define
class Outcome:
    source: str
    name: str
    parsed: bool = False
    refused: str = ""  # the MalformedMessage text when refused
    crashed: str = ""  # any other exception: always a bug
    met: list[str] = attrs.Factory(list)
    missed: list[str] = attrs.Factory(list)  # "key: got ..." per unmet expectation


def _norm(text: str | None) -> str:
    """Lines right-stripped, outer blank lines dropped: trailing spaces are not content."""
    return "\n".join(line.rstrip() for line in (text or "").split("\n")).strip("\n")


def _check_message(msg: InboundMessage, key: str, want: Any) -> tuple[bool, object]:
    names = [a.filename for a in msg.attachments]
    checks: dict[str, Callable[[], tuple[bool, object]]] = {
        "subject": lambda: (msg.subject == want, msg.subject),
        "subject_endswith": lambda: (msg.subject.endswith(want), msg.subject),
        "sender": lambda: (msg.sender.address == want, msg.sender.address),
        "sender_name": lambda: (msg.sender.name == want, msg.sender.name),
        "sender_present": lambda: (bool(msg.sender.address) == want, msg.sender.address),
        "text": lambda: (_norm(msg.text) == _norm(want), msg.text),
        "full_text": lambda: (_norm(msg.full_text) == _norm(want), msg.full_text),
        "full_text_contains": lambda: (all(w in msg.full_text for w in want), msg.full_text),
        "html": lambda: (msg.html == want, msg.html),
        "html_contains": lambda: (all(w in (msg.html or "") for w in want), msg.html),
        "html_excludes": lambda: (not any(w in (msg.html or "") for w in want), msg.html),
        "attachments": lambda: (names == want, names),
        "attachment_set": lambda: (sorted(names) == sorted(want), names),
        "to_names": lambda: ([a.name for a in msg.to] == want, [a.name for a in msg.to]),
        "sent_at": lambda: (msg.sent_at == want, msg.sent_at),
    }
    return checks[key]()


def _check_text(text: str, key: str, want: Any) -> tuple[bool, object]:
    checks: dict[str, Callable[[], bool]] = {
        "text": lambda: _norm(text) == _norm(want),
        "text_startswith": lambda: _norm(text).startswith(want),
        "text_contains": lambda: all(w in text for w in want),
        "text_excludes": lambda: not any(w in text for w in want),
    }
    return checks[key](), text


def sources() -> list[str]:
    return sorted(p.name for p in DATA.iterdir() if (p / "expected.json").is_file())


def evaluate(source: str) -> list[Outcome]:
    """Parse every file of *source* and check the expectations its upstream tests state."""
    spec = json.loads((DATA / source / "expected.json").read_text(encoding="utf-8"))
    outcomes = [_case(source, n, c) for n, c in sorted(_cases(source).items())]
    for name, expectations in sorted(spec["messages"].items()):
        out = Outcome(source, name)
        raw = (DATA / source / name).read_bytes()
        checks = {k: v for k, v in expectations.items() if k != "note"}
        try:
            if spec["kind"] == "body":
                text = visible_reply(raw.decode("utf-8").replace("\r\n", "\n"))
                results = {k: _check_text(text, k, v) for k, v in checks.items()}
            else:
                msg = parse_email(raw)
                results = {k: _check_message(msg, k, v) for k, v in checks.items()}
        except MalformedMessage as exc:
            out.refused = str(exc)
            out.missed = [f"{k}: refused" for k in checks]
        except Exception as exc:  # recorded; the test fails on it
            out.crashed = f"{type(exc).__name__}: {exc}"
        else:
            out.parsed = True
            for key, (ok, got) in results.items():
                if ok:
                    out.met.append(key)
                else:
                    out.missed.append(f"{key}: got {_short(got)}")
        outcomes.append(out)
    return outcomes


def _cases(source: str) -> dict[str, dict[str, str]]:
    """Inline test cases (a body and the visible reply) from ``*.json`` files with kind "cases"."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted((DATA / source).glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        if spec.get("kind") == "cases":
            found.update({f"{path.stem}:{k}": v for k, v in spec["cases"].items()})
    return found


def _case(source: str, name: str, case: dict[str, str]) -> Outcome:
    out = Outcome(source, name)
    try:
        text = visible_reply(case["body"])
    except Exception as exc:  # recorded; the test fails on it
        out.crashed = f"{type(exc).__name__}: {exc}"
        return out
    out.parsed = True
    if _norm(text) == _norm(case["text"]):
        out.met.append("text")
    else:
        out.missed.append(f"text: got {_short(text)}")
    return out


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def table(results: dict[str, list[Outcome]]) -> str:
    """The accuracy table: per source, parsed / refused / crashed and expectations met."""
    rows = [
        "| source | set | messages | parsed | refused | crashed | expectations met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    totals = {"dev": [0, 0, 0, 0, 0, 0], "held-out": [0, 0, 0, 0, 0, 0]}
    for source, outs in results.items():
        kind = "held-out" if source in HELD_OUT else "dev"
        met = sum(len(o.met) for o in outs)
        total = met + sum(len(o.missed) for o in outs)
        row = [
            len(outs),
            sum(o.parsed for o in outs),
            sum(bool(o.refused) for o in outs),
            sum(bool(o.crashed) for o in outs),
            met,
            total,
        ]
        totals[kind] = [a + b for a, b in zip(totals[kind], row, strict=True)]
        rows.append(_row(source, kind, row))
    for kind, row in totals.items():
        if row[0]:
            rows.append(_row("**all**", kind, row))
    return "\n".join(rows)


def _row(source: str, kind: str, row: list[int]) -> str:
    n, parsed, refused, crashed, met, total = row
    pct = f"{100 * met / total:.0f}%" if total else "n/a"
    return f"| {source} | {kind} | {n} | {parsed} | {refused} | {crashed} | {met}/{total} ({pct}) |"


def misses(results: dict[str, list[Outcome]]) -> list[str]:
    return [
        f"{o.source}/{o.name}: {m}"
        for outs in results.values()
        for o in outs
        for m in ([o.crashed] if o.crashed else o.missed)
    ]


__all__ = ["DATA", "DEV", "HELD_OUT", "Outcome", "evaluate", "misses", "sources", "table"]


def _selfcheck() -> None:  # pragma: no cover - used by hand
    res = {s: evaluate(s) for s in sources() if s not in HELD_OUT}
    print(table(res))
    print("\n".join(misses(res)))


if __name__ == "__main__":  # pragma: no cover
    _selfcheck()
