"""The message body: a text part's characters, and which parts make the body.

``_part_text`` decodes one text part (charset repair by ``_charset``, ``format=flowed``).
``select_body`` turns the collected text and HTML parts into ``full_text`` (the plain
text, or the HTML flattened when the mail is HTML-only, or a forwarded message's text
when nothing else is there), ``html`` (sanitised) and ``text`` (the visible reply).
"""

from __future__ import annotations

import email.message
from collections.abc import Sequence

from ._charset import decode_bytes
from ._html import html_to_text, sanitise_html
from ._parts import _content_type, _payload_bytes
from ._quote import visible_reply


def _part_text(part: email.message.Message, notes: list[str]) -> str:
    data = _payload_bytes(part)
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text, note = decode_bytes(data, charset)
    if note:
        notes.append(note)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fmt = str(part.get_param("format") or "").lower() if part.get("Content-Type") else ""
    if fmt == "flowed" and _content_type(part) == "text/plain":
        delsp = str(part.get_param("delsp") or "").lower() == "yes"
        text = _unflow(text, delsp)
    return text


def _unflow(text: str, delsp: bool) -> str:
    out: list[str] = []
    buf = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]
        if line.endswith(" ") and line != "-- ":
            buf += line[:-1] if delsp else line
        else:
            out.append(buf + line)
            buf = ""
    if buf:
        out.append(buf)
    return "\n".join(out)


def select_body(
    plain: Sequence[str],
    html_parts: Sequence[str],
    forwarded_text: Sequence[str],
    max_text_chars: int,
    notes: list[str],
) -> tuple[str, str | None, str]:
    """``(full_text, html, text)`` from the body parts found by the MIME walk."""
    html_src = "\n".join(h for h in html_parts if h.strip())
    html = sanitise_html(html_src) if html_src else None
    if plain and any(p.strip() for p in plain):
        full_text = "\n".join(plain)
    elif html_src:
        full_text = html_to_text(html_src)
    else:
        full_text = "\n".join(plain)
    if not full_text.strip() and forwarded_text:
        full_text = "\n\n".join(forwarded_text)
    if len(full_text) > max_text_chars:
        notes.append(f"text cut at {max_text_chars} characters")
        full_text = full_text[:max_text_chars]
    full_text = full_text.replace("\x00", "")
    return full_text, html, visible_reply(full_text)
