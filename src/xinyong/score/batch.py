"""Batch scoring of a points model in DuckDB: one vectorised query, no Python loop per subject.

The model compiles to one SQL statement of the shape a person would write by hand: a
``GROUP BY subject_id`` over the records with one ``SUM`` for every uncapped rule together and one
``SUM`` per capped rule, each held to its cap, plus ``BOOL_OR`` per grade rule; then the score
once (base + sum, floor, ceiling), the band and the grade rules as ranks, joined to every
subject (a subject without records scores the base).

A record counts under the *first* rule it meets (as in :mod:`.ledger`). Rules of different record
types never compete, so the first-match order is written per record type
(``CASE record_type WHEN … THEN CASE WHEN <first rule> … END``) and a capped rule carries only the
earlier rules of its own type; where every rule expires the same way the liveness test is
written once, outside the ``CASE``.

Input relations (DuckDB tables or views): ``subjects(subject_id, kind)`` (and ``code``, the
subject's primary code, for a model with ``adults_only``: a person under 18 on ``at`` by the
citizen number gets no grade, ``ric.is_minor_on_sql``) and
``records(subject_id, record_type, decided_on DATE, ends_on DATE, status, <one VARCHAR column
``f_NAME`` per field a condition names>)`` where ``ends_on`` is the first day the record is no
longer disclosed (NULL: no known end). :func:`load_store` fills them from the store as of
``at``/``known_at``: the rows leave the store through Arrow untouched (fields as JSON text), and
DuckDB computes the disclosure ends and extracts the fields in one statement
(:func:`records_sql`) with the SQL :mod:`xinyong.catalog.periods` generates from the same rule
as its Python (``ends_on`` is ``disclosure(…).first_hidden``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, Text, cast, func, or_, select

from xinyong.catalog.law import in_force_sql
from xinyong.catalog.model import (
    Catalog,
    Dated,
    PointsRule,
    PointsSpec,
    RecordCondition,
    RecordType,
    ScoringModel,
)
from xinyong.catalog.periods import disclosure_last_shown_sql, last_day_sql
from xinyong.codes.ric import is_minor_on_sql
from xinyong.errors import UnusableInput
from xinyong.store.queries import _utc
from xinyong.store.tables import records, subjects

#: The store's columns copied to DuckDB (``fields`` as JSON text), in this order.
RAW_COLUMNS = ("subject_id", "record_type", "decided_on", "valid_from", "valid_to", "status")
RAW_SCHEMA = pa.schema(
    [
        ("subject_id", pa.int64()),
        ("record_type", pa.string()),
        ("decided_on", pa.date32()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("status", pa.string()),
        ("fields", pa.string()),
    ]
)
_BATCH_ROWS = 100_000


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _points_spec(model: ScoringModel) -> PointsSpec:
    if not isinstance(model.spec, PointsSpec):
        raise UnusableInput(
            f"批量评分只支持积分模型 / batch scoring needs a points model: {model.id}"
        )
    return model.spec


def condition_fields(spec: PointsSpec) -> list[str]:
    conds: list[RecordCondition] = [*spec.rules, *(g.when for g in spec.grade_rules)]
    return sorted({k for c in conds for k in c.where})


def record_types_read(spec: PointsSpec) -> list[str]:
    """The record types a points model's rules and grade rules read."""
    return sorted(
        {r.record_type for r in spec.rules} | {g.when.record_type for g in spec.grade_rules}
    )


# -- the compiled model --------------------------------------------------------------------------


def _where_sql(cond: RecordCondition, at: str) -> list[str]:
    """The condition's field values and window, without its record type."""
    parts = []
    for key, wanted in cond.where.items():
        options = wanted if isinstance(wanted, list) else [wanted]
        values = ", ".join(_lit(str(o).lower() if isinstance(o, bool) else o) for o in options)
        parts.append(f"{_ident('f_' + key)} IN ({values})")
    if cond.within is not None:
        parts.append(f"{last_day_sql('decided_on', cond.within)} >= {at}")
    if isinstance(cond, Dated):  # a points rule holds while its instruments are in force
        holds = in_force_sql(cond, "decided_on", at)
        if holds is not None:
            parts.append(holds)
    return parts


def _condition_sql(cond: RecordCondition, at: str) -> str:
    return " AND ".join([f"record_type = {_lit(cond.record_type)}", *_where_sql(cond, at)])


def _alive_sql(rule: PointsRule, at: str) -> str | None:
    """The rule's expiry as a test on the record (None: it never expires)."""
    if rule.expires == "disclosure_period":
        return f"(ends_on IS NULL OR ends_on > {at})"
    if rule.expires == "never":
        return None
    return f"{last_day_sql('decided_on', rule.expires)} >= {at}"


def _and(parts: Sequence[str | None]) -> str:
    kept = [p for p in parts if p]
    return " AND ".join(kept) if kept else "true"


