"""Broker URLs: supportkit's own query parameters split from the client's."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..domain._errors import ConfigurationError

__all__ = ["client_library", "positive", "split_url"]


def client_library(module: str, extra: str, what: str) -> Any:
    """The broker's client library, or ConfigurationError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - the extras are in dev
        raise ConfigurationError(
            f"the {what} relay needs {module}: pip install 'supportkit[{extra}]'"
        ) from exc


def positive(values: dict[str, str], name: str, shown_url: str) -> float:
    """The query parameter *name* as a positive number, else ConfigurationError."""
    try:
        value = float(values[name])
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ConfigurationError(
            f"{name} must be a positive number in {shown_url}, got {values[name]!r}"
        )
    return value


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
