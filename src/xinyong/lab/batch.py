"""The lab's harm arithmetic on the batch layer: written once in SQL, run on DuckDB or Spark.

:func:`xinyong.lab.harm.evaluate` is the reference (Python over the rows); this module gives the
same :class:`~xinyong.lab.harm.PolicyResult` counts from SQL run on a
:class:`~xinyong.batch.BatchEngine`. The split:

- **Linking stays in Python** (:func:`~xinyong.lab.harm.link_rows`): code lookups and the
  counterfactual name and pinyin matchers. It yields a *links* table, one row per (policy, row,
  subject, method), with the truth (``truth_links`` over the clean rows) as the policy
  ``truth``.
- **The engine does the rest**: each link becomes a record (:data:`RECORDS_SCHEMA` of
  ``xinyong.lists.batch``) and the platform's list rules compiled to SQL
  (``lists.batch.entries_sql``) make its black-list entries; then, for every policy and every
  date at once, the entries in force (``valid_from <= at <= valid_to``, ``valid_to`` the last
  day, inclusive; NULL open), the punishment measures they put on subjects and, role-linked, on
  an organisation's legal representative, and the comparison with the truth.

Semantics are those of ``harm._compare``, count for count; where it keeps a Python ``set`` the
SQL keeps ``DISTINCT`` rows, where it keeps a list (``multiplier``: a measure that applies to an
organisation and also reaches its representative counts twice) the SQL keeps every row. The
means (``multiplier``, ``agencies``) come back as integer sums and are divided and rounded here,
as ``_compare`` rounds them, so no engine's floating point enters. Parity with ``evaluate`` and
between the engines: ``tests/lab/test_harm_batch.py``.

Relations (built here as Arrow; the large ones staged as Parquet, see :func:`prepare_harm`):
``xy_subjects(subject_id, kind, rep_id)`` (the subjects linked and their representatives),
``xy_observed(row_no, subject_id, error, truth_type, truth_no)``, ``xy_clean(row_no,
truth_type, truth_no)``, ``xy_links(record_id, policy, row_no, subject_id, method)``,
``xy_reach(list_id, measure_id, agency, kind, target)``, ``xy_days(on_day)``,
``xy_policies(policy)``, and the list rules' ``records`` and working-day calendar.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from xinyong.batch.engines import BatchEngine
from xinyong.batch.jobs import prepare_calendar
from xinyong.catalog import Catalog
from xinyong.lab.errors import ERROR_KINDS
from xinyong.lab.harm import (
    COUNTERFACTUAL,
    LabRun,
    Link,
    PolicyResult,
    Population,
    Row,
    link_rows,
    measures_by_list,
    reaches,
    series_dates,
    truth_links,
)
from xinyong.lists.batch import RECORDS_SCHEMA, entries_sql

__all__ = [
    "TRUTH",
    "evaluate_batch",
    "harm_counts",
    "links_table",
    "prepare_harm",
    "reach_table",
    "records_table",
    "rows_table",
    "subjects_table",
]

#: The policy name the truth's links carry in ``xy_links`` (not a linking policy).
TRUTH = "truth"

SUBJECTS_SCHEMA = pa.schema(
    [("subject_id", pa.int64()), ("kind", pa.string()), ("rep_id", pa.int64())]
)
ROWS_SCHEMA = pa.schema(
    [
        ("row_no", pa.int64()),
        ("subject_id", pa.int64()),
        ("error", pa.string()),
        ("truth_type", pa.string()),
        ("truth_no", pa.int64()),
    ]
)
LINKS_SCHEMA = pa.schema(
    [
        ("record_id", pa.int64()),
        ("policy", pa.string()),
        ("row_no", pa.int64()),
        ("subject_id", pa.int64()),
        ("method", pa.string()),
    ]
)
REACH_SCHEMA = pa.schema(
    [
        ("list_id", pa.string()),
        ("measure_id", pa.string()),
        ("agency", pa.string()),
        ("kind", pa.string()),
        ("target", pa.string()),
    ]
)


# ---------------------------------------------------------------------------------------------
# Inputs as Arrow


def subjects_table(population: Population, only: Iterable[int] | None = None) -> pa.Table:
    """Subjects (every one, or those in ``only``, ascending): id, kind, and the legal
    representative role-linked measures reach."""
    ids: Sequence[int] = range(1, population.size + 1) if only is None else sorted(set(only))
    return pa.table(
        [
            pa.array(ids, pa.int64()),
            pa.array([population.kind[i] for i in ids], pa.string()),
            pa.array([population.rep.get(i) for i in ids], pa.int64()),
        ],
        schema=SUBJECTS_SCHEMA,
    )


def rows_table(rows: Sequence[Row]) -> pa.Table:
    """Rows (clean or observed) as the comparison reads them: the truth's subject and error."""
    return pa.table(
        [
            pa.array([r.index for r in rows], pa.int64()),
            pa.array([r.subject_id for r in rows], pa.int64()),
            pa.array([r.error for r in rows], pa.string()),
            pa.array([r.truth_key[0] for r in rows], pa.string()),
            pa.array([r.truth_key[1] for r in rows], pa.int64()),
        ],
        schema=ROWS_SCHEMA,
    )


