"""How deep a raw message's MIME structure nests, measured in one linear pass.

The standard library parses nested multiparts recursively (a message
nested 1,000 deep raises ``RecursionError``) and compares every line with
every open boundary (time grows with depth times size). :func:`mime_depth`
reads the raw bytes once: ``Content-Type: multipart/...; boundary=...``
headers open a level, ``--boundary`` lines close the levels opened inside
it. The parser refuses a message deeper than :data:`MAX_MIME_DEPTH` with a
clear error before the stdlib sees it.
"""

from __future__ import annotations

import re

__all__ = ["MAX_MIME_DEPTH", "mime_depth"]

#: real mail nests a handful of levels; forwarded chains a few dozen at most
MAX_MIME_DEPTH = 100

_CONTENT_TYPE = re.compile(rb"(?im)^content-type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")
_MULTIPART = re.compile(rb"(?i)multipart/")
_BOUNDARY = re.compile(rb'(?i)boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))')
_DELIMITER = re.compile(rb"(?m)^--([^\r\n]{1,204})")


def mime_depth(raw: bytes) -> int:
    """The deepest nesting of multipart levels in *raw* (0 for a single-part message)."""
    # (position, 0 open | 1 delimiter | 2 close delimiter, boundary)
    events: list[tuple[int, int, bytes]] = []
    declared: set[bytes] = set()
    for m in _CONTENT_TYPE.finditer(raw):
        header = m.group(0)
        if not _MULTIPART.search(header):
            continue
        b = _BOUNDARY.search(header)
        if b is None:
            continue
        boundary = (b.group(1) or b.group(2)).strip()
        declared.add(boundary)
        events.append((m.start(), 0, boundary))
    if not declared:
        return 0
    for m in _DELIMITER.finditer(raw):
        text = m.group(1).rstrip()
        if text.endswith(b"--") and text[:-2] in declared:
            events.append((m.start(), 2, text[:-2]))
        elif text in declared:
            events.append((m.start(), 1, text))
    events.sort()
    stack: list[bytes] = []
    where: dict[bytes, int] = {}  # boundary -> its index in the stack
    deepest = 0
    for _, kind, boundary in events:
        if kind == 0:
            where[boundary] = len(stack)
            stack.append(boundary)
            deepest = max(deepest, len(stack))
            continue
        at = where.get(boundary)
        if at is None or at >= len(stack) or stack[at] != boundary:
            continue
        cut = at if kind == 2 else at + 1
        for inner in stack[cut:]:
            where.pop(inner, None)
        del stack[cut:]
    return deepest
