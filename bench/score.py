"""Batch scoring: the compiled points model in DuckDB against a bare hand-written aggregate.

Synthetic data made inside DuckDB: N subjects (default 10,000,000) and about 0.4 records each,
of the record types the Rongcheng-style model reads, with severities, decision dates in
2019–2025 and disclosure ends. Both queries score every subject on the same date and are checked
to agree; the script prints both times and the ratio.

Run: ``python bench/score.py`` (``--subjects 1000000`` for a quick look).
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import duckdb

from xinyong.catalog import default_catalog
from xinyong.score.batch import compile_sql

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


def make_data(duck: duckdb.DuckDBPyConnection, n: int) -> int:
    duck.execute(
        f"CREATE TABLE subjects AS SELECT range AS subject_id, "
        f"CASE WHEN range % 10 < 7 THEN 'individual' ELSE 'enterprise' END AS kind "
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    duck = duckdb.connect()
    duck.execute(f"SET threads = {args.threads}")
    t = time.perf_counter()
    rows = make_data(duck, args.subjects)
    print(f"{args.subjects:,} subjects, {rows:,} records made in {time.perf_counter() - t:.1f}s")
    model = default_catalog().scoring_models["rongcheng_points"]
    ours_sql = compile_sql(model, AT)
    timings = {}
    for name, sql in (("baseline", BASELINE), ("xinyong", ours_sql)) * 2:
        t = time.perf_counter()
        duck.execute(f"CREATE OR REPLACE TABLE out_{name} AS {sql}")
        timings[name] = time.perf_counter() - t  # the second run of each counts (warm)
    diff = duck.execute(
        "SELECT count(*) FROM out_xinyong x JOIN out_baseline b USING (subject_id) "
        "WHERE x.score <> b.score OR x.grade IS DISTINCT FROM b.grade"
    ).fetchone()
    print(f"hand-written DuckDB aggregate: {timings['baseline']:.2f}s")
    print(f"xinyong compiled model:        {timings['xinyong']:.2f}s")
    print(f"ratio: {timings['xinyong'] / timings['baseline']:.2f}x; disagreements: {diff[0]}")  # type: ignore[index]


if __name__ == "__main__":
    main()
