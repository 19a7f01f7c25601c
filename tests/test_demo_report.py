"""The demo's printed figures are the figures `supportkit report` prints on the demo's database.

`make demo` computes its metrics by streaming the stored tickets
(`compute_metrics`) with the SLA outcomes of its own `SlaExtension`;
`supportkit report` (run as a real subprocess, in the directory the demo
wrote its database to, with no options but the grouping) pushes the work
into SQLite and reads the desk's stored SLA clocks. Both must print the
same table, and the HTML page the same SLA figures.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from supportkit.demo import DEMO_DB, run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    where = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    run_demo(where / DEMO_DB, out=out)
    block = out.getvalue().split("== The day's metrics ==", 1)[1].split("\n== ", 1)[0]
    lines = [line[2:] if line.startswith("  ") else line for line in block.strip("\n").splitlines()]
    return where, lines


def _report(where: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "supportkit", "report", *args],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_demo_prints_what_supportkit_report_prints_on_its_database(
    demo: tuple[Path, list[str]],
) -> None:
    where, lines = demo
    complaints = [line for line in lines if line.startswith("complaints:")]
    demo_lines = [line for line in lines if line not in complaints][: -1 if complaints else None]
    printed = _report(where, "--group-by", "channel").splitlines()
    assert printed[: len(demo_lines)] == demo_lines
    assert complaints
    assert complaints[0] in printed
    sla = next(line for line in demo_lines if line.startswith("SLA compliance: "))
    assert re.search(r"first_response \d+\.\d% \(\d+/\d+\)", sla)


def test_the_html_page_shows_the_same_sla_figures_as_the_table(
    demo: tuple[Path, list[str]],
) -> None:
    where, demo_lines = demo
    sla = next(line for line in demo_lines if line.startswith("SLA compliance: "))
    page = _report(where, "--format", "html")
    for target, pct, met, total in re.findall(r"(\w+) (\d+\.\d)% \((\d+)/(\d+)\)", sla):
        card = re.search(
            rf'<div class="label">SLA {target.replace("_", " ")}</div>'
            r'<div class="value">([^<]+)</div><div class="note">(\d+) of (\d+) met',
            page,
        )
        assert card is not None, target
        assert card.groups() == (f"{pct}%", met, total)
