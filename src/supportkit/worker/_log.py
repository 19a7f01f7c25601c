"""One JSON line per action: what the worker did, to which ticket, how long it took.

Lines carry ticket numbers, stored ids, timer kinds, counts and durations,
never a customer's address, name, subject or text, nor a password.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["ActionLog", "JsonFormatter", "log_to"]

LOGGER = "supportkit.worker"


class JsonFormatter(logging.Formatter):
    """Formats every record as one JSON object: ``ts``, ``level``, ``logger``, then either
    the worker's action fields or ``message`` (and ``error`` for an exception)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "action", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line["error"] = f"{type(exc).__name__}: {exc}"
            line["traceback"] = "".join(traceback.format_exception(exc)).rstrip()
        return json.dumps(line, ensure_ascii=False, default=str)


def log_to(stream: TextIO | None = None, level: str = "info") -> logging.Handler:
    """Send supportkit's logs (the worker's actions and the library's warnings) to *stream*
    (default: stderr) as JSON lines; returns the handler (remove it to stop)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("supportkit")
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    return handler


class ActionLog:
    """Writes the worker's action lines; *worker* names this process in each."""

    def __init__(self, worker: str, logger: logging.Logger | None = None) -> None:
        self.worker = worker
        self.logger = logger or logging.getLogger(LOGGER)

    def action(
        self,
        loop: str,
        what: str,
        *,
        seconds: float | None = None,
        ticket: int | None = None,
        level: int = logging.INFO,
        **fields: Any,
    ) -> None:
        line: dict[str, Any] = {"worker": self.worker, "loop": loop, "action": what}
        if ticket is not None:
            line["ticket"] = ticket
        if seconds is not None:
            line["ms"] = round(seconds * 1000, 3)
        line.update({k: v for k, v in fields.items() if v is not None})
        self.logger.log(level, what, extra={"action": line})

    def failed(self, loop: str, what: str, seconds: float | None = None, **fields: Any) -> None:
        """The action failed: logged at error level with the exception being handled."""
        line: dict[str, Any] = {"worker": self.worker, "loop": loop, "action": what}
        if seconds is not None:
            line["ms"] = round(seconds * 1000, 3)
        line.update({k: v for k, v in fields.items() if v is not None})
        self.logger.error(what, exc_info=True, extra={"action": line})
