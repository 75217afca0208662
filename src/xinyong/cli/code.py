"""``xinyong code``: check identifier codes (USCC, organisation code, citizen number).

A thin shell over :func:`xinyong.codes.check_many`. Codes come from the arguments and/or a file
(one per line, or the first column of a CSV; UTF-8 with or without BOM, UTF-16 with BOM, or
GBK), streamed, so files of millions of codes work in constant memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

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
        parts.append(f"{fields['authority']['name_zh']}·{fields['category']['name_zh']}")
    elif result.kind == "ric":
        sex = "男 / male" if fields["sex"] == "male" else "女 / female"
        parts.append(f"{fields['birth_date']} {sex}")
        if fields.get("legacy"):
            parts.append(f"15位旧号码 / legacy 15-digit form → {fields['code_18']}")
    elif result.kind == "regno":
        parts.append(f"登记机关 / authority {fields['authority_name'] or fields['authority']}")
    region = fields.get("region")
    if region:
        parts.append(region["name"] or region["code"])
        if region["historical"]:
            parts.append(
                "⚠ 历史行政区划代码（已撤销或更名，仍有效）/ historical region code (still valid)"
            )
    return "  ".join(parts)


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
    inputs = _inputs(code or [], file, progress)
    out = sys.stdout
    total = invalid = 0
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
    if total == 0:
        raise fail("文件中没有代码 / no codes in the file")
    if not json_output and total > 1:
        typer.echo(
            f"共 {total} 个，有效 {total - invalid}，无效 {invalid} / "
            f"{total} codes, {total - invalid} valid, {invalid} invalid",
            err=True,
        )
    raise typer.Exit(1 if invalid else 0)


def _inputs(args: list[str], file: Path | None, progress: Any | None) -> Iterator[str]:
    yield from args
    if file is not None:
        yield from _file_codes(file, progress)
