"""Streaming writers for the department file formats ``xinyong ingest`` reads, and Parquet.

One writer per file; ``write`` takes a :class:`pyarrow.Table` batch, ``close`` finishes the
file. Formats:

==========  =======================  ============================  ===================
format      file                     headers                       enum values
==========  =======================  ============================  ===================
csv         ``TYPE.csv`` (UTF-8)     English field names           ids
csv-gbk     ``TYPE.gbk.csv`` (GBK)   Chinese (first alias)         Chinese labels
xlsx        ``TYPE.xlsx``            Chinese (first alias)         Chinese labels
jsonl       ``TYPE.jsonl`` (UTF-8)   English field names           ids
parquet     ``TYPE.parquet``         English field names           ids
==========  =======================  ============================  ===================

Output is byte-identical for the same input: XLSX timestamps are fixed (document properties
and zip entries), Parquet carries no clock.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from xinyong.catalog import FieldType, RecordType
from xinyong.errors import UnusableInput
from xinyong.spreadsheet import neutralise

FORMATS = ("csv", "csv-gbk", "xlsx", "jsonl", "parquet")
SUFFIX = {
    "csv": ".csv",
    "csv-gbk": ".gbk.csv",
    "xlsx": ".xlsx",
    "jsonl": ".jsonl",
    "parquet": ".parquet",
}
XLSX_MAX_ROWS = 1_048_575  # one header row + this many rows per sheet
_FIXED_TIME = datetime(2020, 1, 1)


class Writer(Protocol):
    path: Path

    def write(self, table: pa.Table) -> None: ...

    def close(self) -> None: ...


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def chinese_headers(record_type: RecordType) -> list[str]:
    """Each field's first Chinese alias (the department's column name), else its name."""
    return [
        next((a for a in spec.aliases if _is_chinese(a)), spec.name) for spec in record_type.fields
    ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Labels:
    """Enum ids → Chinese labels, for the formats departments fill in by hand."""

    def __init__(self, record_type: RecordType | None, chinese: bool) -> None:
        self.maps: dict[str, dict[str, str]] = {}
        if record_type is not None and chinese:
            for spec in record_type.fields:
                if spec.type is FieldType.ENUM:
                    self.maps[spec.name] = {v.id: v.label_zh for v in spec.enum or ()}

    def rows(self, table: pa.Table) -> list[list[Any]]:
        columns = []
        for name in table.column_names:
            values = table.column(name).to_pylist()
            mapping = self.maps.get(name)
            if mapping:
                values = [mapping.get(v, v) if v is not None else None for v in values]
            columns.append(values)
        return [list(row) for row in zip(*columns, strict=True)] if columns else []


class CsvWriter:
    def __init__(
        self, path: Path, headers: list[str], labels: _Labels, encoding: str = "utf-8"
    ) -> None:
        self.path = path
        self._file = path.open("w", encoding=encoding, newline="")
        self._csv = csv.writer(self._file, lineterminator="\r\n")
        self._csv.writerow([neutralise(h) for h in headers])
        self._labels = labels

    def write(self, table: pa.Table) -> None:
        try:
            self._csv.writerows(
                [neutralise(_text(v)) for v in row] for row in self._labels.rows(table)
            )
        except UnicodeEncodeError as exc:
            raise UnusableInput(f"{self.path.name}: {exc.reason}") from exc

    def close(self) -> None:
        self._file.close()


class JsonlWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("w", encoding="utf-8", newline="\n")

    def write(self, table: pa.Table) -> None:
        for row in table.to_pylist():
            self._file.write(json.dumps(row, ensure_ascii=False, default=_text) + "\n")

    def close(self) -> None:
        self._file.close()


class ParquetWriter:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


class XlsxWriter:
    """openpyxl in write-only mode; a new sheet every ``XLSX_MAX_ROWS`` rows."""

    def __init__(self, path: Path, headers: list[str], labels: _Labels) -> None:
        from openpyxl import Workbook

        self.path = path
        self._book = Workbook(write_only=True)
        self._book.properties.created = _FIXED_TIME
        self._book.properties.modified = _FIXED_TIME
        self._headers = headers
        self._labels = labels
        self._sheet: Any = None
        self._rows = XLSX_MAX_ROWS

    def write(self, table: pa.Table) -> None:
        for row in self._labels.rows(table):
            if self._rows >= XLSX_MAX_ROWS:
                self._sheet = self._book.create_sheet(f"Sheet{len(self._book.worksheets) + 1}")
                self._sheet.append([neutralise(h) for h in self._headers])
                self._rows = 0
            self._sheet.append([neutralise(v) for v in row])
            self._rows += 1

    def close(self) -> None:
        if self._sheet is None:
            self._sheet = self._book.create_sheet("Sheet1")
            self._sheet.append([neutralise(h) for h in self._headers])
        buffer = io.BytesIO()
        self._book.save(buffer)
        self._book.properties.modified = _FIXED_TIME
        _rezip(buffer.getvalue(), self.path)


def _rezip(data: bytes, path: Path) -> None:
    """Copy a zip with every entry's timestamp fixed, so equal content gives equal bytes."""
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _fixed_core(content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)


def _fixed_core(content: bytes) -> bytes:
    """openpyxl stamps ``dcterms:modified`` with the clock on save: fix it."""
    import re

    return re.sub(
        rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
        rb"\g<1>2020-01-01T00:00:00Z\g<2>",
        content,
    )


def open_writer(
    fmt: str, path_stem: Path, schema: pa.Schema, record_type: RecordType | None = None
) -> Writer:
    """A writer for ``fmt`` at ``path_stem`` + the format's suffix."""
    path = path_stem.with_name(path_stem.name + SUFFIX[fmt])
    english = list(schema.names)
    chinese = chinese_headers(record_type) if record_type is not None else english
    factories: dict[str, Callable[[], Writer]] = {
        "csv": lambda: CsvWriter(path, english, _Labels(record_type, False)),
        "csv-gbk": lambda: CsvWriter(path, chinese, _Labels(record_type, True), "gbk"),
        "xlsx": lambda: XlsxWriter(path, chinese, _Labels(record_type, True)),
        "jsonl": lambda: JsonlWriter(path),
        "parquet": lambda: ParquetWriter(path, schema),
    }
    factory = factories.get(fmt)
    if factory is None:
        raise UnusableInput(
            f"未知格式 {fmt!r}（可用：{', '.join(FORMATS)}）/ unknown format {fmt!r} "
            f"(choose from {', '.join(FORMATS)})"
        )
    return factory()