def links_table(links: Sequence[tuple[str, Link]]) -> pa.Table:
    """(policy, link) pairs; ``record_id`` is the position, the record each link becomes."""
    return pa.table(
        [
            pa.array(range(len(links)), pa.int64()),
            pa.array([p for p, _ in links], pa.string()),
            pa.array([link.row for _, link in links], pa.int64()),
            pa.array([link.subject_id for _, link in links], pa.int64()),
            pa.array([link.method for _, link in links], pa.string()),
        ],
        schema=LINKS_SCHEMA,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def records_table(
    links: Sequence[tuple[str, Link]], clean: Sequence[Row], observed: Sequence[Row]
) -> pa.Table:
    """One record per link, as ``harm.record_view`` sees a linked row (and ``ingest`` stores
    it): status ``active``, valid from ``valid_from`` or the decision or publication date,
    valid to ``valid_until``; the truth's links read the clean rows, the policies' the observed.
    ``record_key`` is the record id: a row a name policy links to several subjects makes one
    record per subject."""
    texts: dict[tuple[bool, int], str] = {}
    columns: dict[str, list[Any]] = {name: [] for name in RECORDS_SCHEMA.names}
    for record_id, (policy, link) in enumerate(links):
        is_truth = policy == TRUTH
        row = (clean if is_truth else observed)[link.row]
        values = row.values
        text = texts.get((is_truth, link.row))
        if text is None:
            text = texts[(is_truth, link.row)] = json.dumps(
                values, ensure_ascii=False, default=_json_value, sort_keys=True
            )
        columns["record_id"].append(record_id)
        columns["record_key"].append(str(record_id))
        columns["record_type"].append(row.record_type)
        columns["subject_id"].append(link.subject_id)
        columns["status"].append("active")
        columns["decided_on"].append(values.get("decided_on"))
        columns["valid_from"].append(
            values.get("valid_from") or values.get("decided_on") or values.get("published_on")
        )
        columns["valid_to"].append(values.get("valid_until"))
        columns["fields"].append(text)
    return pa.table(
        [pa.array(columns[f.name], f.type) for f in RECORDS_SCHEMA], schema=RECORDS_SCHEMA
    )


def reach_table(catalog: Catalog, kinds: Sequence[str]) -> pa.Table:
    """Which punishment measures an entry on a list puts on a subject of each kind
    (``target`` ``self``) and on the legal representative of one (``rep``): ``harm.restrictions``
    and ``harm.reaches`` as data."""
    out: list[tuple[str, str, str, str, str]] = []
    for list_id, measures in measures_by_list(catalog).items():
        for measure in measures:
            for kind in kinds:
                if kind in measure.applies_to:
                    out.append((list_id, measure.id, measure.implementing_agency, kind, "self"))
                if reaches(measure, kind):
                    out.append((list_id, measure.id, measure.implementing_agency, kind, "rep"))
    columns = list(zip(*out, strict=True)) if out else [(), (), (), (), ()]
    return pa.table([pa.array(c, pa.string()) for c in columns], schema=REACH_SCHEMA)


# ---------------------------------------------------------------------------------------------
# The SQL (DuckDB dialect; transpiled for Spark by the engine)


def black_entries_sql(catalog: Catalog) -> str:
    """Black-list entries of every link: the list rules' entries joined back to their links."""
    black = sorted(k for k, v in catalog.lists.items() if v.polarity == "black")
    names = ", ".join("'" + k.replace("'", "''") + "'" for k in black) or "NULL"
    return f"""
SELECT l.policy, l.row_no, l.subject_id, s.kind, s.rep_id, l.method, e.list_id, e.valid_from,
       e.valid_to
FROM ({entries_sql(catalog, records="records")}) AS e
JOIN xy_links AS l ON l.record_id = e.record_id
JOIN xy_subjects AS s ON s.subject_id = l.subject_id
WHERE e.list_id IN ({names})
"""


#: Entries in force on each day: ``valid_from <= day <= valid_to`` (``Entry.holds``).
ACTIVE_SQL = """
SELECT d.on_day, e.policy, e.row_no, e.subject_id, e.kind, e.rep_id, e.method, e.list_id
FROM xy_entries AS e
JOIN xy_days AS d ON e.valid_from <= d.on_day AND (e.valid_to IS NULL OR d.on_day <= e.valid_to)
"""

#: The (subject, measure) restrictions those entries make, each with the entry behind it.
RESTRICTIONS_SQL = """
SELECT a.on_day, a.policy, a.row_no, a.subject_id AS listed_id, a.method, a.list_id,
       CASE WHEN m.target = 'self' THEN a.subject_id ELSE a.rep_id END AS subject_id,
       m.measure_id
FROM xy_active AS a
JOIN xy_reach AS m ON m.list_id = a.list_id AND m.kind = a.kind
WHERE m.target = 'self' OR a.rep_id IS NOT NULL
"""

PAIRS_SQL = "SELECT DISTINCT on_day, policy, subject_id, measure_id FROM xy_restrictions"

#: Restrictions the truth lacks, with the cause (``harm._compare``) and the row's error.
WRONG_SQL = """
SELECT r.on_day, r.policy, r.subject_id, r.measure_id,
       CASE WHEN r.listed_id <> o.subject_id
            THEN CASE WHEN r.method = 'name' THEN 'linking' ELSE 'source' END
            ELSE 'overdue' END AS cause,
       COALESCE(o.error, 'none') AS error
FROM xy_restrictions AS r
JOIN xy_observed AS o ON o.row_no = r.row_no
LEFT JOIN (SELECT on_day, subject_id, measure_id FROM xy_pairs WHERE policy = 'truth') AS t
  ON t.on_day = r.on_day AND t.subject_id = r.subject_id AND t.measure_id = r.measure_id
WHERE r.policy <> 'truth' AND t.subject_id IS NULL
"""

#: Per policy: truth pairs it lacks, with the error of the observed row behind the truth row
#: (the last non-duplicate row of that truth key, as ``_compare``'s dict keeps it).
MISSED_SQL = """
WITH truth_pairs AS (
  SELECT on_day, subject_id, measure_id FROM xy_pairs WHERE policy = 'truth'
), missing AS (
  SELECT p.policy, t.on_day, t.subject_id, t.measure_id
  FROM truth_pairs AS t CROSS JOIN xy_policies AS p
  LEFT JOIN xy_pairs AS o
    ON o.policy = p.policy AND o.on_day = t.on_day AND o.subject_id = t.subject_id
   AND o.measure_id = t.measure_id
  WHERE o.subject_id IS NULL
), last_error AS (
  SELECT truth_type, truth_no, error FROM (
    SELECT truth_type, truth_no, error,
           ROW_NUMBER() OVER (PARTITION BY truth_type, truth_no ORDER BY row_no DESC) AS n
    FROM xy_observed WHERE error IS NULL OR error <> 'duplicate'
  ) AS ranked WHERE n = 1
)
SELECT DISTINCT m.policy, m.on_day, m.subject_id, m.measure_id,
       COALESCE(le.error, 'none') AS error
FROM missing AS m
JOIN xy_restrictions AS r
  ON r.policy = 'truth' AND r.on_day = m.on_day AND r.subject_id = m.subject_id
 AND r.measure_id = m.measure_id
JOIN xy_clean AS c ON c.row_no = r.row_no
LEFT JOIN last_error AS le ON le.truth_type = c.truth_type AND le.truth_no = c.truth_no
"""

#: Entries in force that the truth does not have, or that sit on the wrong subject.
WRONG_ENTRIES_SQL = """
SELECT a.on_day, a.policy, a.row_no, a.subject_id, a.list_id,
       CASE WHEN o.subject_id <> a.subject_id OR o.error = 'stale' THEN 1 ELSE 0 END AS objection
FROM xy_active AS a
JOIN xy_observed AS o ON o.row_no = a.row_no
LEFT JOIN (SELECT DISTINCT on_day, subject_id, list_id FROM xy_active WHERE policy = 'truth') AS t
  ON t.on_day = a.on_day AND t.subject_id = a.subject_id AND t.list_id = a.list_id
WHERE a.policy <> 'truth' AND (t.subject_id IS NULL OR o.subject_id <> a.subject_id)
"""

#: One row per (policy, day): every count of ``PolicyResult`` but ``by_error``.
SUMMARY_SQL = """
WITH grid AS (
  SELECT p.policy, d.on_day FROM xy_policies AS p CROSS JOIN xy_days AS d
), causes AS (
  SELECT on_day, policy, subject_id,
         MAX(CASE WHEN cause = 'linking' THEN 1 ELSE 0 END) AS linking,
         MAX(CASE WHEN cause = 'source' THEN 1 ELSE 0 END) AS source,
         MAX(CASE WHEN cause = 'overdue' THEN 1 ELSE 0 END) AS overdue
  FROM xy_wrong GROUP BY on_day, policy, subject_id
), harmed AS (
  SELECT c.on_day, c.policy,
         SUM(c.linking) AS wrongly_restricted,
         SUM(CASE WHEN c.linking = 1 AND s.kind = 'individual' THEN 1 ELSE 0 END)
           AS wrongly_restricted_individuals,
         SUM(CASE WHEN c.linking = 0 AND c.source = 1 THEN 1 ELSE 0 END)
           AS wrongly_restricted_by_source,
         SUM(CASE WHEN c.linking = 0 AND c.source = 0 THEN 1 ELSE 0 END) AS overdue
  FROM causes AS c JOIN xy_subjects AS s ON s.subject_id = c.subject_id
  GROUP BY c.on_day, c.policy
), missed_people AS (
  SELECT DISTINCT on_day, policy, subject_id FROM xy_missed
), missed AS (
  SELECT m.on_day, m.policy, COUNT(*) AS missed,
         SUM(CASE WHEN s.kind = 'individual' THEN 1 ELSE 0 END) AS missed_individuals
  FROM missed_people AS m JOIN xy_subjects AS s ON s.subject_id = m.subject_id
  GROUP BY m.on_day, m.policy
), missed_pairs AS (
  SELECT on_day, policy, COUNT(*) AS missed_restrictions
  FROM (SELECT DISTINCT on_day, policy, subject_id, measure_id FROM xy_missed) AS x
  GROUP BY on_day, policy
), restricted AS (
  SELECT on_day, policy, COUNT(*) AS restricted
  FROM (SELECT DISTINCT on_day, policy, subject_id FROM xy_pairs) AS x
  GROUP BY on_day, policy
), truly AS (
  SELECT on_day, restricted AS truly_restricted FROM restricted WHERE policy = 'truth'
), wrong_pairs AS (
  SELECT on_day, policy, COUNT(*) AS wrong_restrictions
  FROM (SELECT DISTINCT on_day, policy, subject_id, measure_id FROM xy_wrong) AS x
  GROUP BY on_day, policy
), listings AS (
  SELECT DISTINCT on_day, policy, subject_id, list_id FROM xy_wrong_entries
), listing_reach AS (
  SELECT l.on_day, l.policy, l.subject_id, l.list_id,
         COUNT(m.measure_id) AS measures, COUNT(DISTINCT m.agency) AS agencies
  FROM listings AS l
  JOIN xy_subjects AS s ON s.subject_id = l.subject_id
  LEFT JOIN xy_reach AS m
    ON m.list_id = l.list_id AND m.kind = s.kind
   AND (m.target = 'self' OR s.rep_id IS NOT NULL)
  GROUP BY l.on_day, l.policy, l.subject_id, l.list_id
), multiplied AS (
  SELECT on_day, policy, COUNT(*) AS wrong_listings, SUM(measures) AS measures,
         SUM(agencies) AS agencies
  FROM listing_reach GROUP BY on_day, policy
), objections AS (
  SELECT on_day, policy, COUNT(*) AS objections_needed
  FROM (SELECT DISTINCT on_day, policy, row_no, subject_id FROM xy_wrong_entries
        WHERE objection = 1) AS x
  GROUP BY on_day, policy
)
SELECT g.policy, g.on_day,
       COALESCE(h.wrongly_restricted, 0) AS wrongly_restricted,
       COALESCE(h.wrongly_restricted_individuals, 0) AS wrongly_restricted_individuals,
       COALESCE(h.wrongly_restricted_by_source, 0) AS wrongly_restricted_by_source,
       COALESCE(h.overdue, 0) AS overdue,
       COALESCE(mi.missed, 0) AS missed,
       COALESCE(mi.missed_individuals, 0) AS missed_individuals,
       COALESCE(r.restricted, 0) AS restricted,
       COALESCE(t.truly_restricted, 0) AS truly_restricted,
       COALESCE(w.wrong_restrictions, 0) AS wrong_restrictions,
       COALESCE(mp.missed_restrictions, 0) AS missed_restrictions,
       COALESCE(x.wrong_listings, 0) AS wrong_listings,
       COALESCE(o.objections_needed, 0) AS objections_needed,
       COALESCE(x.measures, 0) AS measures,
       COALESCE(x.agencies, 0) AS agencies
FROM grid AS g
LEFT JOIN harmed AS h ON h.on_day = g.on_day AND h.policy = g.policy
LEFT JOIN missed AS mi ON mi.on_day = g.on_day AND mi.policy = g.policy
LEFT JOIN missed_pairs AS mp ON mp.on_day = g.on_day AND mp.policy = g.policy
LEFT JOIN restricted AS r ON r.on_day = g.on_day AND r.policy = g.policy
LEFT JOIN truly AS t ON t.on_day = g.on_day
LEFT JOIN wrong_pairs AS w ON w.on_day = g.on_day AND w.policy = g.policy
LEFT JOIN multiplied AS x ON x.on_day = g.on_day AND x.policy = g.policy
LEFT JOIN objections AS o ON o.on_day = g.on_day AND o.policy = g.policy
"""

#: Per (policy, day, error kind): people wrongly restricted through a row with that error,
#: people missed because of it.
BY_ERROR_SQL = """
WITH wrong AS (
  SELECT on_day, policy, error, COUNT(*) AS wrongly_restricted
  FROM (SELECT DISTINCT on_day, policy, error, subject_id FROM xy_wrong) AS x
  GROUP BY on_day, policy, error
), missed AS (
  SELECT on_day, policy, error, COUNT(*) AS missed
  FROM (SELECT DISTINCT on_day, policy, error, subject_id FROM xy_missed) AS x
  GROUP BY on_day, policy, error
)
SELECT COALESCE(w.policy, m.policy) AS policy, COALESCE(w.on_day, m.on_day) AS on_day,
       COALESCE(w.error, m.error) AS error,
       COALESCE(w.wrongly_restricted, 0) AS wrongly_restricted, COALESCE(m.missed, 0) AS missed
FROM wrong AS w
FULL OUTER JOIN missed AS m
  ON m.on_day = w.on_day AND m.policy = w.policy AND m.error = w.error
"""

#: The relations :func:`evaluate_batch` keeps, in order: each read by the next ones.
STEPS: tuple[tuple[str, str], ...] = (
    ("xy_active", ACTIVE_SQL),
    ("xy_restrictions", RESTRICTIONS_SQL),
    ("xy_pairs", PAIRS_SQL),
    ("xy_wrong", WRONG_SQL),
    ("xy_missed", MISSED_SQL),
    ("xy_wrong_entries", WRONG_ENTRIES_SQL),
)


# ---------------------------------------------------------------------------------------------
# The job


def _links(run: LabRun, policies: Sequence[str]) -> list[tuple[str, Link]]:
    out: list[tuple[str, Link]] = [(TRUTH, link) for link in truth_links(run.clean)]
    for policy in policies:
        out.extend((policy, link) for link in link_rows(run.population, run.observed, policy))
    return out


def _stage(engine: BatchEngine, name: str, table: pa.Table, stage: Path) -> None:
    """Load ``table`` as ``name`` through a Parquet file in ``stage``. On Spark an Arrow table
    becomes a local relation that the optimizer evaluates on the driver wherever a query reads
    it (the records are read by every list of the list rules: at 100,000 subjects the driver ran
    out of heap); a file is scanned by the executors like any input."""
    path = stage / f"{name}.parquet"
    pq.write_table(table, path)
    engine.load_parquet(name, [path])


def prepare_harm(
    engine: BatchEngine,
    run: LabRun,
    policies: Sequence[str],
    days: Sequence[date],
    stage: Path,
) -> None:
    """Link in Python, load every input (the large ones as Parquet files written to ``stage``,
    a directory the engine can read until the counts are fetched: on a cluster, storage its
    executors share), and keep the list entries of every link."""
    links = _links(run, policies)
    kinds = sorted(set(run.population.kind[1:]))
    linked = {link.subject_id for _, link in links}
    reps = (run.population.rep.get(s) for s in linked)
    _stage(engine, "records", records_table(links, run.clean, run.observed), stage)
    prepare_calendar(engine, run.catalog)
    _stage(engine, "xy_links", links_table(links), stage)
    # Only the subjects the comparison can meet: those linked, and their representatives.
    subjects = subjects_table(run.population, linked.union(r for r in reps if r))
    _stage(engine, "xy_subjects", subjects, stage)
    _stage(engine, "xy_observed", rows_table(run.observed), stage)
    _stage(engine, "xy_clean", rows_table(run.clean), stage)
    engine.load("xy_reach", reach_table(run.catalog, kinds))
    engine.load("xy_days", pa.table({"on_day": pa.array(sorted(set(days)), pa.date32())}))
    engine.load("xy_policies", pa.table({"policy": pa.array(list(policies), pa.string())}))
    engine.keep("xy_entries", black_entries_sql(run.catalog))


def _mean(total: int, n: int) -> float:
    return round(total / n, 3) if n else 0.0


def harm_counts(
    engine: BatchEngine, run: LabRun, policies: Sequence[str]
) -> dict[tuple[str, date], PolicyResult]:
    """Every policy's result on every day (after :func:`prepare_harm`)."""
    for name, sql in STEPS:
        engine.keep(name, sql)
    by_error: dict[tuple[str, date], dict[str, dict[str, int]]] = {}
    for row in engine.fetch(BY_ERROR_SQL).to_pylist():
        kinds = by_error.setdefault((row["policy"], row["on_day"]), _empty_by_error())
        kinds.setdefault(row["error"], {"wrongly_restricted": 0, "missed": 0})
        kinds[row["error"]]["wrongly_restricted"] = int(row["wrongly_restricted"])
        kinds[row["error"]]["missed"] = int(row["missed"])
    out: dict[tuple[str, date], PolicyResult] = {}
    for row in engine.fetch(SUMMARY_SQL).to_pylist():
        policy, day = str(row["policy"]), row["on_day"]
        n = int(row["wrong_listings"])
        out[(policy, day)] = PolicyResult(
            policy=policy,
            subjects=run.population.size,
            at=day.isoformat(),
            wrongly_restricted=int(row["wrongly_restricted"]),
            wrongly_restricted_individuals=int(row["wrongly_restricted_individuals"]),
            wrongly_restricted_by_source=int(row["wrongly_restricted_by_source"]),
            overdue=int(row["overdue"]),
            missed=int(row["missed"]),
            missed_individuals=int(row["missed_individuals"]),
            restricted=int(row["restricted"]),
            truly_restricted=int(row["truly_restricted"]),
            wrong_restrictions=int(row["wrong_restrictions"]),
            missed_restrictions=int(row["missed_restrictions"]),
            wrong_listings=n,
            objections_needed=int(row["objections_needed"]),
            multiplier=_mean(int(row["measures"]), n),
            agencies=_mean(int(row["agencies"]), n),
            by_error=by_error.get((policy, day), _empty_by_error()),
            counterfactual=policy in COUNTERFACTUAL,
        )
    return out


def _empty_by_error() -> dict[str, dict[str, int]]:
    return {k: {"wrongly_restricted": 0, "missed": 0} for k in (*ERROR_KINDS, "none")}


def evaluate_batch(
    engine: BatchEngine,
    run: LabRun,
    policies: Sequence[str],
    at: date,
    *,
    series_points: int = 0,
    stage: Path | None = None,
) -> tuple[list[PolicyResult], dict[str, list[dict[str, Any]]]]:
    """What :func:`xinyong.lab.harm.evaluate` returns, computed on ``engine``: every policy and
    every date (``at`` and the series) in one pass of the SQL. Inputs are staged as Parquet in
    ``stage`` (default: a temporary directory on this machine, removed after)."""
    points = series_dates(run.start, run.end, series_points) if series_points else []
    with tempfile.TemporaryDirectory(prefix="xinyong-harm-") as temporary:
        prepare_harm(engine, run, policies, [at, *points], stage or Path(temporary))
        counts = harm_counts(engine, run, policies)
    results = [counts[(policy, at)] for policy in policies]
    series: dict[str, list[dict[str, Any]]] = {}
    if series_points:
        for policy in policies:
            series[policy] = [
                {
                    "at": day.isoformat(),
                    "wrongly_restricted": r.wrongly_restricted,
                    "wrongly_restricted_by_source": r.wrongly_restricted_by_source,
                    "overdue": r.overdue,
                    "missed": r.missed,
                    "restricted": r.restricted,
                }
                for day in points
                for r in (counts[(policy, day)],)
            ]
    return results, series
