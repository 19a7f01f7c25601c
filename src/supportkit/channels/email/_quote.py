"""Finding the visible reply: quoted history and signatures stripped.

Heuristics that hold across mail clients and languages: a reply header
("On ... wrote:", "Am ... schrieb ...:", "... написал(а):", "Le ... a écrit :"),
an "Original Message" separator, an Outlook header block (``From:`` followed
by ``Sent:``/``Date:`` and ``To:``/``Subject:``), a trailing block of ``>``
lines, and the ``-- `` signature delimiter or a "Sent from my ..." footer.
When stripping would leave nothing (a bare forward), the full text is kept.
"""

from __future__ import annotations

import re

__all__ = ["visible_reply"]

_REPLY_HEADER = re.compile(
    r"""^\s*(?:
        (?:On|Am|Le|El|Il|Op|Em|Den|W\ dniu)\b.{0,200}?
            (?:wrote|schrieb|a\ écrit|escribió|ha\ scritto|schreef|escreveu|skrev|napisał)
            \b[^\n]{0,40}:\s*$
      | .{0,200}(?:написал|написала|написал\(а\)|пишет)\s*:?\s*$
      | -{2,}\s*(?:Original\ Message|Original-Nachricht|Ursprüngliche\ Nachricht|
            Исходное\ сообщение|Message\ d'origine|Forwarded\ message|Weitergeleitete\ Nachricht|
            Пересылаемое\ сообщение)\s*-{2,}\s*$
      | _{20,}\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_HEADER_LINE = re.compile(
    r"^\s*\*?(From|Von|От|De|Sent|Gesendet|Отправлено|Date|Datum|Дата|To|An|Кому|"
    r"Subject|Betreff|Тема|Cc|Envoyé|Objet|À)\s*:\*?",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"^\s*(Sent from my |Sent from Mail for |Get Outlook for |Von meinem .* gesendet|"
    r"Отправлено с |Envoyé de mon )",
    re.IGNORECASE,
)


def _outlook_block_at(lines: list[str], i: int) -> bool:
    if not re.match(r"^\s*\*?(From|Von|От|De)\s*:", lines[i], re.IGNORECASE):
        return False
    names = set()
    for line in lines[i + 1 : i + 6]:
        m = _HEADER_LINE.match(line)
        if m:
            names.add(m.group(1).lower())
    return len(names) >= 2


def visible_reply(text: str) -> str:
    """The part of *text* the sender wrote now, without quotes and signature."""
    lines = text.split("\n")
    quoted_tail = _quoted_tail_start(lines)
    cut = len(lines)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _REPLY_HEADER.match(line) or _outlook_block_at(lines, i):
            cut = i
            break
        if i >= quoted_tail:
            cut = i
            break
        if line in ("-- ", "--", "-- \r") or _FOOTER.match(line):
            cut = i
            break
        if i > 0 and _two_line_header(lines, i):
            cut = i
            break
    kept = lines[:cut]
    result = "\n".join(x.rstrip() for x in kept).strip("\n")
    if not result.strip():
        return text.strip("\n")
    return result


def _quoted_tail_start(lines: list[str]) -> int:
    """Index where the trailing run of quoted (``>``) and blank lines begins (one pass)."""
    start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith(">"):
            break
        start = i
    return start


def _two_line_header(lines: list[str], i: int) -> bool:
    """Gmail wraps long 'On <date>, <name> wrote:' headers over two lines."""
    if i + 1 >= len(lines):
        return False
    joined = lines[i].strip() + " " + lines[i + 1].strip()
    return bool(re.match(r"^(On|Am|Le)\b.*(wrote|schrieb|a écrit)\s*:\s*$", joined, re.IGNORECASE))
