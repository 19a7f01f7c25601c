"""HTML from mail: sanitised for display (nh3), flattened to text for the desk.

Sanitising uses nh3 (the Rust ``ammonia`` sanitizer): scripts, event
handlers, ``javascript:`` URLs and styles go; links get
``rel="nofollow noreferrer noopener"``; inline images may keep ``cid:``
sources so a host can rewrite them to its attachment URLs.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from ._html_shape import balanced_html

__all__ = ["html_to_text", "sanitise_html"]

_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "ftp"}


def sanitise_html(html: str) -> str:
    """Return *html* safe to show in an agent's browser (reshaped first: linear time)."""
    html = balanced_html(html)
    try:
        return nh3.clean(
            html,
            url_schemes=_URL_SCHEMES,
            link_rel="nofollow noreferrer noopener",
            strip_comments=True,
        )
    except Exception:  # pragma: no cover - nh3 refuses nothing we know of
        return nh3.clean_text(html)


_BLOCK = {
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
    "tbody", "thead", "tfoot", "tr", "ul",
}  # fmt: skip
_SKIP = {"script", "style", "head", "title", "template", "noscript"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.quote_depth = 0

    def _break(self) -> None:
        line = "".join(self.current)
        if self.pre_depth == 0:
            line = re.sub(r"[ \t\u00a0]+", " ", line).strip()
        prefix = "> " * self.quote_depth
        self.lines.append(prefix + line if line else (prefix.rstrip() if prefix else ""))
        self.current = []

    def _blank(self) -> None:
        if self.current and "".join(self.current).strip():
            self._break()
        if self.lines and self.lines[-1].strip(" >"):
            self.lines.append("> " * self.quote_depth if self.quote_depth else "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if tag == "br":
            self._break()
        elif tag == "blockquote":
            self._blank()
            self.quote_depth += 1
        elif tag in {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}:
            self._blank()
        elif tag in _BLOCK:
            if self.current and "".join(self.current).strip():
                self._break()
            if tag == "li":
                self.current.append("- ")
        elif tag in {"td", "th"} and self.current:
            self.current.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")
        if tag == "pre":
            self.pre_depth += 1
        if tag == "hr":
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in {"br", "img", "hr"}:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag == "blockquote":
            self._blank()
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag in {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}:
            self._blank()
        elif tag in _BLOCK and self.current and "".join(self.current).strip():
            self._break()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            parts = data.split("\n")
            for part in parts[:-1]:
                self.current.append(part)
                self._break()
            self.current.append(parts[-1])
        else:
            self.current.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        if self.current:
            self._break()
        text = "\n".join(line.rstrip() for line in self.lines)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip("\n ")


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body; blockquotes become ``> `` lines."""
    parser = _TextExtractor()
    try:
        parser.feed(balanced_html(html))
        parser.close()
    except Exception:  # pragma: no cover - HTMLParser is lenient; belt and braces
        return re.sub(r"<[^>]*>", " ", html)
    return parser.text()
