"""Adding a section (complaints, topics) to a rendered report, in every format."""

from __future__ import annotations

import html
import json
from typing import Any

__all__ = ["add_section"]


def add_section(text: str, fmt: str, *, key: str, title: str, data: Any, plain: str) -> str:
    """*text* rendered as *fmt* with one more section: ``data`` under *key* in JSON, a
    titled block at the end of the page's ``<main>`` in HTML, *plain* after a table; CSV stays one table."""
    if fmt == "json":
        report = json.loads(text)
        report[key] = data
        return json.dumps(report, indent=2) + "\n"
    if fmt == "html":
        section = (
            f"<section id='{key}'><h2>{html.escape(title)}</h2>"
            f"<pre>{html.escape(plain)}</pre></section>"
        )
        for end in ("</main>", "</body>"):  # inside the page's column when it has one
            if end in text:
                return text.replace(end, section + end, 1)
        return text + section
    if fmt == "csv":
        return text
    return text.rstrip("\n") + "\n\n" + plain + "\n"
