"""``code check --kind uscc --file`` in bulk prints exactly what one-by-one checking prints."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinyong import codes
from xinyong.cli import app
from xinyong.cli import code as code_cli
from xinyong.codes import uscc

runner = CliRunner()


def _expected(values: list[str]) -> str:
    return "".join(code_cli._describe(codes.check(v, "uscc")) + "\n" for v in values)


def _values(seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(300):
        code = uscc.generate(rng, authority=rng.choice("19ANY") if i % 4 == 0 else None)
        if i % 7 == 1:
            code = code[:5] + code[6:]  # too short, still in the alphabet
        elif i % 7 == 2:
            code = code[:-1] + ("0" if code[-1] != "0" else "1")  # checksum
        elif i % 7 == 3:
            code = code.lower()  # compacts to a valid code
        elif i % 7 == 4:
            code = code[:6] + " " + code[6:]  # a space inside
        elif i % 7 == 5:
            code = code.replace(code[3], chr(ord(code[3]) + 0xFEE0), 1)  # full-width digit
        elif i % 7 == 6:
            code = code[:10] + "I" + code[11:]  # a letter outside the alphabet
        out.append(code)
    out += [uscc.generate(rng, region=uscc.CENTRAL_REGION), "91" + "Z" * 16, "x" * 40]
    return out


@pytest.mark.parametrize(
    "shape", ["lines", "crlf", "csv", "tsv", "header-blank", "bom", "quoted-late"]
)
def test_bulk_output_equals_one_by_one(tmp_path: Path, shape: str) -> None:
    values = _values(len(shape))
    if shape == "lines":
        text = "\n".join(values) + "\n"
    elif shape == "crlf":
        text = "\r\n".join(values)  # and no newline at the end
    elif shape == "csv":
        text = "".join(f"{v},某某公司\n" for v in values)
    elif shape == "tsv":
        text = "".join(f"{v}\t某某公司\n" for v in values)
    elif shape == "header-blank":
        text = "统一社会信用代码\n\n   \n" + "\n\n".join(values) + "\n\u3000\n"
    elif shape == "bom":
        text = "\ufeff" + "\n".join(values)
    else:  # a quoted field after the first 64 KiB, where the bulk reader has already begun
        values = values * 40
        text = "\n".join(values[:-1]) + f'\n"{values[-1]}","名称, 带逗号"\n'
    path = tmp_path / "codes.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["code", "check", "--kind", "uscc", "--file", str(path)])
    assert result.exit_code == 1, result.stderr
    assert result.stdout == _expected(values)
    invalid = sum(not codes.check(v, "uscc").valid for v in values)
    assert f"{len(values)} codes, {len(values) - invalid} valid, {invalid} invalid" in result.stderr


def test_bad_bytes_after_the_sample_exit_2_in_one_line(tmp_path: Path) -> None:
    valid = uscc.generate(random.Random(1))
    path = tmp_path / "codes.txt"
    path.write_bytes((valid + "\n").encode() * 5000 + b"\xff\xfe\xfa\n")
    result = runner.invoke(app, ["code", "check", "--kind", "uscc", "--file", str(path)])
    assert result.exit_code == 2
    assert "cannot decode" in result.stderr


def test_gbk_and_utf16_files_take_the_general_reader(tmp_path: Path) -> None:
    valid = uscc.generate(random.Random(2))
    for encoding in ("gbk", "utf-16"):
        path = tmp_path / f"codes-{encoding}.csv"
        path.write_bytes(f"统一社会信用代码,名称\n{valid},某某公司\n".encode(encoding))
        result = runner.invoke(app, ["code", "check", "--kind", "uscc", "--file", str(path)])
        assert result.exit_code == 0, result.stderr
        assert result.stdout == _expected([valid])


@pytest.mark.parametrize("chunk", [64, 1000])
def test_lines_across_many_chunks_equal_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Small chunks: the header, blank lines and every kind of line fall on chunk edges."""
    monkeypatch.setattr(code_cli, "_CHUNK", chunk)
    values = _values(11)
    text = "\n\n" + "\n".join(f"{v},名称" if i % 3 else v for i, v in enumerate(values)) + "\n"
    path = tmp_path / "codes.csv"
    path.write_text("代码,名称\n" + text, encoding="utf-8")
    result = runner.invoke(app, ["code", "check", "--kind", "uscc", "--file", str(path)])
    assert result.exit_code == 1, result.stderr
    assert result.stdout == _expected(values)


def test_carriage_returns_and_short_files(tmp_path: Path) -> None:
    """Every trailing CR is dropped (as ``bytes.rstrip``), a CR before the delimiter is kept
    in the field, and a file shorter than one code still prints its line."""
    valid = uscc.generate(random.Random(7))
    path = tmp_path / "codes.csv"
    path.write_bytes(f"{valid}\r\r\n{valid}\r,名称\r\n{valid[:9]}\r\n".encode())
    result = runner.invoke(app, ["code", "check", "--kind", "uscc", "--file", str(path)])
    assert result.stdout == _expected([valid, valid + "\r", valid[:9]])
    short = tmp_path / "short.txt"
    short.write_bytes(valid[:9].encode())
    result = runner.invoke(app, ["code", "check", "--kind", "uscc", "--file", str(short)])
    assert result.exit_code == 1
    assert result.stdout == _expected([valid[:9]])
