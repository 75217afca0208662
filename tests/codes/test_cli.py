"""``xinyong code check``: the contract others rely on, in-process and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinyong.cli import app

runner = CliRunner()

VALID = "91350100M000100Y43"
VALID_2 = "914403001922038216"
INVALID = "91350100M000100Y44"
PERSON = "11010519491231002X"
HISTORICAL = "91110103M000100Y4"  # 北京市崇文区; check character added below


def _historical() -> str:
    from xinyong.codes import uscc

    return HISTORICAL + uscc.check_character(HISTORICAL)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xinyong", "code", "check", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def test_valid_codes_print_chinese_first_and_exit_0() -> None:
    result = runner.invoke(app, ["code", "check", VALID, PERSON])
    assert result.exit_code == 0, result.output
    assert f"✓ {VALID}" in result.output
    assert "统一社会信用代码" in result.output
    assert "福建省福州市" in result.output
    assert "1949-12-31" in result.output


def test_invalid_code_exits_1_with_the_reason() -> None:
    result = runner.invoke(app, ["code", "check", VALID, INVALID])
    assert result.exit_code == 1
    assert f"✗ {INVALID}" in result.output
    assert "校验码不正确 / the check character does not match" in result.output


def test_historical_region_is_valid_with_a_warning() -> None:
    result = runner.invoke(app, ["code", "check", _historical()])
    assert result.exit_code == 0
    assert "历史行政区划代码" in result.output


def test_json_shape() -> None:
    result = runner.invoke(app, ["code", "check", VALID, INVALID, "--json"])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [set(row) for row in rows] == [{"code", "valid", "kind", "reason", "fields"}] * 2
    assert rows[0]["valid"] is True and rows[0]["reason"] is None
    assert rows[0]["fields"]["region"]["code"] == "350100"
    assert rows[1] == {
        "code": INVALID,
        "valid": False,
        "kind": "uscc",
        "reason": "checksum",
        "fields": {},
    }


def test_kind_option() -> None:
    result = runner.invoke(app, ["code", "check", VALID, "--kind", "ric", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["kind"] == "ric"


def test_exit_codes_from_a_real_process(tmp_path: Path) -> None:
    """The installed command's exit codes (0 valid, 1 invalid, 2 unusable input in one line);
    the other refusals below run in-process, where the same code decides them."""
    assert run(VALID).returncode == 0
    assert run(INVALID).returncode == 1
    missing = tmp_path / "missing.txt"
    proc = run("--file", str(missing))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"错误 / error: 文件不存在 / no such file: {missing}"
    ]


def _refused(*args: str) -> str:
    """``code check`` refuses ``args`` with exit 2 and no output: its stderr."""
    result = runner.invoke(app, ["code", "check", *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    return result.stderr


def test_no_codes_and_an_unknown_kind_are_usage_errors() -> None:
    assert _refused().strip() == (
        "错误 / error: 没有要检查的代码 / no codes given: pass CODE… or --file PATH"
    )
    unknown_kind = _refused("--kind", "iban", VALID)
    assert "Invalid value for '--kind'" in unknown_kind and "'iban'" in unknown_kind
    assert "'uscc'" in unknown_kind, "the error lists the kinds there are"


def test_missing_and_unreadable_files_exit_2_with_one_line(tmp_path: Path) -> None:
    for path, reason in ((tmp_path / "missing.csv", "no such file"), (tmp_path, "is a directory")):
        (line,) = _refused("--file", str(path)).strip().splitlines()
        assert line.startswith("错误 / error: ") and str(path) in line and reason in line


def test_json_from_a_real_process() -> None:
    proc = run(VALID, PERSON, "--json")
    assert proc.returncode == 0
    rows = json.loads(proc.stdout)
    assert [row["kind"] for row in rows] == ["uscc", "ric"]
    assert rows[1]["fields"]["sex"] == "female"


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (f"统一社会信用代码,名称\n{VALID},某某公司\n{VALID_2},另一家\n", "utf-8"),
        (f"统一社会信用代码,名称\n{VALID},某某公司\n{VALID_2},另一家\n", "utf-8-sig"),
        (f"统一社会信用代码,名称\r\n{VALID},某某公司\r\n{VALID_2},另一家\r\n", "gbk"),
        (f"统一社会信用代码\t名称\n{VALID}\t某某公司\n\n{VALID_2}\t另一家\n", "utf-16"),
        (f"{VALID}\n{VALID_2}\n", "ascii"),
        (f'"{VALID}","名称, 带逗号"\n{VALID_2}\n', "utf-8"),
    ],
)
def test_file_of_codes(tmp_path: Path, content: str, encoding: str) -> None:
    path = tmp_path / "codes.csv"
    path.write_bytes(content.encode(encoding))
    result = runner.invoke(app, ["code", "check", "--file", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["code"] for row in rows] == [VALID, VALID_2]


def test_file_with_invalid_code_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "codes.txt"
    path.write_text(f"{VALID}\n{INVALID}\n", encoding="utf-8")
    result = runner.invoke(app, ["code", "check", "--file", str(path)])
    assert result.exit_code == 1
    assert INVALID in result.output


def test_empty_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("统一社会信用代码\n", encoding="utf-8")
    assert (
        _refused("--file", str(path)).strip()
        == "错误 / error: 文件中没有代码 / no codes in the file"
    )


def test_binary_junk_file_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(bytes(range(256)) * 4)
    (line,) = _refused("--file", str(path)).strip().splitlines()
    assert str(path) in line and "cannot decode" in line


def test_help_ends_with_an_example_that_works() -> None:
    result = runner.invoke(app, ["code", "check", "--help"])
    assert result.exit_code == 0
    example = result.output.strip().splitlines()[-1].split("xinyong ", 1)[1].split()
    assert example == ["code", "check", VALID, "--json"]
    ran = runner.invoke(app, example)
    assert ran.exit_code == 0
    assert json.loads(ran.stdout)[0] | {"fields": None} == {
        "code": VALID,
        "valid": True,
        "kind": "uscc",
        "reason": None,
        "fields": None,
    }
