"""Batch scoring of a points model in DuckDB: one vectorised query, no Python loop per subject.

The model compiles to one SQL statement of the shape a person would write by hand: a
``GROUP BY subject_id`` over the records with one filtered ``SUM`` per rule (the first rule that
a record meets, as in :mod:`.ledger`), each held to the rule's cap, plus ``BOOL_OR`` per grade
rule; then base + sum, the floor and ceiling, the band and the grade rules, joined to every
subject (a subject without records scores the base).

Input relations (DuckDB tables or views): ``subjects(subject_id, kind)`` and
``records(subject_id, record_type, decided_on DATE, ends_on DATE, status, <one VARCHAR column per
field a condition names>)`` where ``ends_on`` is the first day the record is no longer disclosed
(NULL: no known end). :func:`load_store` fills them from the store as of ``at``/``known_at``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, func, or_, select

from xinyong.catalog.model import Catalog, Duration, PointsSpec, RecordCondition, ScoringModel
from xinyong.errors import UnusableInput
from xinyong.score.periods import disclosure_end
from xinyong.store.queries import StoredRecord, _record, _utc
from xinyong.store.tables import records, subjects


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _interval(duration: Duration) -> str:
    unit = {"d": "DAY", "m": "MONTH", "y": "YEAR"}.get(duration.unit)
    if unit is None:
        raise UnusableInput("批量评分不支持工作日期限 / batch scoring cannot use working days")
    return f"INTERVAL {duration.amount} {unit}"


def condition_fields(spec: PointsSpec) -> list[str]:
    conds: list[RecordCondition] = [*spec.rules, *(g.when for g in spec.grade_rules)]
    return sorted({k for c in conds for k in c.where})


def _condition_sql(cond: RecordCondition, at: str) -> str:
    parts = [f"record_type = {_lit(cond.record_type)}"]
    for key, wanted in cond.where.items():
        options = wanted if isinstance(wanted, list) else [wanted]
        values = ", ".join(_lit(str(o).lower() if isinstance(o, bool) else o) for o in options)
        parts.append(f'"f_{key}" IN ({values})')
    if cond.within is not None:
        parts.append(f"decided_on + {_interval(cond.within)} > {at}")
    return " AND ".join(parts)


def compile_sql(model: ScoringModel, at: date) -> str:
    """The one query that scores every subject under ``model`` on ``at``."""
    spec = model.spec
    if not isinstance(spec, PointsSpec):
        raise UnusableInput(
            f"批量评分只支持积分模型 / batch scoring needs a points model: {model.id}"
        )
    day = f"DATE {_lit(at.isoformat())}"
    rule_case = []
    for i, rule in enumerate(spec.rules):
        live = _condition_sql(rule, day)
        if rule.expires == "disclosure_period":
            live += f" AND (ends_on IS NULL OR ends_on > {day})"
        elif rule.expires != "never":
            live += f" AND decided_on + {_interval(rule.expires)} > {day}"
        rule_case.append(f"WHEN {live} THEN {i}")
    # Uncapped rules add up in one SUM; each capped rule needs a filtered SUM of its own.
    point_case = " ".join(f"WHEN {i} THEN {r.points}" for i, r in enumerate(spec.rules))
    sums = ["COALESCE(SUM(CASE WHEN capped THEN 0 ELSE pts END), 0)"]
    for i, rule in enumerate(spec.rules):
        if rule.cap is not None:
            total = f"COALESCE(SUM(pts) FILTER (WHERE rule = {i}), 0)"
            sums.append(f"GREATEST(LEAST({total}, {rule.cap}), -{rule.cap})")
    capped = ", ".join(str(i) for i, r in enumerate(spec.rules) if r.cap is not None) or "-1"
    flags = [
        f"BOOL_OR({_condition_sql(g.when, day)}) AS g{i}" for i, g in enumerate(spec.grade_rules)
    ]
    raw = f"{spec.base} + COALESCE(a.points, 0)"
    score = raw
    if spec.floor is not None:
        score = f"GREATEST({score}, {spec.floor})"
    if spec.ceiling is not None:
        score = f"LEAST({score}, {spec.ceiling})"
    bands = " ".join(
        f"WHEN score >= {b.min} THEN {_lit(b.grade)}" for b in spec.bands if b.min is not None
    )
    band = f"CASE {bands} ELSE {_lit(spec.bands[-1].grade)} END"
    order = spec.grade_order
    grade = band
    for i, g in enumerate(spec.grade_rules):
        if g.at_most is not None:
            rank = {k: n for n, k in enumerate(order)}
            worse = ", ".join(_lit(k) for k in order if rank[k] < rank[g.at_most])
            grade = (
                f"CASE WHEN COALESCE(g{i}, false) AND ({grade}) IN ({worse}) "
                f"THEN {_lit(g.at_most)} ELSE ({grade}) END"
            )
    for i, g in reversed(list(enumerate(spec.grade_rules))):
        if g.grade is not None:
            grade = f"CASE WHEN COALESCE(g{i}, false) THEN {_lit(g.grade)} ELSE ({grade}) END"
    kinds = ", ".join(_lit(k) for k in model.subject_kinds)
    flag_cols = "".join(f", {f}" for f in flags)
    flag_names = ", ".join(f"g{i}" for i in range(len(spec.grade_rules)))
    return f"""
