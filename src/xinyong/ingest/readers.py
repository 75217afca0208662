"""Readers for the files departments send: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK), XLSX and
JSON Lines. Each yields ``(row_number, values)`` lazily, so a file of millions of rows streams
in bounded memory.

``row_number`` is the line in the input a person would look at: the header is line 1, so the
first data row of a CSV or XLSX file is 2; in JSON Lines (no header) the first object is line 1.
A file that cannot be read at all (undecodable, not a spreadsheet, no header) raises
``UnusableInput``; a single bad line of JSON is a row problem, reported with the row.

A NUL character is never text a department meant (PostgreSQL cannot even store it): every NUL
read from a header or cell, in any format, becomes ``NUL_STANDIN`` (U+FFFD), so the row is kept
or rejected on what it visibly says, never a database error.
"""

from __future__ import annotations

import codecs
import csv
import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from xinyong.errors import UnusableInput

#: How much of a CSV file is looked at to tell UTF-8 from GB18030.
SNIFF_BYTES = 256 * 1024
#: A JSON Lines row that is not an object carries its text under this key.
RAW_KEY = "_raw"
#: An XLSX row names, under this key, the columns whose cell Excel stored as a number too long
#: to keep every digit (more than 15 significant digits): an 18-digit ID number typed in as a
#: number has already lost its last digits. The validator rejects such a code with that reason.
LOST_KEY = "_excel_number"
#: Excel keeps 15 significant digits; a number at or above this has lost some.
EXCEL_EXACT_LIMIT = 10**15
#: The longest cell read from any format (the ``csv`` module's own field limit): longer is an
#: unusable file, not a row to keep.
MAX_CELL_CHARS = csv.field_size_limit()
#: What a NUL character read from a file becomes.
NUL_STANDIN = "\ufffd"
#: The most columns a file may have; a sheet claiming more is refused before it is read.
MAX_COLUMNS = 1024
#: The largest file one upload may carry (portal consoles and the API): 50 MiB.
MAX_UPLOAD = 50 * 1024 * 1024
#: An XLSX file is a zip; these are checked on its directory before any XML is parsed, so that
#: a decompression bomb is refused without inflating it: the total size inflated, the size of
#: the shared strings (which openpyxl holds in memory), and how much any member larger than
#: ``XLSX_RATIO_FROM`` may inflate relative to its compressed size.
MAX_XLSX_INFLATED = 4 * 1024**3
MAX_XLSX_SHARED_STRINGS = 256 * 1024**2
MAX_XLSX_RATIO = 100
XLSX_RATIO_FROM = 1024**2


@dataclass
class RowSource:
    """An open input: its headers, how it was decoded, and its rows (an iterator, read once)."""

    path: Path
    format: str  # csv | xlsx | jsonl
    encoding: str | None
    headers: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]
    close: Callable[[], None] = lambda: None


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


