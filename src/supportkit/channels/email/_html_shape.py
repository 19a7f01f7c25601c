"""Reshape hostile HTML in one linear pass before any tree builder sees it.

HTML tree builders check scopes on the stack of open elements and rebuild
misnested formatting, so their time grows with depth times size (1.1 MB
of nested ``<div>`` took nh3 14 s), and the standard library's
``HTMLParser`` rescans its buffer at every unterminated tag (quadratic on
``<a title="`` repeated). :func:`balanced_html` emits only properly nested
tags, at most ``max_depth`` deep (deeper elements are unwrapped, their text
kept); it drops comments, declarations and stray end tags, and escapes a
``<`` that starts no tag. What it returns is safe to hand to either.
"""

from __future__ import annotations

import re

__all__ = ["MAX_HTML_DEPTH", "balanced_html"]

#: elements nested deeper than this are unwrapped (their text kept)
MAX_HTML_DEPTH = 64

# [^<>] cannot cross the next "<", so matching at every "<" stays linear overall
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]{0,40})(?=[\s/>])([^<>]{0,4000})>")
_DECLARATION = re.compile(r"<[!?][^<>]*>")
_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()  # noqa: SIM905
)
# a start tag of these closes an open one of the same name (``<p>a<p>b``, ``<li>``), looking
# down through phrasing elements only (a nested list's ``<li>`` closes nothing outside it)
_IMPLIED_END = frozenset("p li td th tr dt dd option".split())  # noqa: SIM905
_PHRASING = frozenset(
    "a abbr b big cite code em font i kbd label nobr p q s samp small span strike strong "  # noqa: SIM905
    "sub sup tt u var".split()
)


def _open_index(stack: list[tuple[str, bool]], name: str, closing: bool) -> int:
    """Index of the open *name* this tag closes, or -1: an end tag looks 256 deep, an
    implied end only through phrasing elements."""
    for back in range(len(stack) - 1, max(-1, len(stack) - 257), -1):
        if stack[back][0] == name:
            return back
        if not closing and stack[back][0] not in _PHRASING:
            return -1
    return -1


class _Builder:
    def __init__(self, max_depth: int) -> None:
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, emitted)
        self.kept = 0
        self.max_depth = max_depth

    def text(self, chunk: str) -> None:
        self.out.append(chunk.replace("<", "&lt;"))

    def close_from(self, at: int) -> None:
        for name, emitted in reversed(self.stack[at:]):
            if emitted:
                self.out.append(f"</{name}>")
                self.kept -= 1
        del self.stack[at:]

    def tag(self, whole: str, closing: bool, name: str, rest: str) -> None:
        if name in _VOID or (rest.endswith("/") and not closing):
            if self.kept < self.max_depth and not closing:
                self.out.append(whole)
            return
        if closing or name in _IMPLIED_END:
            at = _open_index(self.stack, name, closing)
            if at >= 0:
                self.close_from(at)
            if closing:
                return
        keep = self.kept < self.max_depth
        self.stack.append((name, keep))
        self.kept += keep
        if keep:
            self.out.append(whole)


def balanced_html(html: str, max_depth: int = MAX_HTML_DEPTH) -> str:
    """*html* with properly nested tags at most *max_depth* deep; linear in its size."""
    b = _Builder(max_depth)
    pos = 0
    size = len(html)
    while pos < size:
        lt = html.find("<", pos)
        if lt < 0:
            b.text(html[pos:])
            break
        if lt > pos:
            b.text(html[pos:lt])
        if html.startswith("<!--", lt):
            end = html.find("-->", lt + 4)
            pos = size if end < 0 else end + 3  # comments go (an open one runs to the end)
            continue
        m = _TAG.match(html, lt)
        if m is not None:
            b.tag(m.group(0), bool(m.group(1)), m.group(2).lower(), m.group(3))
            pos = m.end()
            continue
        d = _DECLARATION.match(html, lt)
        if d is not None:
            pos = d.end()
            continue
        b.text("<")
        pos = lt + 1
    b.close_from(0)
    return "".join(b.out)
