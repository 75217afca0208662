"""Credit reports: sections, audiences, masking, verification codes, PDF that renders Chinese."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.process.conftest import ENTERPRISE, PERSON, defaulter, make_loader, penalty
from typer.testing import CliRunner

from xinyong import audit
from xinyong.catalog import Catalog
from xinyong.cli import app
from xinyong.disclose import issue_report, verify_report
from xinyong.disclose.report import cjk_font_available

runner = CliRunner()
AT = date(2024, 6, 3)


@pytest.fixture()
def filled(sqlite_engine: Engine, tmp_path: Path) -> Engine:
    load = make_loader(sqlite_engine, tmp_path)
    load("judgment_defaulter", [defaulter(PERSON, "王伟", "（2024）闽0102执9号")], source="court")
    load(
        "admin_penalty",
        [penalty(ENTERPRISE, "福州某某贸易有限公司", "榕市监罚〔2024〕12号", "2024-01-10")],
    )
    return sqlite_engine


def test_public_json_report_masks_and_verifies(filled: Engine, catalog: Catalog) -> None:
    with filled.begin() as conn:
        data, code = issue_report(conn, catalog, PERSON, fmt="json", audience="public", at=AT)
    report = json.loads(data)
    assert report["verification"]["code"] == code
    assert report["identity"]["code"] == "3501**********4620"
    assert PERSON not in data.decode()
    assert [r["record_type"] for r in report["records"]] == ["judgment_defaulter"]
    assert report["lists"]["available"] and report["lists"]["entries"][0]["measures"]
    assert report["queries"] is None  # the query history is the subject's own
    with filled.begin() as conn:
        assert verify_report(conn, data).reason == "genuine"
        # Re-indented, still the same document.
        assert verify_report(conn, json.dumps(report, indent=4).encode()).genuine
        report["records"][0]["status"] = "withdrawn"
        assert verify_report(conn, json.dumps(report).encode()).reason == "altered"
        report["verification"]["code"] = "XY20240603-000000000000"
        assert verify_report(conn, json.dumps(report).encode()).reason == "unknown"
        # The public read is not audited; nothing about PERSON in the chain.
        assert audit.events_for_subject(conn, PERSON) == []


def test_subject_report_shows_full_code_and_query_history(filled: Engine, catalog: Catalog) -> None:
    with filled.begin() as conn:
        data, _ = issue_report(
            conn, catalog, PERSON, fmt="json", audience="subject", at=AT, actor="王伟",
            purpose="本人查询",
        )  # fmt: skip
    report = json.loads(data)
    assert report["identity"]["code"] == PERSON
    assert [(q["actor"], q["action"]) for q in report["queries"]] == [("王伟", "report.issue")]


def test_html_report_is_chinese_first_and_english_on_request(
    filled: Engine, catalog: Catalog
) -> None:
    with filled.begin() as conn:
        zh, code = issue_report(conn, catalog, ENTERPRISE, fmt="html", at=AT)
        en, _ = issue_report(conn, catalog, ENTERPRISE, fmt="html", lang="en", at=AT)
        assert verify_report(conn, zh).genuine
        tampered = zh.replace("榕市监罚〔2024〕12号".encode(), "榕市监罚〔2024〕13号".encode())
        assert verify_report(conn, tampered).reason == "altered"
    text = zh.decode()
    assert "公共信用信息报告" in text and code in text and "行政处罚" in text
    assert "Public Credit Information Report" in en.decode()


@pytest.mark.skipif(not cjk_font_available(), reason="no CJK font (apt-get install fonts-noto-cjk)")
def test_pdf_report_renders_chinese_and_verifies_by_file_hash(
    filled: Engine, catalog: Catalog, artifacts_dir: Path, tmp_path: Path
) -> None:
    with filled.begin() as conn:
        data, code = issue_report(conn, catalog, ENTERPRISE, fmt="pdf", at=AT)
        assert data.startswith(b"%PDF")
        assert verify_report(conn, data).genuine
        assert verify_report(conn, data[:-20] + b"%%EOF\n" + data[-14:]).reason == "unknown"
    out = artifacts_dir / "credit-report-zh.pdf"
    out.write_bytes(data)
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils missing: cannot read the PDF's text back")
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    # Text extracted from the PDF is Chinese (glyphs embedded from a CJK font, not tofu).
    assert "公共信用信息报告" in text and "福州某某贸易有限公司" in text and code in text
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True)
    assert "CJK" in fonts.stdout
    page = str(artifacts_dir / "credit-report-zh")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out), page], check=True
    )


def test_cli_report_and_verify_exit_codes(filled: Engine, tmp_path: Path) -> None:
    url = str(filled.url)
    out = tmp_path / "r.json"
    args = ["report", ENTERPRISE, "--format", "json", "--out", str(out), "--at", "2024-06-03"]
    result = runner.invoke(app, [*args, "--db", url])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["report", "verify", str(out), "--db", url]).exit_code == 0
    # The name, which every report shows whatever the day (a public report on a past day shows
    # only what is public today too, issue 16).
    out.write_text(
        out.read_text(encoding="utf-8").replace("福州某某贸易", "福州某某商贸"), encoding="utf-8"
    )
    assert runner.invoke(app, ["report", "verify", str(out), "--db", url]).exit_code == 1
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\xff\xfe\x00garbage")
    bad = runner.invoke(app, ["report", "verify", str(junk), "--db", url])
    assert bad.exit_code == 2
    assert bad.output.strip() == (
        "错误 / error: 输入无法使用 / unusable input: "
        "不是本平台出具的报告格式 / not a report format the platform issues"
    )
    for args in (
        ["report", "123", "--db", url],
        ["report", ENTERPRISE, "--format", "docx", "--db", url],
        ["report", ENTERPRISE, "--as", "journalist", "--db", url],
        ["report", ENTERPRISE, "--as", "agency", "--purpose", " ", "--db", url],  # no purpose
        ["report", ENTERPRISE, "--at", "June", "--db", url],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
    missing = runner.invoke(app, ["report", "91110000100000000A", "--db", url])
    assert missing.exit_code == 2
