"""Broker URLs: supportkit's own query parameters split from the client's."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..domain._errors import ConfigurationError

__all__ = ["split_url"]


def split_url(url: str, ours: dict[str, str]) -> tuple[str, dict[str, str]]:
    """*url* without the query parameters named in *ours*, and their values (defaults: *ours*).

    The rest of the URL, other parameters included, goes to the broker's client as is.
    """
    parts = urlsplit(url)
    kept: list[tuple[str, str]] = []
    values = dict(ours)
    seen: set[str] = set()
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in ours:
            if name in seen:
                raise ConfigurationError(f"the broker URL gives {name!r} twice; give it once")
            seen.add(name)
            values[name] = value
        else:
            kept.append((name, value))
    rest = urlunsplit(parts._replace(query=urlencode(kept)))
    return rest, values
