"""Dependency directions as docs/concepts.md draws them, checked on the source's imports.

Every import counts: module level, inside functions, and under
``TYPE_CHECKING`` (a type-only import is still a dependency a reader follows).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import supportkit

SRC = Path(supportkit.__file__).parent


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_pkg)
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    path, is_pkg = MODULES[name]
    package = name if is_pkg else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("supportkit"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("supportkit"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in MODULES else target)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "supportkit"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_walk_sees_the_package() -> None:
    assert "supportkit.ports._storage" in GRAPH["supportkit.ports"]
    assert "supportkit._context" in GRAPH["supportkit._desk_core"]


def test_the_cycle_finder_finds_a_circle_and_only_the_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back_through_others() -> None:
    assert _cycles(GRAPH) == []


#: what each layer may import besides itself (docs/concepts.md)
ALLOWED = {
    "domain": {"_fields"},
    "policies": {"domain", "_fields"},
    "ports": {"domain"},
    "storage": {"ports", "domain", "_convert"},
    "typing": {"ports", "domain", "policies", "_signals"},
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_import_nothing_above_them(layer: str) -> None:
    wrong = {
        (m, d)
        for m, deps in GRAPH.items()
        if _layer(m) == layer
        for d in deps
        if _layer(d) not in {layer, *ALLOWED[layer]}
    }
    assert not wrong, f"{layer} imports above itself: {sorted(wrong)}"


def test_only_the_desk_core_uses_the_private_context() -> None:
    users = {m for m, deps in GRAPH.items() if "supportkit._context" in deps}
    core = {
        m
        for m in users
        if _layer(m).startswith("_desk") or m in ("supportkit.desk", "supportkit._batch")
    }
    assert users == core, "use supportkit.typing.DeskContext outside the desk core"


@pytest.mark.parametrize("package", ["storage", "knowledge", "channels", "extensions", "metrics"])
def test_no_package_reaches_into_the_private_modules_of_an_adapter_package(package: str) -> None:
    wrong = {
        (m, d)
        for m, deps in GRAPH.items()
        for d in deps
        if _layer(d) == package
        and _layer(m) != package
        and any(part.startswith("_") for part in d.split(".")[2:])
    }
    assert not wrong, f"private modules of supportkit.{package} imported from outside: {wrong}"
