"""Fixtures for decisions: a fresh database made by ``xinyong init``'s ``upgrade`` and small
files written per test, loaded through the real ingest (so the pipeline's lists and measures
steps run exactly as in production). Codes are valid ones drawn once with a fixed seed."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from xinyong.catalog import default_catalog
from xinyong.cli import app
from xinyong.ingest import ingest_file

#: Valid citizen numbers and USCCs (drawn with random.Random(7) from xinyong.codes).
PERSON_A = "34031119770425075X"  # legal representative of ENTERPRISE
PERSON_B = "510321197409139316"  # director of ENTERPRISE (not a role that carries measures)
PERSON_C = "410183194908094280"  # same name as PERSON_A, no relation
PERSON_D = "130203199105010601"  # a defaulter
ENTERPRISE = "9121032350502514XX"
EXAMPLE_PERSON = "340405199011034461"

runner = CliRunner()

Load = Callable[[str, list[dict[str, Any]]], Any]


@pytest.fixture()
def load(engine: Engine, tmp_path: Path) -> Load:
    """Write rows as a UTF-8 CSV with the record type's Chinese headers, then ingest it."""
    counter = iter(range(1000))

    def _load(record_type: str, rows: list[dict[str, Any]], source: str | None = None) -> Any:
        path = tmp_path / f"{record_type}_{next(counter)}.csv"
        headers = list(rows[0])
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=headers)
            writer.writeheader()
            writer.writerows(rows)
        catalog = default_catalog()
        rtype = catalog.record_types[record_type]
        return ingest_file(engine, path, record_type, source or rtype.authority, catalog=catalog)

    return _load


def cli_check(db_url: str, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["check", *args, "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    decision: dict[str, Any] = json.loads(result.stdout)
    return decision


def defaulter(code: str | None, name: str, case: str, **extra: str) -> dict[str, str]:
    row = {
        "被执行人姓名/名称": name,
        "身份证号码/组织机构代码": code or "",
        "执行法院": "杭州市西湖区人民法院",
        "案号": case,
        "失信被执行人行为具体情形": "违反财产报告制度的",
        "决定日期": "2024-03-05",
    }
    row.update(extra)
    return row
