"""The progress bar of ``supportkit import``: rich's when installed, a plain line otherwise."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TextIO

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(stream: TextIO, *, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``progress(done, total)`` callback drawing on *stream*.

    On a terminal: rich's bar with rate and time left (``pip install
    'supportkit[import]'``), else one line redrawn in place. Not on a terminal
    (a log, a pipe): a line at every tenth of the way. *enabled* False draws nothing.
    """
    if not enabled:
        yield lambda done, total: None
        return
    tty = stream.isatty()
    if tty:
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )
        except ImportError:
            pass
        else:
            columns = (
                TextColumn("importing tickets"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=Console(file=stream)) as bar:
                task = bar.add_task("import", total=None)

                def rich_progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                yield rich_progress
            return
    started = time.monotonic()
    shown = [-1]

    def plain(done: int, total: int) -> None:
        step = done * 10 // total if total else 10
        if not tty and step == shown[0]:
            return
        shown[0] = step
        rate = done / max(time.monotonic() - started, 1e-9)
        line = f"importing tickets: {done}/{total} ({rate:,.0f}/s)"
        stream.write(f"\r{line}" if tty else f"{line}\n")
        stream.flush()

    yield plain
    if tty and shown[0] >= 0:
        stream.write("\n")
