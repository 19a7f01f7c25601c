"""Finding the visible reply: quoted history and signatures stripped.

Mechanisms that hold across mail clients and languages, in one pass over the lines:

- An *attribution* introduces quoted history: a reply header in one of many languages
  ("On ... wrote:", "Am ... schrieb ...:", "... написал(а):", "Op ... het volgende
  geschreven:"), possibly wrapped over up to three lines or framed by dashes, or any line
  that ends with a colon and names a time and an address (language-independent). When
  ``>`` lines follow it, the attribution and the quote block are dropped and the scan
  goes on: text below the quote (bottom-posting, a closing line after the quote) is part
  of the reply. When no ``>`` lines follow, the rest is the quoted message.
- A separator ("-----Original Message-----" and any other dash-framed title, a line of
  underscores), a header block of the quoted message (``From:``/``Date:``/``Sent:``...
  in many languages), a ``From:`` line with an address opening a paragraph, the ``-- ``
  signature delimiter or a "Sent from my ..." footer end the reply.
- A trailing run of ``>`` lines is quoted history even without an attribution.
- A forwarded message ("---------- Forwarded message ----------", "Begin forwarded
  message:") is content the sender chose to send, not history: it is kept whole.
- An attribution on the same line as the reply ("Thanks. On Mon, ... wrote:") is split
  off first, when quoted lines follow it.

When stripping would leave nothing, the full text is kept.
"""

from __future__ import annotations

import re

__all__ = ["visible_reply"]

