"""``generate`` and ``xinyong lab generate``: files, determinism, catalog fit, ingestion."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from xinyong.catalog import FieldType, default_catalog
from xinyong.cli import app
from xinyong.codes import ric, uscc
from xinyong.lab import FORMATS, generate
from xinyong.lab.rates import rate_for
from xinyong.lab.writers import chinese_headers

START, END = date(2019, 1, 1), date(2025, 12, 31)


def digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lab") / "a"
    generate(
        out,
        subjects=20_000,
        seed=11,
        formats=FORMATS,
        start=START,
        end=END,
        catalog=default_catalog(),
    )
    return out


@pytest.mark.slow
def test_same_seed_same_bytes_other_seed_other_bytes(run: Path, tmp_path: Path) -> None:
    generate(
        tmp_path / "b",
        subjects=20_000,
        seed=11,
        formats=FORMATS,
        start=START,
        end=END,
        catalog=default_catalog(),
    )
    generate(
        tmp_path / "c",
        subjects=20_000,
        seed=12,
        formats=["parquet"],
        start=START,
        end=END,
        catalog=default_catalog(),
    )
    assert digest(run) == digest(tmp_path / "b")
    assert digest(run)["truth.parquet"] != digest(tmp_path / "c")["truth.parquet"]


def test_every_record_type_gets_rows_that_fit_the_catalog(run: Path) -> None:
    catalog = default_catalog()
    subjects = pq.read_table(run / "subjects.parquet", columns=["kind"]).column("kind")
    kinds = Counter(subjects.to_pylist())
    for type_id, record_type in catalog.record_types.items():
        rows = pq.read_table(run / "records" / f"{type_id}.parquet").to_pylist()
        rate = rate_for(record_type)
        eligible = sum(n for kind, n in kinds.items() if kind in record_type.subject_kinds)
        per_year = max(rate.individual, rate.organisation)
        if rate.once or eligible * per_year * 7 * 0.5 >= 10:  # ≥ 10 expected, even at half
            assert rows, type_id
        for row in rows[:500]:
            for spec in record_type.fields:
                value = row[spec.name]
                if value is None:
                    assert not spec.required, (type_id, spec.name)
                    continue
                if spec.type is FieldType.ENUM:
                    assert value in {v.id for v in spec.enum or ()}, (type_id, spec.name)
                elif spec.type is FieldType.DATE:
                    assert isinstance(value, date)
                elif spec.type is FieldType.SUBJECT_CODE:
                    assert ric.is_valid(value) or uscc.is_valid(value), value
            if not rate_for(record_type).once:  # registration facts keep their own dates
                assert START <= row["decided_on"] <= END


def test_truth_names_the_subject_of_every_row(run: Path) -> None:
    truth = pq.read_table(run / "truth.parquet").to_pylist()
    subjects = {r["subject_id"]: r for r in pq.read_table(run / "subjects.parquet").to_pylist()}
    assert len(subjects) == 20_000
    rows = pq.read_table(run / "records" / "judgment_defaulter.parquet").to_pylist()
    mine = [t for t in truth if t["record_type"] == "judgment_defaulter"]
    assert len(mine) == len(rows)
    for fact, row in zip(mine, rows, strict=True):
        subject = subjects[fact["subject_id"]]
        assert row["subject_code"] == subject["code"] == fact["subject_code"]
        assert row["document_no"] == fact["document_no"]
        if subject["kind"] == "individual":  # minors are never listed (法释〔2017〕7号 art. 4)
            assert (row["decided_on"] - subject["birth_date"]).days >= 18 * 365


def test_gbk_file_has_chinese_headers_and_labels(run: Path) -> None:
    record_type = default_catalog().record_types["judgment_defaulter"]
    path = run / "records" / "judgment_defaulter.gbk.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    with path.open(encoding="gbk", newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == chinese_headers(record_type)
        first = next(reader)
    labels = {v.label_zh for v in record_type.field("ground").enum or ()}
    assert first[[f.name for f in record_type.fields].index("ground")] in labels


def test_generated_files_ingest_without_rejects(run: Path, tmp_path: Path) -> None:
    pytest.importorskip("xinyong.ingest", reason="ingestion has not landed")
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'lab.db'}"
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    # Each from an authority the catalog's ``sources`` permit (a court, a market regulator).
    for type_id, source in (("judgment_defaulter", "spc"), ("admin_penalty", "samr")):
        for suffix in (".gbk.csv", ".jsonl"):
            result = runner.invoke(
                app,
                [
                    "ingest",
                    str(run / "records" / f"{type_id}{suffix}"),
                    "--type",
                    type_id,
                    "--source",
                    source,
                    "--db",
                    db,
                    "--json",
                ],
            )
            assert result.exit_code == 0, result.output
            assert json.loads(result.output)["rejected"] == 0


def test_cli_prints_a_summary_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["lab", "generate", "--subjects", "1500", "--seed", "3", "--out", str(out)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["subjects"] == 1500 and summary["rows_per_second"] > 0
    assert set(summary["records"]) == set(default_catalog().record_types)
    text = runner.invoke(app, [*args, "--format", "xlsx"])
    assert text.exit_code == 0 and "rows/s" in text.output
    assert (out / "records" / "judgment_defaulter.xlsx").exists()


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (["--subjects", "0"], "subjects must be 1 to 10,000,000"),
        (["--subjects", "20000000"], "subjects must be 1 to 10,000,000"),
        (["--format", "docx"], "unknown format docx (choose from csv,"),
        (["--start", "2025-13-01"], "--start must be a date YYYY-MM-DD, not '2025-13-01'"),
        (["--start", "2025-01-01", "--end", "2024-01-01"], "start is after end"),
    ],
)
def test_bad_options_exit_2_with_one_line(bad: list[str], says: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["lab", "generate", "--out", str(tmp_path / "x"), *bad])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("错误 / error: ") and says in line, line
    assert not (tmp_path / "x").exists(), "nothing is written"
