"""``xinyong catalog show|check``: output, JSON and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from xinyong.catalog import default_catalog
from xinyong.cli import app

runner = CliRunner()
GOLF = """\
actions:
  buy_golf_membership:
    name_zh: 购买高尔夫会籍
    name_en: buy golf membership
"""
GOSSIP = """\
record_types:
  gossip:
    name_zh: 八卦
    name_en: gossip
    category: social_media
"""


def test_show_summary_lists_every_section() -> None:
    result = runner.invoke(app, ["catalog", "show"])
    assert result.exit_code == 0, result.output
    assert default_catalog().version in result.output
    for word in ("judgment_defaulter", "consumption_restricted", "buy_flight_ticket", "spc"):
        assert word in result.output


def test_show_summary_json() -> None:
    result = runner.invoke(app, ["catalog", "show", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["version"] == default_catalog().version
    assert data["counts"]["record_types"] == len(data["record_types"])
    assert any(row["id"] == "judgment_defaulter" for row in data["record_types"])


def test_show_one_list_as_json_with_its_legal_basis() -> None:
    result = runner.invoke(app, ["catalog", "show", "judgment_defaulters", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id"] == "judgment_defaulters"
    assert data["polarity"] == "black"
    assert data["period"]["length"] == "2y"
    citations = [item["citation"] for item in data["legal_basis_resolved"]]
    assert "法释〔2017〕7号 第一条" in citations
    assert "consumption_restriction_flight" not in data["measures"]
    assert "serious_dishonesty_flight_ban" in data["measures"]


def test_show_one_measure_as_text() -> None:
    result = runner.invoke(app, ["catalog", "show", "consumption_restriction_flight"])
    assert result.exit_code == 0
    assert "法释〔2015〕17号" in result.output
    assert "legal_representative" in result.output


def test_show_unknown_id_exits_2() -> None:
    result = runner.invoke(app, ["catalog", "show", "social_credit_score"])
    assert result.exit_code == 2
    assert "social_credit_score" in result.output


def test_check_valid_directory(tmp_path: Path) -> None:
    (tmp_path / "extra.yaml").write_text(
        GOLF,
        encoding="utf-8",
    )
    result = runner.invoke(app, ["catalog", "check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"action {len(default_catalog().actions) + 1}" in result.output  # the shipped + golf


def test_check_invalid_directory_exits_2_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        GOSSIP,
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "xinyong", "catalog", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert f"{tmp_path / 'bad.yaml'}:5" in proc.stderr
    assert "record_type:gossip" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_show_with_operator_catalog(tmp_path: Path) -> None:
    (tmp_path / "extra.yaml").write_text(
        GOLF,
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["catalog", "show", "buy_golf_membership", "--catalog", str(tmp_path)]
    )
    assert result.exit_code == 0
    assert "购买高尔夫会籍" in result.output


def test_the_docs_example_is_a_valid_operator_file(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "catalog.md").read_text(encoding="utf-8")
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "village.yaml").write_text(example, encoding="utf-8")
    result = runner.invoke(app, ["catalog", "check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (tmp_path / "village.yaml").write_text(
        example + "    role_linked: [spouse]\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "xinyong", "catalog", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "village.yaml:16 [measure:defaulter_golf_ban]" in proc.stderr
    assert "spouse" in proc.stderr
