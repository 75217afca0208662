"""Hostile department files: decompression bombs, huge cells, too many columns, JSON nested
beyond reason. Each is refused as unusable input (exit 2, nothing stored) or, for one bad JSON
Lines row, rejected with the row; never a crash or an unbounded read."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.errors import UnusableInput
from xinyong.ingest.readers import MAX_CELL_CHARS, MAX_COLUMNS, RAW_KEY, open_rows
from xinyong.store.engine import opened
from xinyong.store.schema import upgrade
from xinyong.store.tables import records

runner = CliRunner()
DEEP = "[" * 100_000 + "]" * 100_000


def _bomb(path: Path) -> Path:
    """A zip named .xlsx whose worksheet inflates 64 MiB of zeros from a few KiB."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (64 * 1024**2))
    return path


def _sheet(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_an_xlsx_decompression_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 1024**2
    with pytest.raises(UnusableInput, match="bomb"):
        open_rows(path)


def test_too_many_columns_or_a_huge_cell_is_refused(tmp_path: Path) -> None:
    wide = _sheet(tmp_path / "wide.xlsx", [[f"c{i}" for i in range(MAX_COLUMNS + 5)]])
    with pytest.raises(UnusableInput, match="columns"):
        open_rows(wide)
    huge = tmp_path / "huge.jsonl"  # (openpyxl itself cuts XLSX cells at Excel's 32767)
    huge.write_text('{"name": "a"}\n{"name": "' + "x" * (MAX_CELL_CHARS + 1) + '"}\n')
    with pytest.raises(UnusableInput, match="characters"):
        list(open_rows(huge).rows)


def test_deeply_nested_json_lines_are_refused_or_rejected(tmp_path: Path) -> None:
    first = tmp_path / "first.jsonl"
    first.write_text(DEEP + "\n", encoding="utf-8")
    with pytest.raises(UnusableInput):
        open_rows(first)
    later = tmp_path / "later.jsonl"
    later.write_text('{"name": "a"}\n{"name": ' + DEEP + "}\n", encoding="utf-8")
    rows = list(open_rows(later).rows)
    assert rows[0] == (1, {"name": "a"})
    assert rows[1][0] == 2 and set(rows[1][1]) == {RAW_KEY}


@pytest.mark.parametrize("name", ["bomb.xlsx", "deep.jsonl"])
def test_cli_ingest_of_a_hostile_file_exits_2_and_stores_nothing(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    if name.endswith(".xlsx"):
        _bomb(path)
    else:
        path.write_text(DEEP + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(
        app, ["ingest", str(path), "--type", "admin_penalty", "--source", "samr", "--db", db]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    with opened(db) as engine:
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(records)).scalar_one() == 0