def detect_encoding(sample: bytes) -> str:
    """``utf-8-sig`` with a BOM, ``utf-8`` if the sample decodes as UTF-8, else ``gb18030``
    (a superset of GBK and GB2312) if it decodes as that; otherwise ``UnusableInput``."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            sample.decode(encoding)
        except UnicodeDecodeError as error:
            # A multi-byte character cut at the end of the sample is not a decoding error.
            if error.start >= len(sample) - 4 and error.reason.startswith("unexpected end"):
                return encoding
            continue
        return encoding
    raise UnusableInput(
        "无法识别文件编码（应为 UTF-8 或 GB18030/GBK），可用 --encoding 指定 / cannot tell the "
        "file's encoding (expected UTF-8 or GB18030/GBK); name it with --encoding"
    )


def open_rows(path: Path, encoding: str | None = None) -> RowSource:
    """Open ``path`` for reading rows. Raises ``UnusableInput`` if it cannot be read at all."""
    if not path.is_file():
        raise UnusableInput(f"文件不存在 / no such file: {path}")
    fmt = detect_format(path)
    if fmt == "xlsx":
        return _open_xlsx(path)
    if fmt == "jsonl":
        return _open_jsonl(path, encoding or "utf-8-sig")
    return _open_csv(path, encoding)


def _decode_failed(path: Path, encoding: str, error: UnicodeDecodeError) -> UnusableInput:
    return UnusableInput(
        f"文件无法按 {encoding} 解码（第 {error.start} 字节附近），可用 --encoding 指定 / "
        f"{path.name} does not decode as {encoding} (near byte {error.start}); "
        "name the encoding with --encoding"
    )


def _check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError as error:
        raise UnusableInput(f"未知编码 / unknown encoding: {encoding}") from error


def _open_csv(path: Path, encoding: str | None) -> RowSource:
    with path.open("rb") as raw:
        sample = raw.read(SNIFF_BYTES)
    if not sample.strip():
        raise UnusableInput(f"文件为空 / the file is empty: {path.name}")
    if encoding is None:
        encoding = detect_encoding(sample)
    else:
        encoding = _check_encoding(encoding)
        if encoding == "utf-8" and sample.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
    handle = path.open(encoding=encoding, errors="strict", newline="")
    try:
        first = handle.readline()
    except UnicodeDecodeError as error:
        handle.close()
        raise _decode_failed(path, encoding, error) from error
    first = first.replace("\x00", NUL_STANDIN)
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    headers = next(csv.reader([first], delimiter=delimiter), [])
    headers = [h.strip() for h in headers]
    if not any(headers):
        handle.close()
        raise UnusableInput(f"缺少表头 / no header line: {path.name}")
    rows = _csv_rows(handle, headers, delimiter, path)
    return RowSource(path, "csv", encoding, headers, rows, handle.close)


def _csv_rows(
    handle: TextIO, headers: list[str], delimiter: str, path: Path
) -> Iterator[tuple[int, dict[str, str]]]:
    with handle:
        reader = csv.reader(
            (line.replace("\x00", NUL_STANDIN) for line in handle), delimiter=delimiter
        )
        line = 1  # the header
        try:
            while True:
                start = reader.line_num + 2  # the physical line this record starts on
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                line = start
                if not any(c.strip() for c in cells):
                    continue  # blank line
                yield line, _zip_cells(headers, cells)
        except UnicodeDecodeError as error:
            raise _decode_failed(path, handle.encoding or "?", error) from error
        except csv.Error as error:
            raise UnusableInput(
                f"CSV 格式错误（第 {line} 行附近）/ malformed CSV near line {line}: {error}"
            ) from error


def _zip_cells(headers: list[str], cells: list[str]) -> dict[str, str]:
    row = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers)}
    if len(cells) > len(headers):
        row[RAW_KEY] = delimiter_join(cells[len(headers) :])
    return row


def delimiter_join(cells: list[str]) -> str:
    return ",".join(cells)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\x00", NUL_STANDIN)


#: What a damaged XLSX raises while it is read: a truncated or corrupt zip member, bad XML.
_XLSX_BROKEN: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    SyntaxError,  # xml.etree.ElementTree.ParseError
    KeyError,
    OSError,
    ValueError,
)


def _check_xlsx_zip(path: Path) -> None:
    """``UnusableInput`` for a zip that would inflate beyond the limits (a decompression bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise UnusableInput(
            f"不是可读的 XLSX 文件 / not a readable XLSX file: {path.name}"
        ) from error
    too_big = sum(m.file_size for m in members) > MAX_XLSX_INFLATED or any(
        (m.filename.lower().endswith("sharedstrings.xml") and m.file_size > MAX_XLSX_SHARED_STRINGS)
        or (
            m.file_size > XLSX_RATIO_FROM and m.file_size > MAX_XLSX_RATIO * max(m.compress_size, 1)
        )
        for m in members
    )
    if too_big:
        raise UnusableInput(
            f"XLSX 解压后过大（疑似压缩炸弹）/ XLSX inflates beyond the limits "
            f"(a decompression bomb?): {path.name}"
        )


def _check_cells(path: Path, number: int, cells: list[str]) -> None:
    if len(cells) > MAX_COLUMNS or any(len(c) > MAX_CELL_CHARS for c in cells):
        raise UnusableInput(
            f"第 {number} 行超过 {MAX_COLUMNS} 列或单元格超过 {MAX_CELL_CHARS} 字符 / "
            f"line {number} of {path.name} has over {MAX_COLUMNS} columns "
            f"or a cell over {MAX_CELL_CHARS} characters"
        )


def _open_xlsx(path: Path) -> RowSource:
    from openpyxl import load_workbook

    _check_xlsx_zip(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except _XLSX_BROKEN as error:
        raise UnusableInput(
            f"不是可读的 XLSX 文件 / not a readable XLSX file: {path.name}"
        ) from error
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        book.close()
        raise UnusableInput(f"XLSX 没有工作表 / no worksheet in {path.name}")
    # read-only mode pads every row to the width the sheet declares: refuse an absurd one.
    if (sheet.max_column or 0) > MAX_COLUMNS:
        book.close()
        _check_cells(path, 1, [""] * (MAX_COLUMNS + 1))
    rows = sheet.iter_rows(values_only=True)
    try:
        first = next(rows, None)
    except _XLSX_BROKEN as error:
        book.close()
        raise UnusableInput(
            f"不是可读的 XLSX 文件 / not a readable XLSX file: {path.name}"
        ) from error
    headers = [_cell_text(v).strip() for v in (first or ())]
    while headers and not headers[-1]:
        headers.pop()
    try:
        _check_cells(path, 1, headers)
    except UnusableInput:
        book.close()
        raise
    if not any(headers):
        book.close()
        raise UnusableInput(f"缺少表头 / no header row: {path.name}")

    def generate() -> Iterator[tuple[int, dict[str, str]]]:
        number = 1
        try:
            for number, values in enumerate(rows, start=2):
                cells = [_cell_text(v) for v in values]
                while cells and not cells[-1]:
                    cells.pop()
                _check_cells(path, number, cells)
                if not any(c.strip() for c in cells):
                    continue
                row = _zip_cells(headers, cells)
                lost = [
                    headers[i]
                    for i, v in enumerate(values[: len(headers)])
                    if isinstance(v, int | float)
                    and not isinstance(v, bool)
                    and abs(v) >= EXCEL_EXACT_LIMIT
                ]
                if lost:
                    row[LOST_KEY] = "\x1f".join(lost)
                yield number, row
        except _XLSX_BROKEN as error:
            # A damaged worksheet is found only when streaming reaches the damage.
            raise UnusableInput(
                f"XLSX 文件在第 {number} 行之后无法读取 / {path.name} cannot be read after row "
                f"{number}: {type(error).__name__}: {error}"
            ) from error
        finally:
            book.close()

    return RowSource(path, "xlsx", None, headers, generate(), book.close)


def _open_jsonl(path: Path, encoding: str) -> RowSource:
    encoding = _check_encoding(encoding)
    handle = path.open(encoding=encoding, errors="strict")
    headers: list[str] = []
    try:
        for line in handle:
            if line.strip():
                try:
                    obj = json.loads(line)
                except (json.JSONDecodeError, RecursionError) as error:
                    raise UnusableInput(
                        f"第一行不是 JSON 对象 / the first line is not a JSON object: {error}"
                    ) from error
                if not isinstance(obj, dict):
                    raise UnusableInput(
                        "第一行不是 JSON 对象 / the first line is not a JSON object"
                    )
                headers = [_cell_text(k) for k in obj]
                break
    except UnicodeDecodeError as error:
        handle.close()
        raise _decode_failed(path, encoding, error) from error
    except UnusableInput:
        handle.close()
        raise
    handle.close()
    if not headers:
        raise UnusableInput(f"文件为空 / the file is empty: {path.name}")
    return RowSource(path, "jsonl", encoding, headers, _jsonl_rows(path, encoding))


def _jsonl_rows(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding=encoding, errors="strict") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                line = line.replace("\x00", NUL_STANDIN)
                try:
                    obj = json.loads(line)
                except (json.JSONDecodeError, RecursionError):  # RecursionError: nested too deep
                    yield number, {RAW_KEY: line.rstrip("\r\n")[:MAX_CELL_CHARS]}
                    continue
                if not isinstance(obj, dict):
                    yield number, {RAW_KEY: line.rstrip("\r\n")[:MAX_CELL_CHARS]}
                    continue
                cells = {_cell_text(k): _cell_text(v) for k, v in obj.items()}
                _check_cells(path, number, list(cells.values()))
                yield number, cells
        except UnicodeDecodeError as error:
            raise _decode_failed(path, encoding, error) from error