def _first_match(
    rules: Sequence[tuple[PointsRule, int]], at: str, alive_outside: bool
) -> str | None:
    """``CASE WHEN <rule> THEN points …`` over rules of one record type, in model order: the first
    rule a record meets decides (0 for a rule whose points are summed elsewhere). None when every
    branch gives 0."""
    while rules and rules[-1][1] == 0:
        rules = rules[:-1]
    if not rules:
        return None
    whens = []
    for rule, points in rules:
        alive = None if alive_outside else _alive_sql(rule, at)
        whens.append(f"WHEN {_and([*_where_sql(rule, at), alive])} THEN {points}")
    if len(whens) == 1 and whens[0].startswith("WHEN true THEN "):
        return whens[0].removeprefix("WHEN true THEN ")
    return f"CASE {' '.join(whens)} ELSE 0 END"


def _by_type(rules: Iterable[PointsRule]) -> dict[str, list[PointsRule]]:
    grouped: dict[str, list[PointsRule]] = {}
    for rule in rules:
        grouped.setdefault(rule.record_type, []).append(rule)
    return grouped


def _points_sql(spec: PointsSpec, at: str) -> str:
    """The points of one subject's records: uncapped rules in one SUM, each capped rule in a
    SUM of its own held to its cap."""
    alives = {_alive_sql(r, at) for r in spec.rules}
    shared = alives.pop() if len(alives) == 1 else None
    outside = len(alives) == 0  # every rule expires the same way
    grouped = _by_type(spec.rules)

    def guarded(expr: str, rtype: str | None) -> str:
        tests = [f"record_type = {_lit(rtype)}" if rtype is not None else None]
        tests.append(shared if outside else None)
        test = _and(tests)
        return expr if test == "true" else f"CASE WHEN {test} THEN {expr} ELSE 0 END"

    sums: list[str] = []
    branches = []
    for rtype, rules in grouped.items():
        body = _first_match([(r, 0 if r.cap is not None else r.points) for r in rules], at, outside)
        if body is not None:
            branches.append(f"WHEN {_lit(rtype)} THEN {body}")
    if branches:
        case = f"CASE record_type {' '.join(branches)} ELSE 0 END"
        sums.append(f"SUM({guarded(case, None)})")
    for rtype, rules in grouped.items():
        for n, rule in enumerate(rules):
            if rule.cap is None:
                continue
            earlier = [(r, 0) for r in rules[:n]]
            body = _first_match([*earlier, (rule, rule.points)], at, outside)
            assert body is not None
            total = f"SUM({guarded(body, rtype)})"
            sums.append(f"GREATEST(LEAST({total}, {rule.cap}), -{rule.cap})")
    return " + ".join(sums) if sums else "0"


def compile_sql(model: ScoringModel, at: date) -> str:
    """The one query that scores every subject under ``model`` on ``at``: rows of
    ``(subject_id, score, grade)``, grade NULL for a kind of subject the model is not made for."""
    spec = _points_spec(model)
    day = f"DATE {_lit(at.isoformat())}"
    flags = "".join(
        f", BOOL_OR({_and([_condition_sql(g.when, day), in_force_sql(g, 'decided_on', day)])})"
        f" AS g{i}"
        for i, g in enumerate(spec.grade_rules)
    )
    flag_names = "".join(f", COALESCE(a.g{i}, false) AS g{i}" for i in range(len(spec.grade_rules)))
    score = f"{spec.base} + COALESCE(a.points, 0)"
    if spec.floor is not None:
        score = f"GREATEST({score}, {spec.floor})"
    if spec.ceiling is not None:
        score = f"LEAST({score}, {spec.ceiling})"
    # Grades as ranks, best first: an ``at_most`` rule raises the rank to its grade's.
    order = spec.grade_order
    rank = {g: n for n, g in enumerate(order)}
    bands = " ".join(
        f"WHEN score >= {b.min} THEN {rank[b.grade]}" for b in spec.bands if b.min is not None
    )
    band = f"CASE {bands} ELSE {rank[spec.bands[-1].grade]} END" if bands else "0"
    lowered = [
        f"CASE WHEN g{i} THEN {rank[g.at_most]} ELSE 0 END"
        for i, g in enumerate(spec.grade_rules)
        if g.at_most is not None
    ]
    worst = f"GREATEST(band, {', '.join(lowered)})" if lowered else "band"
    names = " ".join(f"WHEN {n} THEN {_lit(g)}" for n, g in enumerate(order))
    direct = " ".join(
        f"WHEN g{i} THEN {_lit(g.grade)}"
        for i, g in enumerate(spec.grade_rules)
        if g.grade is not None
    )
    grade = (
        f"CASE {direct} ELSE CASE {worst} {names} END END"
        if direct
        else (f"CASE {worst} {names} END")
    )
    kinds = ", ".join(_lit(k) for k in model.subject_kinds)
    graded, code = f"kind IN ({kinds})", ""
    if model.adults_only is not None:
        code = ", s.code"  # the ledger's is_minor_for
        graded += f" AND NOT COALESCE(kind = 'individual' AND {is_minor_on_sql('code', at)}, false)"
    return f"""
WITH per_subject AS (
    SELECT subject_id, {_points_sql(spec, day)} AS points{flags}
    FROM records
    WHERE status NOT IN ('repaired', 'withdrawn')
      AND (decided_on IS NULL OR decided_on <= {day})
    GROUP BY subject_id
),
scored AS (
    SELECT s.subject_id, s.kind{code}, {score} AS score{flag_names}
    FROM subjects s LEFT JOIN per_subject a USING (subject_id)
),
banded AS (
    SELECT *, {band} AS band FROM scored
)
SELECT subject_id, score, CASE WHEN {graded} THEN {grade} END AS grade
FROM banded
"""


