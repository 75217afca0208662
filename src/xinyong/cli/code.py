"""``xinyong code``: check identifier codes (USCC, organisation code, citizen number).

A thin shell over :func:`xinyong.codes.check_many`. Codes come from the arguments and/or a file
(one per line, or the first column of a CSV; UTF-8 with or without BOM, UTF-16 with BOM, or
GBK), streamed, so files of millions of codes work in constant memory.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import numpy as np
import numpy.typing as npt
import typer

from xinyong import codes
from xinyong.cli.options import JsonOption
from xinyong.codes import CodeCheck, orgcode, regno, ric, uscc
from xinyong.errors import UnusableInput, invalid_code

app = typer.Typer(
    help="统一社会信用代码、组织机构代码、身份证号码 / identifier codes", no_args_is_help=True
)


class KindChoice(StrEnum):
    auto = "auto"
    uscc = "uscc"
    orgcode = "orgcode"
    ric = "ric"
    regno = "regno"


_KIND_NAMES = {
    "uscc": f"{uscc.NAME_ZH} / USCC",
    "orgcode": f"{orgcode.NAME_ZH} / organisation code",
    "ric": f"{ric.NAME_ZH} / citizen ID number",
    "regno": f"{regno.NAME_ZH} / registration number",
    None: "未知代码类型 / unknown kind of code",
}


def _describe(result: CodeCheck) -> str:
    """One line, Chinese first: ``✓ CODE 统一社会信用代码 … 工商·企业 福建省福州市``."""
    kind = _KIND_NAMES.get(result.kind, str(result.kind))
    if not result.valid:
        error = invalid_code(result.reason)
        return f"✗ {result.code}  {kind}  {error.bilingual()}"
    fields = result.fields
    parts = [f"✓ {result.code}", kind]
    if result.kind == "uscc":
        parts.append(_uscc_category(fields))
    elif result.kind == "ric":
        sex = "男 / male" if fields["sex"] == "male" else "女 / female"
        parts.append(f"{fields['birth_date']} {sex}")
        if fields.get("legacy"):
            parts.append(f"15位旧号码 / legacy 15-digit form → {fields['code_18']}")
    elif result.kind == "regno":
        parts.append(f"登记机关 / authority {fields['authority_name'] or fields['authority']}")
    region = fields.get("region")
    if region:
        parts.append(_region(region))
    return "  ".join(parts)


def _uscc_category(fields: dict[str, Any]) -> str:
    return f"{fields['authority']['name_zh']}·{fields['category']['name_zh']}"


def _region(region: dict[str, Any]) -> str:
    text = str(region["name"] or region["code"])
    if region["historical"]:
        text += "  ⚠ 历史行政区划代码（已撤销或更名，仍有效）/ historical region code (still valid)"
    return text


def _open_text(path: Path) -> io.TextIOWrapper:
    """Open a codes file, guessing its encoding from a BOM or a sample: UTF-8, UTF-16, GBK."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise UnusableInput(f"{path}: {exc.strerror or exc}") from exc
    try:
        head = raw.read(65536)
    except OSError as exc:
        raw.close()
        raise UnusableInput(f"{path}: {exc.strerror or exc}") from exc
    raw.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            encoding = "gb18030"  # a superset of GBK and GB 2312
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def _file_codes(path: Path, progress: Any | None) -> Iterator[str]:
    """The first field of each non-empty row; a first row without any digit is a header."""
    if path.is_dir():
        raise UnusableInput(f"{path}: 是目录 / is a directory")
    text = _open_text(path)
    size = path.stat().st_size
    task = progress.add_task("检查 / checking", total=size) if progress else None
    first = True
    try:
        sample = text.readline()
        delimiter = "\t" if "\t" in sample else ","
        lines = _chain(sample, text)
        for n, row in enumerate(csv.reader(lines, delimiter=delimiter)):
            if not row or not row[0].strip():
                continue
            value = row[0]
            if first:
                first = False
                if not any(ch.isdigit() for ch in value):
                    continue  # a header such as "统一社会信用代码" or "code"
            if progress is not None and n % 4096 == 0:
                progress.update(task, completed=raw_position(text))
            yield value
    except UnicodeDecodeError as exc:
        raise UnusableInput(f"{path}: 无法解码 / cannot decode ({exc.reason})") from exc
    except csv.Error as exc:
        raise UnusableInput(f"{path}: CSV {exc}") from exc
    finally:
        text.close()
        if progress is not None:
            progress.update(task, completed=size)


def raw_position(text: io.TextIOWrapper) -> int:
    """How far into the file the reader is, in bytes (for the progress bar)."""
    buffer: Any = text.buffer
    return int(buffer.tell())


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


