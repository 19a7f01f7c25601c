"""What no storage can keep, refused at the edge: lone surrogates, runaway nesting.

JSON allows ``"\\ud800"`` (a lone UTF-16 surrogate), which decodes to a
Python str that UTF-8 cannot encode, so it would fail later, deep in a
storage driver. Nesting is capped so no later step (copying, converting,
serialising) can exhaust the stack. The check is iterative.
"""

from __future__ import annotations

import json
from typing import Any

from ..domain._errors import MalformedMessage

__all__ = ["MAX_JSON_DEPTH", "check_json_values", "loads_guarded"]

MAX_JSON_DEPTH = 32


def check_json_values(data: Any, what: str = "the payload") -> None:
    """Raise MalformedMessage if *data* holds a lone surrogate or nests past MAX_JSON_DEPTH."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedMessage(
                    f"{what} holds a lone surrogate (an unpaired \\ud800-\\udfff escape); "
                    "send valid UTF-16 pairs or UTF-8"
                ) from None
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise MalformedMessage(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(value, dict):
                for key, item in value.items():
                    stack.append((key, depth + 1))
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)


def loads_guarded(text: str | bytes, what: str = "the payload") -> Any:
    """``json.loads`` that raises only MalformedMessage, then :func:`check_json_values`."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise MalformedMessage(f"{what} nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a 5000-digit number
        raise MalformedMessage(f"{what} is not valid UTF-8 JSON: {exc}") from None
    check_json_values(data, what)
    return data
