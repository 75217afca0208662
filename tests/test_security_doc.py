"""``docs/security.md``'s "Audit of every read" table cannot rot: every face that reads a
subject's file is in it, and every test it names exists (issue 16: CLI, portal and API reads
appear in the subject's "who looked")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"

#: Every face that reads a subject's non-public file or decides about it.
FACES = (
    "`xinyong check`",
    "`xinyong screen`",
    "`xinyong batch screen`",
    "`xinyong subject show`",
    "`xinyong report --as subject\\|agency`",
    "`xinyong score`",
    "`GET /api/v1/check`",
    "`POST /api/v1/screen`",
    "`/agency/check`",
    "`/agency/screen`",
    "`/me`",
)
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def _rows() -> list[list[str]]:
    """The table's rows (face, what, where, test), header and rule left out."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## Audit of every read\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    rows = [re.split(r"(?<!\\)\|", line.strip().strip("|")) for line in lines[2:]]
    return [[cell.strip() for cell in row] for row in rows]


def _defined(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("face", FACES)
def test_every_face_that_reads_a_file_has_its_row_and_a_test(face: str) -> None:
    rows = [row for row in _rows() if face in row[0]]
    assert len(rows) == 1, f"{face}: one row in docs/security.md's audit table"
    assert TEST_REF.search(rows[0][3]), f"{face}: its row names no test"


def test_every_test_the_table_names_exists() -> None:
    refs = [ref for row in _rows() for ref in TEST_REF.findall(row[3])]
    assert len(refs) >= len(FACES)
    for path, name in refs:
        assert (ROOT / path).is_file(), path
        if name:
            assert name in _defined(path), f"{path}::{name}"