@app.command("check", epilog="示例 / example: xinyong code check 91350100M000100Y43 --json")
def check_command(
    code: Annotated[
        list[str] | None,
        typer.Argument(help="要检查的代码 / codes to check", show_default=False),
    ] = None,
    kind: Annotated[
        KindChoice,
        typer.Option("--kind", help="代码类型 / kind of code; auto: by shape"),
    ] = KindChoice.auto,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="从文件读取，每行一个或 CSV 第一列 / read codes from a file "
            "(one per line, or the first CSV column; UTF-8, BOM, GBK)",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """检查代码 / check codes: 统一社会信用代码、组织机构代码、身份证号码.

    Exit 0 when every code is valid, 1 when any is invalid, 2 on bad usage or an unreadable file.

    Example: xinyong code check 91350100M000100Y43 --json
    """
    from xinyong.cli import fail

    if not code and file is None:
        raise fail("没有要检查的代码 / no codes given: pass CODE… or --file PATH")
    if file is not None and not file.exists():
        raise fail(f"文件不存在 / no such file: {file}")

    progress = None
    if file is not None and sys.stderr.isatty() and not json_output:
        from rich.progress import Progress

        progress = Progress(transient=True, console=None)
    out = sys.stdout
    total = invalid = 0
    if file is not None and kind is KindChoice.uscc and not json_output and not code:
        try:
            counted = _uscc_file(file, out)
        except UnusableInput as exc:
            out.flush()
            raise fail(exc.bilingual()) from exc
        if counted is not None:
            _finish(*counted, json_output=False)
        progress = progress if counted is None else None
    inputs = _inputs(code or [], file, progress)
    try:
        if progress is not None:
            progress.start()
        if json_output:
            out.write("[")
        for result in codes.check_many(inputs, kind.value):
            if json_output:
                out.write(",\n" if total else "\n")
                out.write(json.dumps(result.to_dict(), ensure_ascii=False))
            else:
                out.write(_describe(result) + "\n")
            total += 1
            invalid += not result.valid
        if json_output:
            out.write("\n]\n" if total else "]\n")
    except UnusableInput as exc:
        out.flush()
        raise fail(exc.bilingual()) from exc
    finally:
        if progress is not None:
            progress.stop()
    out.flush()
    _finish(total, invalid, json_output=json_output)


def _finish(total: int, invalid: int, *, json_output: bool) -> None:
    """The summary line and the exit code."""
    from xinyong.cli import fail

    if total == 0:
        raise fail("文件中没有代码 / no codes in the file")
    if not json_output and total > 1:
        typer.echo(
            f"共 {total} 个，有效 {total - invalid}，无效 {invalid} / "
            f"{total} codes, {total - invalid} valid, {invalid} invalid",
            err=True,
        )
    raise typer.Exit(1 if invalid else 0)


#: Bytes read at a time by the USCC fast path (then up to the end of the line).
_CHUNK = 1 << 18
_OK = "✓ ".encode()
_BAD = "✗ ".encode()


def _uscc_file(path: Path, out: IO[str]) -> tuple[int, int] | None:
    """``--kind uscc --file`` in bulk: the same lines as ``_describe`` one code at a time.

    The file is read in chunks of lines (:class:`_UsccLines`). Returns None, having read
    nothing, for files the general path must read (UTF-16, GBK, quoted CSV in the first
    64 KiB); (total, invalid) otherwise."""
    if path.is_dir():
        raise UnusableInput(f"{path}: 是目录 / is a directory")
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UnusableInput(f"{path}: {exc.strerror or exc}") from exc
    with handle:
        head = handle.read(65536)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b'"' in head:
            return None
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return None
        handle.seek(len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0)
        delimiter = b"\t" if b"\t" in head.split(b"\n", 1)[0] else b","
        lines = _UsccLines(path, delimiter)
        sink: Any = getattr(out, "buffer", None)
        out.flush()
        while chunk := handle.read(_CHUNK):
            chunk += handle.readline()
            text = lines.describe(chunk)
            if sink is not None:
                sink.write(text)
            else:
                out.write(text.decode())
        return lines.total, lines.invalid


class _UsccLines:
    """``_describe``'s lines for a chunk of a USCC file, assembled without a loop per code.

    Each line's first field (as :func:`_file_codes` reads it: a trailing CR dropped, up to
    the first delimiter, a first line without a digit skipped as a header) is located with
    numpy. The 18-byte fields (nearly all of a real file) are judged together by
    ``codes.bulk``; a valid one prints as mark + code, a text per authority and category and
    a text per region, an invalid one as mark + code and a text per reason, each text composed
    once by ``_describe``'s own parts and picked for every line by indexing. Anything else —
    blank lines, other lengths, lower case, spaces, full-width characters — takes
    ``codes.check`` one by one like the general path."""

    def __init__(self, path: Path, delimiter: bytes) -> None:
        self.path = path
        self.delimiter = delimiter
        self.total = 0
        self.invalid = 0
        self._header_seen = False
        # Texts after the code, by two-byte prefix (authority, category), by region number
        # and by verdict; None until first needed.
        self._categories = np.full(1 << 16, None, dtype=object)
        self._categories_known = np.zeros(1 << 16, dtype=bool)
        self._regions = np.full(1_000_000, None, dtype=object)
        self._regions_known = np.zeros(1_000_000, dtype=bool)
        self._reasons: dict[str, bytes] = {}
        self._by_verdict = np.full(8, None, dtype=object)

    def describe(self, chunk: bytes) -> bytes:
        """The output lines of every line in ``chunk`` (whole lines), in order, as UTF-8."""
        from xinyong.codes import bulk

        data, starts, ends = self._fields(chunk)
        n = len(starts)
        if not self._header_seen:
            self._header_seen = self._drop_header(data, starts, ends)
        # Three texts per line, joined in order: mark + code, the middle, the region.
        parts = np.full((n, 3), b"", dtype=object)
        lengths = ends - starts
        rows = np.flatnonzero(lengths == 18)
        raw = np.frombuffer(data, dtype=np.uint8)
        if len(raw) >= 18:
            grid = np.lib.stride_tricks.sliding_window_view(raw, 18)[starts[rows]]
        else:
            grid = np.empty((0, 18), dtype=np.uint8)
        verdicts = bulk.uscc_reasons_grid(grid)
        judged = verdicts != bulk.CHARSET
        if not judged.all():
            rows, grid, verdicts = rows[judged], grid[judged], verdicts[judged]
        valid = verdicts == bulk.VALID
        heads = np.empty((len(rows), 22), dtype=np.uint8)
        heads[:, :4] = _MARKS[0]
        heads[~valid, :4] = _MARKS[1]
        heads[:, 4:] = grid
        parts[rows, 0] = heads.view("S22").ravel().tolist()  # bytes, not numpy.bytes_: join
        valid_grid = grid[valid]
        parts[rows[valid], 1] = self._category_texts(
            valid_grid[:, 0].astype(np.int32) << 8 | valid_grid[:, 1]
        )
        parts[rows[valid], 2] = self._region_texts(
            np.einsum("ij,j->i", valid_grid[:, 2:8].astype(np.int32) - ord("0"), _PLACES)
        )
        wrong = np.flatnonzero(~valid)
        if len(wrong):
            parts[rows[wrong], 1] = self._reason_texts(verdicts[wrong], grid[wrong])
        invalid = len(rows) - int(np.count_nonzero(valid))
        # The other fields: compact and in the alphabet but not 18 long (a character dropped
        # or added) are invalid by length; the rest (blank, lower case, spaces, …) one by one.
        others = np.ones(n, dtype=bool)
        others[rows] = False
        other_rows = np.flatnonzero(others & (lengths > 0))
        bounds = zip(starts[other_rows].tolist(), ends[other_rows].tolist(), strict=True)
        fields = [data[start:end] for start, end in bounds]
        short = [not field.strip(_USCC_BYTES) for field in fields]
        short_fields = list(itertools.compress(fields, short))
        if short_fields:
            short_rows = other_rows[short]
            parts[short_rows, 0] = [_BAD + field for field in short_fields]
            parts[short_rows, 1] = self._reason_text("length", short_fields[0])
        self.total += len(rows) + len(short_fields)
        self.invalid += invalid + len(short_fields)
        for i, field, is_short in zip(other_rows.tolist(), fields, short, strict=True):
            if not is_short:
                parts[i, 0] = self._one(field)
        return b"".join(parts.ravel().tolist())

    def _fields(self, chunk: bytes) -> tuple[bytes, npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """``(data, starts, ends)``: line i's first field is ``data[starts[i]:ends[i]]``."""
        delimiter: bytes | None = self.delimiter
        if b'"' in chunk:  # quoted fields: the csv module's reading, line by line
            lines = chunk.split(b"\n")
            if not lines[-1]:
                lines.pop()
            fields = [_first_field(line.rstrip(b"\r"), self.delimiter) for line in lines]
            chunk = b"".join(field + b"\n" for field in fields)  # no field holds a newline
            delimiter = None
        raw = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(raw == ord("\n"))
        if not chunk.endswith(b"\n"):
            ends = np.append(ends, len(chunk))
        starts = np.zeros_like(ends)
        starts[1:] = ends[:-1] + 1
        if delimiter is not None and b"\r" in chunk:
            # One CR (CRLF files); a field still ending in CR goes one by one, and
            # codes.check compacts it away, as the general reader strips it.
            ends = ends - ((ends > starts) & (raw[ends - 1] == ord("\r")))
        if delimiter is not None and delimiter in chunk:
            at = np.append(np.flatnonzero(raw == delimiter[0]), len(chunk))
            ends = np.minimum(ends, at[np.searchsorted(at, starts)])
        return chunk, starts, ends

    def _drop_header(
        self, data: bytes, starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]
    ) -> bool:
        """Skip the first non-blank field if it holds no digit (a header); True once seen."""
        for i in range(len(starts)):
            text = data[starts[i] : ends[i]].decode("utf-8", "replace")
            if text.strip():
                if not any(ch.isdigit() for ch in text):
                    ends[i] = starts[i]
                return True
        return False

    def _category_texts(self, prefixes: npt.NDArray[np.int32]) -> npt.NDArray[np.object_]:
        for prefix in np.unique(prefixes[~self._categories_known[prefixes]]).tolist():
            key = bytes((prefix >> 8, prefix & 0xFF)).decode()
            self._categories[prefix] = _uscc_part(key).encode()
            self._categories_known[prefix] = True
        texts: npt.NDArray[np.object_] = self._categories[prefixes]
        return texts

    def _region_texts(self, numbers: npt.NDArray[np.int32]) -> npt.NDArray[np.object_]:
        for number in np.unique(numbers[~self._regions_known[numbers]]).tolist():
            self._regions[number] = _region_part(f"{number:06d}").encode()
            self._regions_known[number] = True
        texts: npt.NDArray[np.object_] = self._regions[numbers]
        return texts

    def _reason_texts(
        self, verdicts: npt.NDArray[np.uint8], grid: npt.NDArray[np.uint8]
    ) -> npt.NDArray[np.object_]:
        """The text after each invalid code, by its verdict (``codes.bulk.REASONS``)."""
        from xinyong.codes import bulk

        for verdict in np.flatnonzero(np.bincount(verdicts, minlength=8)).tolist():
            if self._by_verdict[verdict] is None:
                first = bytes(grid[np.argmax(verdicts == verdict)])
                reason = bulk.REASONS[verdict]
                assert reason is not None
                self._by_verdict[verdict] = self._reason_text(reason, first)
        texts: npt.NDArray[np.object_] = self._by_verdict[verdicts]
        return texts

    def _reason_text(self, reason: str, code: bytes) -> bytes:
        """``_describe``'s text after an invalid code, composed for the first such code."""
        text = self._reasons.get(reason)
        if text is None:
            text = self._reasons[reason] = _tail(CodeCheck(code.decode(), False, "uscc", reason))
        return text

    def _one(self, field: bytes) -> bytes:
        """One field that is not a compact code: its line, or b"" if blank."""
        try:
            text = field.decode()
        except UnicodeDecodeError as exc:
            raise UnusableInput(f"{self.path}: 无法解码 / cannot decode ({exc.reason})") from exc
        if not text.strip():
            return b""
        result = codes.check(text, "uscc")
        self.total += 1
        self.invalid += not result.valid
        return (_describe(result) + "\n").encode()


_MARKS = np.frombuffer(_OK + _BAD, dtype=np.uint8).reshape(2, 4)
_PLACES = np.array([100_000, 10_000, 1_000, 100, 10, 1], dtype=np.int32)


@functools.cache
def _uscc_part(prefix: str) -> str:
    return f"  {_KIND_NAMES['uscc']}  {_uscc_category(uscc.parse_prefix(prefix))}  "


@functools.cache
def _region_part(code: str) -> str:
    return _region(uscc.region_fields(code)) + "\n"


_USCC_BYTES = uscc.ALPHABET.encode()


def _tail(result: CodeCheck) -> bytes:
    """``_describe``'s line after the mark and the code, with its newline."""
    return (_describe(result)[2 + len(result.code) :] + "\n").encode()


def _first_field(line: bytes, delimiter: bytes) -> bytes:
    if b'"' in line:
        row = next(csv.reader([line.decode("utf-8", "replace")], delimiter=delimiter.decode()), [])
        return row[0].encode() if row else b""
    return line.split(delimiter, 1)[0]


def _inputs(args: list[str], file: Path | None, progress: Any | None) -> Iterator[str]:
    yield from args
    if file is not None:
        yield from _file_codes(file, progress)
