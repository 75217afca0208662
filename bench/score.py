"""Batch scoring: the compiled points model in DuckDB against a bare hand-written aggregate.

Synthetic data made inside DuckDB: N subjects (default 10,000,000) and about 0.4 records each,
of the record types the Rongcheng-style model reads, with severities, decision dates in
2019–2025 and disclosure ends; the people's citizen numbers (about one in six under 18 on the
day, who get no grade: the model is ``adults_only``, hand-written in the baseline by the birth
digits). Both queries score every subject on the same date (output
``subject_id, score, grade``) and are checked to agree; each runs once to warm up and then
``--repeat`` times, interleaved, and the best time of each counts (the machine is shared). The
script prints both and the ratio.

Second, the copy stage of ``xinyong score --all`` on ``--copy-records`` records: disclosure ends
and condition fields computed in Python per record from their JSON (what the copy did before)
against the same in DuckDB SQL from the store's rows (``records_sql``), checked to agree.

Run: ``python bench/score.py`` (``--subjects 1000000`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from xinyong.catalog import default_catalog
from xinyong.catalog.model import Catalog, PointsSpec
from xinyong.catalog.periods import disclosure
from xinyong.score.batch import RAW_SCHEMA, compile_sql, condition_fields, records_sql
from xinyong.store.queries import StoredRecord

AT = date(2025, 6, 1)

BASELINE = """
WITH per_subject AS (
    SELECT subject_id,
      GREATEST(-150, SUM(CASE WHEN record_type = 'admin_penalty' AND f_severity = 'serious'
                               AND (ends_on IS NULL OR ends_on > DATE '2025-06-01')
                              THEN -50 ELSE 0 END))
    + GREATEST(-100, SUM(CASE WHEN record_type = 'admin_penalty' AND f_severity = 'general'
                               AND (ends_on IS NULL OR ends_on > DATE '2025-06-01')
                              THEN -20 ELSE 0 END))
    + GREATEST(-30, SUM(CASE WHEN record_type = 'admin_penalty' AND f_severity = 'minor'
                               AND (ends_on IS NULL OR ends_on > DATE '2025-06-01')
                              THEN -5 ELSE 0 END))
    + SUM(CASE WHEN (ends_on IS NULL OR ends_on > DATE '2025-06-01') THEN
            CASE record_type WHEN 'judgment_defaulter' THEN -100
                             WHEN 'consumption_restriction_order' THEN -50
                             WHEN 'abnormal_operation' THEN -10
                             WHEN 'tax_credit_rating' THEN
                                  CASE WHEN f_grade = 'A' THEN 20 ELSE 0 END
                             ELSE 0 END
          ELSE 0 END) AS points
    FROM records
    WHERE status NOT IN ('repaired', 'withdrawn') AND decided_on <= DATE '2025-06-01'
    GROUP BY subject_id
)
SELECT s.subject_id, GREATEST(1000 + COALESCE(points, 0), 0) AS score,
  CASE WHEN GREATEST(1000 + COALESCE(points, 0), 0) >= 1050 THEN 'AAA'
       WHEN GREATEST(1000 + COALESCE(points, 0), 0) >= 1030 THEN 'AA'
       WHEN GREATEST(1000 + COALESCE(points, 0), 0) >= 960 THEN 'A'
       WHEN GREATEST(1000 + COALESCE(points, 0), 0) >= 850 THEN 'B'
       WHEN GREATEST(1000 + COALESCE(points, 0), 0) >= 600 THEN 'C' ELSE 'D' END AS grade
FROM subjects s LEFT JOIN per_subject USING (subject_id)
"""
#: The hand-written baseline of ``adults_only``: a person born after 2007-06-01 (under 18 on
#: ``AT``) by digits 7–14 of the citizen number, trusting the codes (the store checked them).
BASELINE = f"""
SELECT b.subject_id, b.score,
       CASE WHEN s.kind = 'individual' AND CAST(SUBSTR(s.code, 7, 8) AS INTEGER) > 20070601
            THEN NULL ELSE b.grade END AS grade
