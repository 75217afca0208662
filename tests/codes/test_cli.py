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
    assert run(VALID).returncode == 0
    assert run(INVALID).returncode == 1
    for args in ([], ["--kind", "iban", VALID], ["--file", str(tmp_path / "missing.txt")]):
        proc = run(*args)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr


def test_missing_and_unreadable_files_exit_2_with_one_line(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.csv", tmp_path):
        proc = run("--file", str(path))
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


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
    proc = run("--file", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
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
    proc = run("--file", str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_binary_junk_file_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(bytes(range(256)) * 4)
    proc = run("--file", str(path))
    assert proc.returncode in {1, 2}
    assert "Traceback" not in proc.stderr


def test_help_ends_with_an_example() -> None:
    result = runner.invoke(app, ["code", "check", "--help"])
    assert result.exit_code == 0
    assert "xinyong code check 91350100M000100Y43" in result.output
