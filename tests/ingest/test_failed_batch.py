"""A load that fails once started leaves a ``failed`` batch with its reason, and nothing else."""

from __future__ import annotations

import json
import random
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from xinyong.catalog import default_catalog
from xinyong.cli import app
from xinyong.codes import ric
from xinyong.ingest import ingest_file, load
from xinyong.ingest.readers import SNIFF_BYTES
from xinyong.link.attach import WRITTEN
from xinyong.store.tables import batches, provenance, records, rejects

HEADER = ["被执行人姓名/名称", "身份证号码/组织机构代码", "执行法院", "案号",
          "失信被执行人行为具体情形", "发布时间"]  # fmt: skip
runner = CliRunner()


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def rows(n: int, seed: int = 1) -> list[list[str]]:
    rng = random.Random(seed)
    return [
        [
            f"被执行人{i}",
            ric.generate(rng),
            "北京市海淀区人民法院",
            f"（2024）京0108执{i}号",
            "违反财产报告制度的",
            "2024-03-05",
        ]
        for i in range(n)
    ]


def batch_rows(db_url: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["ingest-batches", "--json", "--db", db_url])
    assert result.exit_code == 0, result.stderr
    listed: list[dict[str, Any]] = json.loads(result.stdout)
    return listed


def ingest_cli(db_url: str, path: Path) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["ingest", str(path), "--type", "judgment_defaulter", "--source", "spc", "--db", db_url],
    )
    return result.exit_code, result.stderr


def broken_xlsx(path: Path, data: list[list[str]], break_at_row: int) -> Path:
    """An XLSX whose worksheet XML is cut off inside row ``break_at_row`` (a damaged upload)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    whole = path.with_suffix(".whole.xlsx")
    book.save(whole)
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                cut = content.index(f'<row r="{break_at_row}"'.encode())
                content = content[: cut + 40]
            out.writestr(item, content)
    return path


def test_an_xlsx_that_breaks_at_row_3_leaves_a_failed_batch(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = broken_xlsx(tmp_path / "defaulters.xlsx", rows(5), break_at_row=3)
    code, err = ingest_cli(db_url, path)
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "marked failed" in err and "cannot be read after row 2" in err
    assert count(engine, records) == count(engine, provenance) == count(engine, rejects) == 0
    (batch,) = batch_rows(db_url)
    assert batch["state"] == "failed" and batch["file_name"] == "defaulters.xlsx"
    assert batch["accepted"] == 0 and batch["finished_at"] is not None
    assert "第 2 行" in batch["failure"] and "cannot be read after row 2" in batch["failure"]
    assert not list(tmp_path.glob("*.rejects.csv*"))
    # The table the CLI prints shows the reason too.
    shown = runner.invoke(app, ["ingest-batches", "--db", db_url])
    assert f"batch {batch['batch']} failed: " in shown.stdout and "XLSX" in shown.stdout


def test_invalid_utf8_after_the_first_chunk_leaves_a_failed_batch(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    good = rows(4000)
    text = "\n".join(",".join(r) for r in [HEADER, *good]) + "\n"
    body = text.encode("utf-8")
    assert len(body) > SNIFF_BYTES  # the encoding is detected from a sample that is fine
    path = tmp_path / "defaulters.csv"
    path.write_bytes(body + "坏行,".encode() + b"\xff\xfe\xfa" + ",法院,（2024）1号\n".encode())
    code, err = ingest_cli(db_url, path)
    assert code == 2 and "does not decode" in err and "marked failed" in err
    assert count(engine, records) == 0
    (batch,) = batch_rows(db_url)
    assert batch["state"] == "failed" and "does not decode as utf-8" in batch["failure"]


def test_an_exception_mid_load_leaves_a_failed_batch_then_a_rerun_completes(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "defaulters.csv"
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows(30)]) + "\n", encoding="utf-8")
    monkeypatch.setattr(load, "CHUNK_ROWS", 10)
    calls = {"n": 0}
    real = load.pipeline.apply_records

    def flaky(*args: Any, **kwargs: Any) -> set[int]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated failure in a pipeline step")
        return real(*args, **kwargs)

    monkeypatch.setattr(load.pipeline, "apply_records", flaky)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_file(engine, path, "judgment_defaulter", "spc", catalog=default_catalog())
    assert count(engine, records) == count(engine, provenance) == 0
    with engine.connect() as conn:
        (failed,) = conn.execute(select(batches)).all()
    assert failed.state == "failed" and failed.accepted == 0
    assert failed.failure.startswith("已读 20 行，至第 21 行 / after 20 rows, at row 21")
    assert "RuntimeError: simulated failure in a pipeline step" in failed.failure
    with engine.connect() as conn:  # nothing handed from ingest to linking outlives the load
        assert WRITTEN not in conn.info
    assert not [t for t in threading.enumerate() if t.name == "xinyong-ingest-read"]
    monkeypatch.setattr(load.pipeline, "apply_records", real)
    result = ingest_file(engine, path, "judgment_defaulter", "spc", catalog=default_catalog())
    assert (result.accepted, result.rejected) == (30, 0)
    assert [b["state"] for b in batch_rows(db_url)] == ["done", "failed"]


def test_a_file_unusable_before_loading_starts_leaves_no_batch(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "defaulters.xlsx"
    broken_xlsx(path, rows(3), break_at_row=2)  # not even the first data row can be read
    code, err = ingest_cli(db_url, path)
    assert code == 2 and "cannot be read after row 1" in err and "marked failed" not in err
    assert count(engine, batches) == 0


def test_batches_listing_empty_and_filtered(engine: Engine, db_url: str) -> None:
    assert runner.invoke(app, ["ingest-batches", "--db", db_url]).stdout.startswith("没有批次")
    result = runner.invoke(app, ["ingest-batches", "--source", "spc", "--json", "--db", db_url])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_the_old_name_batches_still_lists_and_says_which_name_to_use(
    engine: Engine, db_url: str
) -> None:
    result = runner.invoke(app, ["batches", "--source", "spc", "--json", "--db", db_url])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert "xinyong ingest-batches" in result.stderr
    shown = runner.invoke(app, ["batches", "--help"])
    assert shown.exit_code == 0 and "xinyong ingest-batches" in shown.stdout
    assert "│ batches " not in runner.invoke(app, ["--help"]).stdout  # hidden: one name per job