FROM ({BASELINE}) b JOIN subjects s USING (subject_id)
"""


def make_data(duck: duckdb.DuckDBPyConnection, n: int) -> int:
    # Citizen numbers with valid check characters, born 1950–2019 (about one in six a minor
    # on AT), for the model's adults_only; enterprises get a USCC-shaped text.
    first17 = "'110101' || CAST(19500101 + (range % 70) * 10000 AS VARCHAR) || '001'"
    weighted = " + ".join(
        f"{w} * CAST(SUBSTR({first17}, {i}, 1) AS INTEGER)"
        for i, w in enumerate((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), 1)
    )
    person = f"{first17} || SUBSTR('10X98765432', ({weighted}) % 11 + 1, 1)"
    company = "'91110101' || LPAD(CAST(range AS VARCHAR), 10, '0')"
    duck.execute(
        f"CREATE TABLE subjects AS SELECT range AS subject_id, "
        f"CASE WHEN range % 10 < 7 THEN 'individual' ELSE 'enterprise' END AS kind, "
        f"CASE WHEN range % 10 < 7 THEN {person} ELSE {company} END AS code "
        f"FROM range({n})"
    )
    duck.execute(
        f"""
        CREATE TABLE records AS
        SELECT (hash(range) % {n})::BIGINT AS subject_id,
          CASE WHEN r < 0.30 THEN 'admin_penalty' WHEN r < 0.45 THEN 'judgment_defaulter'
               WHEN r < 0.55 THEN 'consumption_restriction_order'
               WHEN r < 0.75 THEN 'abnormal_operation' ELSE 'tax_credit_rating' END
            AS record_type,
          DATE '2019-01-01' + (hash(range * 7) % 2555)::INTEGER AS decided_on,
          CASE WHEN r < 0.30 THEN DATE '2019-01-01' + (hash(range * 7) % 2555)::INTEGER
                                  + INTERVAL 1 YEAR END::DATE AS ends_on,
          'active' AS status,
          CASE WHEN r < 0.30
               THEN ['minor', 'general', 'serious'][1 + (hash(range * 3) % 3)::INTEGER]
               END AS f_severity,
          CASE WHEN r >= 0.75 THEN ['A', 'B', 'M', 'C', 'D'][1 + (hash(range * 5) % 5)::INTEGER]
               END AS f_grade
        FROM (SELECT range, (hash(range * 13) % 1000) / 1000.0 AS r FROM range({int(n * 0.4)}))
        """
    )
    return int(duck.execute("SELECT count(*) FROM records").fetchone()[0])  # type: ignore[index]


def copy_stage(catalog: Catalog, n: int) -> None:
    """Disclosure ends and fields: Python per record against DuckDB SQL on the same rows."""
    model = catalog.scoring_models["rongcheng_points"]
    assert isinstance(model.spec, PointsSpec)
    rng = random.Random(7)
    types = ["admin_penalty", "judgment_defaulter", "consumption_restriction_order",
             "abnormal_operation", "tax_credit_rating", "major_tax_violation"]  # fmt: skip
    rows = []
    for i in range(n):
        decided = date(2019, 1, 1) + timedelta(days=rng.randrange(2555))
        fields: dict[str, Any] = {"severity": rng.choice(["minor", "general", "serious"]),
                                  "grade": rng.choice("ABMCD")}  # fmt: skip
        if rng.random() < 0.3:
            fields["published_on"] = (decided + timedelta(days=7)).isoformat()
        if rng.random() < 0.2:
            fields["removed_on"] = (decided + timedelta(days=400)).isoformat()
        rows.append(
            StoredRecord(i, rng.choice(types), "bench", i, None, "x", None, decided, decided,
                         None, fields, "active", 1, None, datetime(2020, 1, 1, tzinfo=UTC), None)
        )  # fmt: skip
    names = condition_fields(model.spec)
    texts = [json.dumps(r.fields) for r in rows]
    # Before: each row's JSON decoded into a StoredRecord, then ends and fields in Python.
    t = time.perf_counter()
    ends: list[date | None] = []
    extracted: list[list[Any]] = [[] for _ in names]
    for r, text in zip(rows, texts, strict=True):
        record = replace(r, fields=json.loads(text))
        ends.append(disclosure(catalog.record_types[record.record_type], record).first_hidden)
        for column, k in zip(extracted, names, strict=True):
            column.append(record.fields.get(k))
    python = time.perf_counter() - t
    raw = pa.table(
        {
            "subject_id": [r.subject_id for r in rows],
            "record_type": [r.record_type for r in rows],
            "decided_on": [r.decided_on for r in rows],
            "valid_from": [r.valid_from for r in rows],
            "valid_to": [r.valid_to for r in rows],
            "status": [r.status for r in rows],
            "fields": texts,
        },
        schema=RAW_SCHEMA,
    )
    duck = duckdb.connect()
    duck.execute("SET threads = 2")
    duck.register("records_raw", raw)
    t = time.perf_counter()
    got = duck.sql(f"SELECT * FROM ({records_sql(model, catalog)}) ORDER BY subject_id")
    got = got.to_arrow_table()
    sql = time.perf_counter() - t
    same = got.column("ends_on").to_pylist() == ends and all(
        got.column(f"f_{k}").to_pylist() == v for k, v in zip(names, extracted, strict=True)
    )
    print(f"copy stage, {n:,} records: Python per record {python:.2f}s, DuckDB SQL {sql:.2f}s "
          f"(ratio {python / sql:.1f}x); same ends and fields: {same}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copy-records", type=int, default=300_000)
    args = parser.parse_args()
    duck = duckdb.connect()
    duck.execute(f"SET threads = {args.threads}")
    t = time.perf_counter()
    rows = make_data(duck, args.subjects)
    print(f"{args.subjects:,} subjects, {rows:,} records made in {time.perf_counter() - t:.1f}s")
    catalog = default_catalog()
    ours_sql = compile_sql(catalog.scoring_models["rongcheng_points"], AT)
    runs: dict[str, list[float]] = {"baseline": [], "xinyong": []}
    for name, sql in (("baseline", BASELINE), ("xinyong", ours_sql)) * (args.repeat + 1):
        t = time.perf_counter()
        duck.execute(f"CREATE OR REPLACE TABLE out_{name} AS {sql}")
        runs[name].append(time.perf_counter() - t)
    # The first run of each warms up; the best of the others counts.
    timings = {name: min(times[1:]) for name, times in runs.items()}
    diff = duck.execute(
        "SELECT count(*) FROM out_xinyong x JOIN out_baseline b USING (subject_id) "
        "WHERE x.score <> b.score OR x.grade IS DISTINCT FROM b.grade"
    ).fetchone()
    print(f"hand-written DuckDB aggregate: {timings['baseline']:.2f}s")
    print(f"xinyong compiled model:        {timings['xinyong']:.2f}s")
    print(f"ratio: {timings['xinyong'] / timings['baseline']:.2f}x; disagreements: {diff[0]}")  # type: ignore[index]
    duck.close()
    if args.copy_records:
        copy_stage(catalog, args.copy_records)


if __name__ == "__main__":
    main()
