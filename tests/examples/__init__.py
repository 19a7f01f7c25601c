"""Tests of the reference integrations in examples/."""

import importlib.util
from pathlib import Path
from types import ModuleType


def load_example(path: Path, name: str) -> ModuleType:
    """A fresh module from an example's file (examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