WITH ruled AS (
    SELECT *, CASE {" ".join(rule_case)} END AS rule
    FROM records
    WHERE status NOT IN ('repaired', 'withdrawn')
      AND (decided_on IS NULL OR decided_on <= {day})
),
counted AS (
    SELECT *, CASE rule {point_case} ELSE 0 END AS pts, rule IN ({capped}) AS capped
    FROM ruled
),
per_subject AS (
    SELECT subject_id, {" + ".join(sums)} AS points{flag_cols}
    FROM counted
    GROUP BY subject_id
),
scored AS (
    SELECT s.subject_id, s.kind, {score} AS score{", " + flag_names if flag_names else ""}
    FROM subjects s LEFT JOIN per_subject a USING (subject_id)
)
SELECT subject_id, {_lit(model.id)} AS model, {day} AS at, score,
       CASE WHEN kind IN ({kinds}) THEN {grade} END AS grade
FROM scored
"""


def records_held(
    conn: Connection, at: date, known_at: datetime | None, record_types: list[str]
) -> list[StoredRecord]:
    """Every linked record of these types that held on ``at``, as known on ``known_at`` (the
    filters of ``records_for``, for all subjects in one query)."""
    query = select(records).where(
        records.c.subject_id.is_not(None),
        records.c.record_type.in_(record_types),
        records.c.status != "withdrawn",
    )
    if known_at is None:
        query = query.where(records.c.superseded_at.is_(None))
    else:
        k = _utc(known_at)
        query = query.where(
            records.c.recorded_at <= k,
            or_(records.c.superseded_at.is_(None), records.c.superseded_at > k),
        )
    start = func.coalesce(records.c.valid_from, records.c.decided_on)
    query = query.where(
        or_(start.is_(None), start <= at),
        or_(records.c.valid_to.is_(None), records.c.valid_to >= at),
    )
    return [_record(row) for row in conn.execute(query)]


def load_store(
    duck: duckdb.DuckDBPyConnection,
    conn: Connection,
    model: ScoringModel,
    catalog: Catalog,
    at: date,
    known_at: datetime | None = None,
) -> int:
    """Copy the subjects and their records held on ``at`` into DuckDB (through Arrow)."""
    assert isinstance(model.spec, PointsSpec)
    fields = condition_fields(model.spec)
    wanted = {r.record_type for r in model.spec.rules} | {
        g.when.record_type for g in model.spec.grade_rules
    }
    people = conn.execute(select(subjects.c.id, subjects.c.kind, subjects.c.primary_code)).all()
    subject_table = pa.table(
        {
            "subject_id": pa.array([p.id for p in people], pa.int64()),
            "kind": pa.array([p.kind for p in people], pa.string()),
            "code": pa.array([p.primary_code for p in people], pa.string()),
        }
    )
    columns: dict[str, list[Any]] = {
        k: [] for k in ("subject_id", "record_type", "decided_on", "ends_on", "status")
    }
    for name in fields:
        columns[f"f_{name}"] = []
    for rec in records_held(conn, at, known_at, sorted(wanted)):
        if rec.subject_id is None:
            continue
        rtype = catalog.record_types[rec.record_type]
        columns["subject_id"].append(rec.subject_id)
        columns["record_type"].append(rec.record_type)
        columns["decided_on"].append(rec.decided_on or rec.valid_from)
        columns["ends_on"].append(disclosure_end(rtype, rec))
        columns["status"].append(rec.status)
        for name in fields:
            value = rec.fields.get(name)
            columns[f"f_{name}"].append(
                None
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
    types = {"subject_id": pa.int64(), "decided_on": pa.date32(), "ends_on": pa.date32()}
    record_table = pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in columns.items()})
    duck.register("subjects_arrow", subject_table)
    duck.register("records_arrow", record_table)
    duck.execute("CREATE OR REPLACE TABLE subjects AS SELECT * FROM subjects_arrow")
    duck.execute("CREATE OR REPLACE TABLE records AS SELECT * FROM records_arrow")
    return len(people)


def score_all(
    conn: Connection,
    model: ScoringModel,
    catalog: Catalog,
    at: date,
    out: Path,
    known_at: datetime | None = None,
) -> int:
    """Score every subject of the store under ``model``; write ``out`` (.parquet or .csv)."""
    if out.suffix not in (".parquet", ".csv"):
        raise UnusableInput(
            f"输出文件须为 .parquet 或 .csv / --out must end in .parquet or .csv: {out}"
        )
    duck = duckdb.connect()
    try:
        count = load_store(duck, conn, model, catalog, at, known_at)
        query = (
            "SELECT s.code AS subject, r.model, r.at, r.score, r.grade "
            f"FROM ({compile_sql(model, at)}) r JOIN subjects s USING (subject_id) ORDER BY s.code"
        )
        kind = "PARQUET" if out.suffix == ".parquet" else "CSV, HEADER"
        target = str(out).replace("'", "''")
        duck.execute(f"COPY ({query}) TO '{target}' (FORMAT {kind})")
    finally:
        duck.close()
    return count
