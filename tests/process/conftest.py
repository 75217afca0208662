"""Fixtures for due process and disclosure: a fresh database made by ``upgrade`` (what
``xinyong init`` does), rows written per test as small CSV files and loaded through the real
ingest, so the pipeline (link → lists → measures → feed) runs exactly as in production. Codes are
valid ones drawn once with a fixed seed from ``xinyong.codes``."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from xinyong.catalog import Catalog, default_catalog
from xinyong.ingest import ingest_file

#: Valid citizen numbers and USCCs (random.Random(11) through xinyong.codes.*.generate).
PERSON = "350102198206244620"
OTHER_PERSON = "411724195812068238"
ENTERPRISE = "91350100M000100Y43"

Load = Callable[..., Any]


@pytest.fixture()
def catalog() -> Catalog:
    return default_catalog()


def make_loader(engine: Engine, tmp_path: Path) -> Load:
    counter = iter(range(1000))

    def _load(record_type: str, rows: list[dict[str, Any]], source: str | None = None) -> Any:
        path = tmp_path / f"{record_type}_{next(counter)}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        catalog = default_catalog()
        rtype = catalog.record_types[record_type]
        result = ingest_file(engine, path, record_type, source or rtype.authority, catalog=catalog)
        assert result.rejected == 0, path.with_name(path.name + ".rejects.csv").read_text()
        return result

    return _load


@pytest.fixture()
def load(engine: Engine, tmp_path: Path) -> Load:
    """Write rows as a UTF-8 CSV with the record type's Chinese headers, then ingest it."""
    return make_loader(engine, tmp_path)


def defaulter(code: str, name: str, case: str, decided: str = "2024-03-05") -> dict[str, str]:
    return {
        "被执行人姓名/名称": name,
        "身份证号码/组织机构代码": code,
        "执行法院": "福州市鼓楼区人民法院",
        "案号": case,
        "失信被执行人行为具体情形": "违反财产报告制度的",
        "决定日期": decided,
    }


def penalty(code: str, name: str, doc: str, decided: str, severity: str = "一般") -> dict[str, str]:
    return {
        "行政相对人名称": name,
        "统一社会信用代码": code,
        "行政处罚决定书文号": doc,
        "处罚决定日期": decided,
        "处罚机关": "福州市市场监督管理局",
        "处罚内容": "罚款人民币二万元",
        "失信程度": severity,
    }
