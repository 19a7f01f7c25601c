"""The import's progress bar: rich's on a terminal, plain lines in a log."""

from __future__ import annotations

import io

from supportkit.importers._progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_log_a_line_at_every_tenth_of_the_way() -> None:
    log = io.StringIO()
    with progress_bar(log) as progress:
        for done in range(0, 1001, 50):
            progress(done, 1000)
    lines = log.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        f"importing tickets: {n}/1000" for n in range(0, 1001, 100)
    ]


def test_on_a_terminal_the_bar_is_drawn_and_counts_the_tickets() -> None:
    screen = Terminal()
    with progress_bar(screen) as progress:
        progress(250, 1000)
        progress(1000, 1000)
    assert "1000/1000" in screen.getvalue()


def test_no_progress_draws_nothing() -> None:
    log = io.StringIO()
    with progress_bar(log, enabled=False) as progress:
        progress(5, 10)
    assert log.getvalue() == ""
