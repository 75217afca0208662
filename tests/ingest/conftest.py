"""Fixtures for the ingest tests: files written the way departments write them."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine

from xinyong.store.engine import opened
from xinyong.store.schema import upgrade

#: How a department's file may come: CSV in one of these encodings, or XLSX.
FORMATS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "xlsx")


def write_department_file(
    path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]], fmt: str
) -> Path:
    """``path`` (its suffix set by ``fmt``) with ``headers`` and ``rows``, as a department's
    export would be: CSV in ``fmt``'s encoding (GBK and GB18030 without BOM, ``utf-8-sig``
    with one), or an XLSX workbook whose first sheet holds the table."""
    if fmt == "xlsx":
        target = path.with_suffix(".xlsx")
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(headers))
        for row in rows:
            sheet.append(list(row))
        book.save(target)
        return target
    target = path.with_suffix(".csv")
    with target.open("w", encoding=fmt, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows([["" if v is None else str(v) for v in row] for row in rows])
    return target


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite database (for matrices that need not run on PostgreSQL too)."""
    url = f"sqlite:///{tmp_path / 'layouts.db'}"
    with opened(url) as engine:
        upgrade(engine)
    yield url


@pytest.fixture()
def migrated(db_url: str) -> Iterator[Engine]:
    """``db_url`` (SQLite and PostgreSQL), migrated."""
    with opened(db_url) as engine:
        upgrade(engine)
        yield engine
