"""``docs/semantics.md`` cannot rot: every implementation it names imports, every parity test it
names exists, and every rule names two implementations and a parity test."""

from __future__ import annotations

import ast
import importlib
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "semantics.md"

#: ``xinyong.module.path:Name.attribute`` in backquotes.
IMPLEMENTATION = re.compile(r"`(xinyong(?:\.\w+)+):(\w+(?:\.\w+)*)`")
#: ``tests/….py::test_name`` in backquotes.
TEST_NODE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[[^\]`]*\])?`")


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _rules() -> dict[str, str]:
    """Each rule's heading and text: the ``### `` sections under ``## Rules``."""
    body = _text().split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    sections = re.split(r"^### ", body, flags=re.MULTILINE)[1:]
    return {s.splitlines()[0]: s for s in sections}


@cache
def _test_names(path: str) -> frozenset[str]:
    """The test functions a test file defines (module level or in classes)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    )


def test_the_page_lists_rules() -> None:
    assert len(_rules()) >= 8


@pytest.mark.parametrize("heading", sorted(_rules()))
def test_every_rule_names_two_implementations_and_a_parity_test(heading: str) -> None:
    section = _rules()[heading]
    implementations = set(IMPLEMENTATION.findall(section))
    assert len(implementations) >= 2, heading
    assert TEST_NODE.search(section), f"{heading}: no parity test"


_IMPLEMENTATIONS = sorted(set(IMPLEMENTATION.findall(_text())))


@pytest.mark.parametrize(
    ("module", "name"), _IMPLEMENTATIONS, ids=[f"{m}:{n}" for m, n in _IMPLEMENTATIONS]
)
def test_every_named_implementation_exists(module: str, name: str) -> None:
    found: object = importlib.import_module(module)
    for part in name.split("."):
        assert hasattr(found, part), f"{module}:{name}"
        found = getattr(found, part)


def test_every_named_test_exists() -> None:
    nodes = sorted(set(TEST_NODE.findall(_text())))
    assert len(nodes) >= 20
    missing = [
        f"{path}::{name}"
        for path, name in nodes
        if not (ROOT / path).is_file() or name not in _test_names(path)
    ]
    assert not missing, missing


def test_a_missing_name_would_be_caught(tmp_path: Path) -> None:
    """The patterns read what the page writes (so the checks above are about something)."""
    line = "- `xinyong.lists.rules:entries_for` and `tests/lists/test_bulk.py::test_nothing[x]`"
    assert IMPLEMENTATION.findall(line) == [("xinyong.lists.rules", "entries_for")]
    assert TEST_NODE.findall(line) == [("tests/lists/test_bulk.py", "test_nothing")]
    assert "test_nothing" not in _test_names("tests/lists/test_bulk.py")