# -- from the store to DuckDB --------------------------------------------------------------------


def _field(name: str) -> str:
    return f"json_extract_string(fields, {_lit('$.' + _ident(name))})"


def records_sql(
    model: ScoringModel, catalog: Catalog, raw: str = "records_raw", at: date | None = None
) -> str:
    """The ``records`` input of :func:`compile_sql` from the store's rows in ``raw``
    (:data:`RAW_SCHEMA`): decision date, disclosure end and condition fields, in SQL; ``at``
    picks the period rule's version with each record's fact day (default: the engine's today)."""
    at_sql = "CURRENT_DATE" if at is None else f"DATE {_lit(at.isoformat())}"
    spec = _points_spec(model)
    ends = []
    for rtype_id in record_types_read(spec):
        rtype: RecordType | None = catalog.record_types.get(rtype_id)
        if rtype is not None and rtype.disclosure_period is not None:
            ends.append(f"WHEN {_lit(rtype_id)} THEN {disclosure_last_shown_sql(rtype, at_sql)}")
    last_shown = f"CASE record_type {' '.join(ends)} ELSE valid_to END" if ends else "valid_to"
    fields = "".join(
        f", {_field(name)} AS {_ident('f_' + name)}" for name in condition_fields(spec)
    )
    return f"""
SELECT subject_id, record_type, COALESCE(decided_on, valid_from) AS decided_on,
       CAST({last_shown} + INTERVAL 1 DAY AS DATE) AS ends_on, status{fields}
FROM {raw}
"""


def store_rows(
    conn: Connection, at: date, known_at: datetime | None, record_types: list[str]
) -> pa.Table:
    """Every linked record of these types that held on ``at``, as known on ``known_at`` (the
    filters of ``records_for``, for all subjects in one query), as an Arrow table of
    :data:`RAW_SCHEMA`: no per-record work in Python."""
    query = select(*(records.c[name] for name in RAW_COLUMNS), cast(records.c.fields, Text)).where(
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
    result = conn.execute(query)
    batches = []
    while rows := result.fetchmany(_BATCH_ROWS):
        columns = list(zip(*rows, strict=True))
        batches.append(
            pa.record_batch(
                [pa.array(c, f.type) for c, f in zip(columns, RAW_SCHEMA, strict=True)],
                schema=RAW_SCHEMA,
            )
        )
    return pa.Table.from_batches(batches, schema=RAW_SCHEMA)


def load_tables(
    duck: duckdb.DuckDBPyConnection,
    subject_table: pa.Table,
    raw: pa.Table,
    model: ScoringModel,
    catalog: Catalog,
) -> None:
    """Create the ``subjects`` and ``records`` inputs of :func:`compile_sql` in ``duck`` from
    Arrow tables: ``subject_table(subject_id, kind[, code])`` and ``raw`` (:data:`RAW_SCHEMA`)."""
    duck.register("subjects_arrow", subject_table)
    duck.register("records_raw", raw)
    try:
        duck.execute("CREATE OR REPLACE TABLE subjects AS SELECT * FROM subjects_arrow")
        duck.execute(f"CREATE OR REPLACE TABLE records AS {records_sql(model, catalog)}")
    finally:
        duck.unregister("subjects_arrow")
        duck.unregister("records_raw")


def load_store(
    duck: duckdb.DuckDBPyConnection,
    conn: Connection,
    model: ScoringModel,
    catalog: Catalog,
    at: date,
    known_at: datetime | None = None,
) -> int:
    """Copy the subjects and their records held on ``at`` into DuckDB (through Arrow)."""
    spec = _points_spec(model)
    people = conn.execute(select(subjects.c.id, subjects.c.kind, subjects.c.primary_code)).all()
    subject_table = pa.table(
        {
            "subject_id": pa.array([p.id for p in people], pa.int64()),
            "kind": pa.array([p.kind for p in people], pa.string()),
            "code": pa.array([p.primary_code for p in people], pa.string()),
        }
    )
    raw = store_rows(conn, at, known_at, record_types_read(spec))
    load_tables(duck, subject_table, raw, model, catalog)
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
            f"SELECT s.code AS subject, {_lit(model.id)} AS model, DATE {_lit(at.isoformat())} "
            "AS at, r.score, r.grade "
            f"FROM ({compile_sql(model, at)}) r JOIN subjects s USING (subject_id) ORDER BY s.code"
        )
        kind = "PARQUET" if out.suffix == ".parquet" else "CSV, HEADER"
        target = str(out).replace("'", "''")
        duck.execute(f"COPY ({query}) TO '{target}' (FORMAT {kind})")
    finally:
        duck.close()
    return count
