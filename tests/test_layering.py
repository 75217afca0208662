"""Layering you can see: no import cycle among xinyong's top-level parts (``xinyong.<part>``).

Every import counts: at module level, inside functions, under ``TYPE_CHECKING``, and through
``importlib.import_module("xinyong.…")``; a cycle anywhere means the parts cannot be read (or
loaded) one below the other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "xinyong"

#: (importing part, imported part, where) for every import of one part by another.
Edge = tuple[str, str, str]


def _part(module: str) -> str | None:
    bits = module.split(".")
    return bits[1] if len(bits) > 1 and bits[0] == "xinyong" else None


def _targets(node: ast.AST, package: list[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = package[: len(package) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        return [module] + [f"{module}.{alias.name}" for alias in node.names]
    if isinstance(node, ast.Call):
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name in ("import_module", "__import__"):
            return [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
    return []


def edges(root: Path = PACKAGE) -> Iterator[Edge]:
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        me = _part(".".join(parts))
        if me is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            others = {_part(target) for target in _targets(node, parts[:-1])} - {None, me}
            for other in sorted(o for o in others if o is not None):
                yield me, other, f"{path.relative_to(root.parent)}:{node.lineno}"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _graph(found: list[Edge]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for a, b, _ in found:
        graph.setdefault(a, set()).add(b)
    return graph


def test_no_cycle_among_top_level_parts() -> None:
    found = list(edges())
    assert len(_graph(found)) > 15  # the walk sees the package
    loops = cycles(_graph(found))
    where = [f"{a} → {b} at {at}" for a, b, at in found if any({a, b} <= set(c) for c in loops)]
    assert loops == [], "\n".join(where)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
        (
            {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}},
            [["a", "b", "c"], ["d", "e"]],
        ),
    ],
)
def test_the_cycle_finder_finds_cycles(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert sorted(cycles(graph)) == expected


def test_the_walk_counts_every_kind_of_import(tmp_path: Path) -> None:
    package = tmp_path / "xinyong"
    (package / "lists").mkdir(parents=True)
    (package / "lists" / "__init__.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import importlib\n"
        "if TYPE_CHECKING:\n    from xinyong.pipeline import Change\n"
        "def later():\n    from ..feed import events\n"
        "    return importlib.import_module('xinyong.score')\n",
        encoding="utf-8",
    )
    assert {b for _, b, _ in edges(package)} == {"pipeline", "feed", "score"}


def test_api_and_web_meet_only_where_the_portal_is_mounted() -> None:
    between = [(a, b, at) for a, b, at in edges() if {a, b} == {"api", "web"}]
    assert [(a, b) for a, b, _ in between] == [("api", "web")]
    assert between[0][2].startswith("xinyong/api/app.py:")