_OPENER = r"(?:On|Am|Le|El|Il|Op|Em|Den|På|Dne|W\ dniu|Kl\.|\d{1,4})"
_WROTE = (
    r"(?:wrote|sent|schrieb|a\ écrit|escribió|ha\ scritto|schreef|geschreven|escreveu|skrev|"
    r"napisał|napsal|kirjoitti|írta|yazdı)"
)
_REPLY_HEADER = re.compile(
    r"""^\s*(?:-{2,}\s*)?(?:
        (?:On|Am|Le|El|Il|Op|Em|Den|På|Dne|W\ dniu)\b.{0,240}?"""
    + _WROTE
    + r"""\b[^\n]{0,40}(?::|\s*-{2,})\s*$
      | .{0,200}(?:написал|написала|написал\(а\)|пишет)\s*:?\s*$
      | -{2,}\s*(?:Original\ Message|Original-Nachricht|Ursprüngliche\ Nachricht|
            Исходное\ сообщение|Message\ d'origine)\s*-{2,}\s*$
      | _{20,}\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
#: the same without its colon ("On <date> <name> <address> wrote"): only with a time or address
_REPLY_HEADER_BARE = re.compile(
    r"^\s*(?:On|Am|Le|El|Il|Op|Em|Den|På|Dne|W\ dniu)\b.{0,240}?" + _WROTE + r"\s*$",
    re.IGNORECASE,
)
#: where an attribution in the middle of a line starts ("ok On Mon, ... wrote:")
_INLINE_OPENER = re.compile(r"(?:-{2,}\s*)?(?<![^\s-])(?:On|Am|Le|El|Il|Op|Den|På)\s", re.I)
#: "... wrote:" right above quoted lines, whatever precedes it ("Sent from X <a@b> wrote:")
_ENDS_WROTE = re.compile(r"\b" + _WROTE + r"\s*:\s*$", re.IGNORECASE)
#: a wrapped attribution starts like one
_ATTRIBUTION_START = re.compile(r"^\s*(?:-{2,}\s*)?" + _OPENER + r"[\s.,-]", re.IGNORECASE)
#: language-independent: "<date/time> <name> <address>:" (Gmail, Outlook, Thunderbird...)
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
_ADDRESS = re.compile(r"[^\s<>()\[\]]+@[^\s<>()\[\]]+\.[^\s<>()\[\]:]+")
#: any dash-framed title: "-----Original Message-----", "-----Reply Message-----", ...
_SEPARATOR = re.compile(r"^\s*-{3,}\s*[^\W\d_][^\n-]{0,48}?\s*-{3,}\s*$")
_FORWARD = re.compile(
    r"""^\s*(?:-{2,}\s*)?(?:Forwarded\ message|Begin\ forwarded\ message|Weitergeleitete\ Nachricht|
        Пересылаемое\ сообщение|Переадресованное\ сообщение|Message\ transféré|Mensaje\ reenviado|
        Messaggio\ inoltrato|Doorgestuurd\ bericht|Videresendt\ melding|Vidarebefordrat\ meddelande|
        Mensagem\ encaminhada|Przekazana\ wiadomość)\b[^\n]{0,40}$""",
    re.IGNORECASE | re.VERBOSE,
)
_HEADER_NAMES = (
    "From|Von|От|De|Da|Van|Fra|Från|Od|Lähettäjä|Sent|Gesendet|Отправлено|Envoyé|Enviado|"
    "Inviato|Verzonden|Sendt|Skickat|Wysłano|Date|Datum|Дата|Fecha|Data|To|An|Кому|À|A|Para|"
    "Aan|Til|Till|Do|Subject|Betreff|Тема|Objet|Asunto|Assunto|Oggetto|Onderwerp|Emne|Ämne|"
    "Temat|Sujet|Cc|Kopie|Copie|Копия"
)
_HEADER_LINE = re.compile(r"^\s*\*?(" + _HEADER_NAMES + r")\s*:\*?", re.IGNORECASE)
_BLOCK_START = re.compile(
    r"^\s*\*?(From|Von|От|De|Da|Van|Fra|Från|Od|Lähettäjä|Sent|Date|Datum|Дата|Fecha)\s*:",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*[^\W\d_][\w ]{0,24}?\s*:\s*\S")
#: a line of separator characters only ("====", "-----", "_____")
_RULE = re.compile(r"^\s*[-=_*~]{3,}\s*$")
_FROM_WITH_ADDRESS = re.compile(
    r"^\s*\*?(From|Von|От|De|Van|Fra|Från|Od)\s*:\*?\s*\S*@", re.IGNORECASE
)
#: "Sent from my iPhone", "Sent from TypeApp<url>", "Gesendet von Outlook für Android": a few
#: words and maybe a link, no sentence ("Sent from my desk, is much easier..." is text)
_FOOTER = re.compile(
    r"""^\s*(?:Sent\ from|Sent\ via|Get\ Outlook\ for|Gesendet\ von|Von\ meinem|Envoyé\ de|
        Envoyé\ depuis|Enviado\ desde|Enviado\ de|Inviato\ da|Verzonden\ vanaf|Verstuurd\ vanaf|
        Skickat\ från|Sendt\ fra|Wysłane\ z|Отправлено\ с|Отправлено\ из)
        \ [^\s,.;!?<]+(?:\ [^\s,.;!?<]+){0,5}\s*(?:<[^>\s]*>)?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def _blank(line: str) -> bool:
    return not line.strip()


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _header_block_at(lines: list[str], i: int) -> bool:
    """A quoted message's header block: a ``Name: value`` line starting it (From/Sent/Date,
    or any short label like "Message du :") and at least two known header names in it,
    one of them From/Sent/Date."""
    if not (_BLOCK_START.match(lines[i]) or _LABEL.match(lines[i])):
        return False
    if not any(_BLOCK_START.match(x) for x in lines[i : i + 6]):
        return False
    names = set()
    for line in lines[i : i + 6]:
        m = _HEADER_LINE.match(line)
        if m:
            names.add(m.group(1).lower())
    return len(names) >= 2


def _generic_attribution(text: str) -> bool:
    """A line naming a time and an address and ending with a colon, in any language."""
    stripped = text.rstrip()
    return (
        len(stripped) <= 400
        and stripped.endswith(":")
        and bool(_TIME.search(stripped))
        and bool(_ADDRESS.search(stripped))
    )


def _attribution_span(lines: list[str], i: int) -> int:
    """How many lines from *i* form an attribution (0: none); wrapped over up to 3 lines."""
    line = lines[i]
    if len(line) > 1000:
        return 0
    if _REPLY_HEADER.match(line) or _generic_attribution(line):
        return 1
    if _REPLY_HEADER_BARE.match(line) and (_TIME.search(line) or _ADDRESS.search(line)):
        return 1
    if not (_ATTRIBUTION_START.match(line) or _TIME.search(line)):
        return 0  # a wrapped attribution starts like one, or names the time
    joined = line.strip()
    for extra in (1, 2):
        if i + extra >= len(lines) or _blank(lines[i + extra]) or len(lines[i + extra]) > 1000:
            return 0
        joined += " " + lines[i + extra].strip()
        if _REPLY_HEADER.match(joined) or _generic_attribution(joined):
            return extra + 1
    return 0


def _quote_block_end(lines: list[str], k: int) -> int:
    """First line after the quote block starting at *k*: ``>`` lines, blank lines, and the
    pieces of a link that the sender's client wrapped out of a quoted line."""
    n = len(lines)
    while k < n:
        line = lines[k]
        if _blank(line) or _quoted(line):
            k += 1
            continue
        prev = lines[k - 1]
        nxt = _next_content(lines, k + 1)
        if _quoted(prev) and (
            (prev.count("(") > prev.count(")") and ")" in line)
            or (prev.count("<") > prev.count(">") and ">" in line)
            or (line.rstrip().endswith(">") and nxt < n and _quoted(lines[nxt]))
        ):
            k += 1
            continue
        break
    return k


def _next_content(lines: list[str], j: int) -> int:
    while j < len(lines) and _blank(lines[j]):
        j += 1
    return j


def _split_inline_attributions(lines: list[str]) -> list[str]:
    """Split "reply text On <date>, <name> wrote:" when quoted lines follow it.

    The verb at the line's end is found first, then the opener at most 240 characters
    before it: linear in the line's length.
    """
    out: list[str] = []
    for i, line in enumerate(lines):
        plain = 0 < len(line) <= 4000 and ":" in line and not _quoted(line)
        end = _ENDS_WROTE.search(line) if plain else None
        if end is not None:
            k = _next_content(lines, i + 1)
            if k < len(lines) and _quoted(lines[k]):
                for m in _INLINE_OPENER.finditer(line, max(0, end.start() - 240), end.start()):
                    if m.start() > 0 and line[: m.start()].strip():
                        out.append(line[: m.start()].rstrip(" -"))
                        out.append(line[m.start() :])
                        break
                else:
                    out.append(line)
                continue
        out.append(line)
    return out


def visible_reply(text: str) -> str:
    """The part of *text* the sender wrote now, without quotes and signature."""
    lines = _split_inline_attributions(text.split("\n"))
    quoted_tail = _quoted_tail_start(lines)
    kept: list[str] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if _blank(line):
            kept.append(line)
            i += 1
            continue
        if _FORWARD.match(line):
            kept.extend(lines[i:])
            break
        span = _attribution_span(lines, i)
        k = _next_content(lines, i + max(span, 1))
        before_quote = k < n and _quoted(lines[k])
        if not span and before_quote and len(line) <= 1000 and _ENDS_WROTE.search(line):
            span = 1
        if span:
            if before_quote:
                i = _quote_block_end(lines, k)  # attribution and quote dropped; reply goes on
                continue
            break
        if i >= quoted_tail:
            break
        if (
            _SEPARATOR.match(line)
            or _header_block_at(lines, i)
            or (_FROM_WITH_ADDRESS.match(line) and i > 0 and _blank(lines[i - 1]))
            or line.rstrip("\r") in ("-- ", "--")
            or _FOOTER.match(line)
        ):
            break
        kept.append(line)
        i += 1
    while kept and (_blank(kept[-1]) or _RULE.match(kept[-1])):
        kept.pop()  # a rule drawn above the quoted message is part of the separator
    result = "\n".join(x.rstrip() for x in kept).strip("\n")
    if not result.strip():
        return text.strip("\n")
    return result


def _quoted_tail_start(lines: list[str]) -> int:
    """Index where the trailing run of quoted (``>``) and blank lines begins (one pass)."""
    start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        if not _blank(lines[i]) and not _quoted(lines[i]):
            break
        start = i
    return start
