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
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import numpy as np
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
_CHUNK = 1 << 20
_OK = "✓ ".encode()
_BAD = "✗ ".encode()


def _uscc_file(path: Path, out: IO[str]) -> tuple[int, int] | None:
    """``--kind uscc --file`` in bulk: the same lines as ``_describe`` one code at a time.

    The file is read in chunks of lines; the 18-character upper-case lines (nearly all of a
    real file) are judged together by ``codes.bulk``, and each line is assembled from the code
    and a text cached per authority, category and region (or per reason) that ``_describe``
    itself wrote the first time. Anything else — a header, blank lines, CSV fields, lower case,
    spaces, full-width characters — takes ``codes.check`` like the general path. Returns None,
    having read nothing, for files the general path must read (UTF-16, GBK, quoted CSV).
    (total, invalid) otherwise."""
    from xinyong.codes import bulk

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
        valid_text: dict[bytes, bytes] = {}
        invalid_text: dict[str | None, bytes] = {}
        total = invalid = 0
        first = True
        sink: Any = getattr(out, "buffer", None)
        out.flush()
        while chunk := handle.read(_CHUNK):
            chunk += handle.readline()
            lines = chunk.split(b"\n")
            if not lines[-1]:
                lines.pop()
            if b"\r" in chunk:
                lines = [line.rstrip(b"\r") for line in lines]
            if delimiter in chunk or b'"' in chunk:
                lines = [_first_field(line, delimiter) for line in lines]
            if first:
                first = not _drop_header(lines)
            grid = np.array(lines, dtype="S18").view(np.uint8).reshape(len(lines), 18)
            verdicts = bulk.uscc_reasons_grid(grid).tolist()
            parts: list[bytes] = []
            for line, verdict in zip(lines, verdicts, strict=True):
                if len(line) == 18 and verdict != bulk.CHARSET:
                    if verdict == bulk.VALID:
                        tail = valid_text.get(line[:8])
                        if tail is None:
                            tail = valid_text[line[:8]] = _uscc_tail(line[:8].decode())
                        parts.append(_OK + line + tail)
                        total += 1
                        continue
                    reason = bulk.REASONS[verdict]
                elif line and not line.strip(_USCC_BYTES):
                    reason = "length"  # already compact, in the alphabet, not 18 long
                else:
                    reason = ""
                if reason:
                    tail = invalid_text.get(reason)
                    if tail is None:
                        result = CodeCheck(line.decode(), False, "uscc", reason)
                        tail = invalid_text[reason] = _tail(result)
                    parts.append(_BAD + line + tail)
                    total += 1
                    invalid += 1
                    continue
                try:
                    text = line.decode()
                except UnicodeDecodeError as exc:
                    raise UnusableInput(f"{path}: 无法解码 / cannot decode ({exc.reason})") from exc
                if not text.strip():
                    continue
                result = codes.check(text, "uscc")
                parts.append((_describe(result) + "\n").encode())
                total += 1
                invalid += not result.valid
            if sink is not None:
                sink.write(b"".join(parts))
            else:
                out.write(b"".join(parts).decode())
        return total, invalid


@functools.cache
def _uscc_part(prefix: str) -> str:
    return f"  {_KIND_NAMES['uscc']}  {_uscc_category(uscc.parse_prefix(prefix))}  "


@functools.cache
def _region_part(code: str) -> str:
    return _region(uscc.region_fields(code)) + "\n"


def _uscc_tail(key: str) -> bytes:
    """``_describe``'s text after a valid USCC, from its first 8 characters (the same parts)."""
    return (_uscc_part(key[:2]) + _region_part(key[2:8])).encode()


_USCC_BYTES = uscc.ALPHABET.encode()


def _tail(result: CodeCheck) -> bytes:
    """``_describe``'s line after the mark and the code, with its newline."""
    return (_describe(result)[2 + len(result.code) :] + "\n").encode()


def _first_field(line: bytes, delimiter: bytes) -> bytes:
    if b'"' in line:
        row = next(csv.reader([line.decode("utf-8", "replace")], delimiter=delimiter.decode()), [])
        return row[0].encode() if row else b""
    return line.split(delimiter, 1)[0]


def _drop_header(lines: list[bytes]) -> bool:
    """Blank the first non-empty line if it holds no digit (a header); True once one was seen."""
    for i, line in enumerate(lines):
        text = line.decode("utf-8", "replace")
        if text.strip():
            if not any(ch.isdigit() for ch in text):
                lines[i] = b""
            return True
    return False


def _inputs(args: list[str], file: Path | None, progress: Any | None) -> Iterator[str]:
    yield from args
    if file is not None:
        yield from _file_codes(file, progress)
