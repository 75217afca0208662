"""Batch work written once gives the same rows on DuckDB and on Spark.

The same inputs go through :mod:`xinyong.batch.jobs` on both engines: screening (codes of every
kind, valid and corrupted the ways people corrupt them, against an index with every effect) and
points-model batch scoring (random records of every type a shipped model reads). The DuckDB rows
are first held to the single-item truth (``reason_of`` per code, the ledger's grades being
reached), so equal rows on Spark mean right rows on Spark, not merely the same mistakes.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pytest
from tests.batch.conftest import PANDAS_WARNING
from tests.score.test_batch import subject_code

from xinyong.batch import jobs
from xinyong.batch.dialects import transpile
from xinyong.batch.engines import BatchEngine, DuckDBEngine, SparkEngine
from xinyong.catalog import default_catalog
from xinyong.catalog.model import Catalog, FieldType, PointsSpec
from xinyong.codes import orgcode, ric, uscc
from xinyong.codes.identifiers import reason_of
from xinyong.errors import UnusableInput
from xinyong.score.batch import RAW_SCHEMA, record_types_read

pytestmark = pytest.mark.filterwarnings(PANDAS_WARNING)

_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F) if c != 0x2D}
KINDS = ("enterprise", "individual", "sole_trader", "organisation", "government")


def _corrupted(code: str, rng: random.Random) -> list[str]:
    i = rng.randrange(len(code))
    return [
        code,
        code[:i] + rng.choice("0123456789AXZIO@中ａ") + code[i + 1 :],
        code[:-1],
        code + rng.choice("19X"),
        code.lower(),
        f" {code[:6]}-{code[6:]}\t",
        "".join(_FULL_WIDTH.get(ch, ch) for ch in code),
        code + "\n",
    ]


def screen_inputs() -> tuple[pa.Table, pa.Table]:
    """Codes (``n, raw``) and an index naming some of them, with every effect and end."""
    rng = random.Random(18)
    codes: list[str | None] = [None, "", "   ", "中文", "9" * 18, "1" * 17 + "X"]
    index: list[tuple[str, str, date | None, str]] = []
    for _ in range(150):
        person = ric.generate(rng)
        company = uscc.generate(rng)
        for code in (company, orgcode.generate(rng), person, person[:6] + person[8:17]):
            codes.extend(_corrupted(code, rng))
        for code in (person, company, company[8:17]):
            for _ in range(rng.choice((0, 0, 1, 2))):
                effect = rng.choice(("deny", "review", "prefer"))
                until = date(2027, 1, 1) + timedelta(days=rng.randrange(900))
                index.append((code, effect, until if rng.random() < 0.7 else None, f"m{effect}"))
    rng.shuffle(codes)
    table = pa.table(
        {"n": pa.array(range(len(codes)), pa.int64()), "raw": pa.array(codes, pa.string())},
        schema=jobs.CODES_SCHEMA,
    )
    columns = list(zip(*index, strict=True))
    return table, pa.table([pa.array(c) for c in columns], schema=jobs.INDEX_SCHEMA)


def score_inputs(
    catalog: Catalog, types: list[str], n: int, seed: str
) -> tuple[pa.Table, pa.Table]:
    """Subjects and raw store rows (``RAW_SCHEMA``): enum values, dates, repaired records."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for _ in range(n * 3):
        rtype = catalog.record_types[rng.choice(types)]
        decided = date(2018, 1, 1) + timedelta(days=rng.randrange(3000))
        fields: dict[str, Any] = {}
        for spec in rtype.fields:
            if spec.type is FieldType.ENUM and spec.enum and rng.random() < 0.9:
                fields[spec.name] = rng.choice([e.id for e in spec.enum] + ["D"])
            elif spec.type is FieldType.DATE and spec.name != "decided_on" and rng.random() < 0.4:
                fields[spec.name] = (decided + timedelta(days=rng.randrange(-30, 900))).isoformat()
        if rng.random() < 0.05:
            fields["published_on"] = "not a date"
        rows.append(
            {
                "subject_id": rng.randrange(n),
                "record_type": rtype.id,
                "decided_on": decided if rng.random() < 0.97 else None,
                "valid_from": decided if rng.random() < 0.7 else None,
                "valid_to": decided + timedelta(days=rng.randrange(30, 2500))
                if rng.random() < 0.2
                else None,
                "status": rng.choice(("active", "active", "under_objection", "repaired")),
                "fields": json.dumps(fields, ensure_ascii=False),
            }
        )
    kinds = [rng.choice(KINDS) for _ in range(n)]
    subjects = pa.table(
        {
            "subject_id": pa.array(range(n), pa.int64()),
            "kind": pa.array(kinds, pa.string()),
            # Codes with people under 18 around the days scored (models with adults_only).
            "code": pa.array([subject_code(rng, k, date(2023, 9, 1)) for k in kinds], pa.string()),
        }
    )
    return subjects, pa.Table.from_pylist(rows, schema=RAW_SCHEMA)


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows as plain values (engines may pick different integer widths for the same number)."""
    columns = [c.to_pylist() for c in table.columns]
    return [
        tuple(int(v) if isinstance(v, int) else v for v in row)
        for row in zip(*columns, strict=True)
    ]


def test_screen_rows_are_right_on_duckdb(duckdb_engine: DuckDBEngine) -> None:
    codes, index = screen_inputs()
    got = jobs.screen_table(duckdb_engine, codes, index)
    assert got.column_names == ["n", "code", "outcome", "until", "measures"]
    assert got.column("n").to_pylist() == list(range(len(codes)))
    restricted = {row["code"] for row in index.to_pylist()}
    for row in got.to_pylist():
        _, compacted, problem = reason_of(row["code"] or "")
        if problem is not None:
            assert (row["outcome"], row["measures"]) == ("invalid", problem), row
        elif row["outcome"] == "permit":
            assert compacted not in restricted, row
    outcomes = set(got.column("outcome").to_pylist())
    assert outcomes == {"permit", "deny", "review", "prefer", "invalid"}


def test_screen_is_the_same_on_spark(
    duckdb_engine: DuckDBEngine, spark_engine: SparkEngine
) -> None:
    codes, index = screen_inputs()
    on_duckdb = _rows(jobs.screen_table(duckdb_engine, codes, index))
    on_spark = _rows(jobs.screen_table(spark_engine, codes, index))
    assert len(on_spark) == len(codes)
    for mine, theirs in zip(on_duckdb, on_spark, strict=True):
        assert mine == theirs


@pytest.mark.parametrize(
    ("model_id", "at"),
    [("rongcheng_points", date(2022, 3, 1)), ("tax_credit_grade", date(2025, 6, 1))],
)
def test_batch_scores_are_the_same_on_spark(
    duckdb_engine: DuckDBEngine, spark_engine: SparkEngine, model_id: str, at: date
) -> None:
    catalog = default_catalog()
    model = catalog.scoring_models[model_id]
    assert isinstance(model.spec, PointsSpec)
    subjects, raw = score_inputs(catalog, record_types_read(model.spec), 400, model_id)
    on_duckdb = _rows(jobs.score_table(duckdb_engine, model, catalog, at, subjects, raw))
    on_spark = _rows(jobs.score_table(spark_engine, model, catalog, at, subjects, raw))
    assert [r[0] for r in on_duckdb] == list(range(400))
    assert len({r[2] for r in on_duckdb}) >= 3  # several grades reached, not only the base one
    assert len({r[1] for r in on_duckdb}) >= 5
    assert on_spark == on_duckdb


def test_parquet_in_and_out_on_both_engines(
    tmp_path: Any, duckdb_engine: DuckDBEngine, spark_engine: SparkEngine
) -> None:
    import pyarrow.parquet as pq

    codes, index = screen_inputs()
    source = tmp_path / "codes.parquet"
    pq.write_table(codes, source)
    results = []
    engine: BatchEngine
    for name, engine in (("duckdb", duckdb_engine), ("spark", spark_engine)):
        out = tmp_path / f"{name}.parquet"
        jobs.screen_parquet(engine, [source], index, out)
        table = pq.read_table(out).sort_by("n")  # Spark writes a directory of parts
        results.append(_rows(table.select(["n", "code", "outcome", "until", "measures"])))
    assert results[0] == results[1]
    assert len(results[0]) == len(codes)


def test_transpile_rewrites_what_spark_lacks() -> None:
    sql = (
        "SELECT regexp_full_match(v, '[0-9]{17}[0-9X]') AS a, "
        "try_strptime(substr(v, 7, 8), '%Y%m%d')::DATE AS b, left(v, -1) AS c, x // 10 AS d FROM t"
    )
    spark = transpile(sql, "spark")
    assert "v RLIKE '^(?:[0-9]{17}[0-9X])\\\\z'" in spark
    assert "TRY_TO_TIMESTAMP(SUBSTRING(v, 7, 8), 'yyyyMMdd')" in spark
    assert "SUBSTRING(v, 1, LENGTH(v) - 1)" in spark
    assert "x DIV 10" in spark
    assert transpile(sql, "duckdb") == sql


@pytest.mark.parametrize(
    "sql",
    ["SELECT try_strptime(v, '%j') FROM t", "SELECT try_strptime(v, fmt) FROM t", "SELECT (("],
)
def test_transpile_refuses_what_it_cannot_carry_over(sql: str) -> None:
    with pytest.raises(UnusableInput):
        transpile(sql, "spark")


def test_spark_missing_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from xinyong.batch import engines

    monkeypatch.setattr(engines.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    reason = engines.spark_missing()
    assert reason is not None
    assert "Java" in reason or "PySpark" in reason
    with pytest.raises(UnusableInput):
        engines.spark_session()


def test_scoring_from_parquet_files_matches_arrow_on_both_engines(
    tmp_path: Any, duckdb_engine: DuckDBEngine, spark_engine: SparkEngine
) -> None:
    import pyarrow.parquet as pq

    catalog = default_catalog()
    model = catalog.scoring_models["rongcheng_points"]
    assert isinstance(model.spec, PointsSpec)
    at = date(2023, 9, 1)
    subjects, raw = score_inputs(catalog, record_types_read(model.spec), 300, "files")
    pq.write_table(subjects, tmp_path / "subjects.parquet")
    pq.write_table(raw, tmp_path / "raw.parquet")
    expected = _rows(jobs.score_table(duckdb_engine, model, catalog, at, subjects, raw))
    engine: BatchEngine
    for name, engine in (("duckdb", duckdb_engine), ("spark", spark_engine)):
        out = tmp_path / f"{name}-scores.parquet"
        jobs.score_files(
            engine,
            model,
            catalog,
            at,
            [tmp_path / "subjects.parquet"],
            [tmp_path / "raw.parquet"],
            out,
        )
        assert _rows(pq.read_table(out).sort_by("subject_id")) == expected, name


def test_scoring_for_adults_needs_the_subjects_codes(
    tmp_path: Any, duckdb_engine: DuckDBEngine
) -> None:
    """A model with adults_only reads the citizen number's birth date: a subjects file without
    a ``code`` column is refused with the reason, not scored as if everyone were an adult."""
    import pyarrow.parquet as pq

    catalog = default_catalog()
    model = catalog.scoring_models["rongcheng_points"]
    assert model.adults_only is not None and isinstance(model.spec, PointsSpec)
    subjects, raw = score_inputs(catalog, record_types_read(model.spec), 20, "no codes")
    pq.write_table(subjects.drop_columns(["code"]), tmp_path / "subjects.parquet")
    pq.write_table(raw, tmp_path / "raw.parquet")
    with pytest.raises(UnusableInput, match="code"):
        jobs.score_files(duckdb_engine, model, catalog, date(2023, 9, 1),
                         [tmp_path / "subjects.parquet"], [tmp_path / "raw.parquet"],
                         tmp_path / "out.parquet")  # fmt: skip
    assert not (tmp_path / "out.parquet").exists()
