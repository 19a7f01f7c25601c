"""Durations as people write them in settings and on the command line: ``4h``, ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

from .domain._errors import ValidationError

__all__ = ["parse_duration"]

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """``"4h"``, ``"1h30m"``, ``"3d"``, ``"90s"`` as a timedelta."""
    text = text.strip()
    pos, seconds = 0, 0.0
    for m in _DURATION_RE.finditer(text):
        if text[pos : m.start()].strip():
            break
        seconds += float(m.group(1)) * _UNITS[m.group(2).lower()]
        pos = m.end()
    if pos == 0 or text[pos:].strip():
        raise ValidationError(f"cannot read duration {text!r}: write it like 4h, 1h30m, 3d or 90s")
    return timedelta(seconds=seconds)
