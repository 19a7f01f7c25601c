"""Every ```python block in README.md and docs/*.md runs, in order, per file.

Blocks of one file share a namespace (like a reader following along) and run
in a temporary working directory, so files they create never land in the repo.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def test_every_doc_has_been_found() -> None:
    assert (ROOT / "docs" / "lifecycle.md") in DOCS


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_code_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = _blocks(path)
    if not blocks:
        pytest.skip(f"{path.name} has no python code blocks")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for i, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{path.name}[block {i}]", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{path.name}, code block {i} failed: {exc!r}\n{code}") from exc


def test_lifecycle_doc_shows_the_current_diagram() -> None:
    from supportkit import default_lifecycle

    text = (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    assert default_lifecycle().to_mermaid() in text, "regenerate the diagram in docs/lifecycle.md"


def test_readme_shows_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^make demo$", text, re.MULTILINE)
    assert re.search(r"^make test$", text, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
