"""Batch jobs written once: each loads its inputs into a :class:`BatchEngine` and runs SQL that
its owning package wrote in DuckDB's dialect.

- Screening (:mod:`xinyong.measures.screen`): codes in, one decision per code out.
- Batch scoring of a points model (:mod:`xinyong.score.batch`): every subject's score and grade.
- Re-deriving list entries and the restriction index from records (:mod:`xinyong.lists.batch`,
  :mod:`xinyong.measures.batch`): the current listed entries and index rows, as the store's
  ``lists.derive.rebuild`` and ``measures.index.rebuild_index`` would leave them.

Inputs are Arrow tables (what the store hands out) or Parquet files (what a cluster reads);
results come back as Arrow, or are written as Parquet where they lie.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, CursorResult, Select, Text, and_, cast, select

from xinyong.batch.engines import BatchEngine
from xinyong.catalog.model import ROLES, Catalog, PointsSpec, ScoringModel
from xinyong.codes import regions
from xinyong.errors import UnusableInput
from xinyong.lists.batch import ENTRY_COLUMNS, RECORDS_SCHEMA, entries_sql, workdays_for
from xinyong.lists.derive import RULE_COLUMNS
from xinyong.lists.rules import LISTING_STATUSES
from xinyong.lists.tables import list_entries
from xinyong.measures.batch import (
    RELATIONS_SCHEMA,
    RESTRICTION_COLUMNS,
    SUBJECTS_SCHEMA,
    restrictions_sql,
)
from xinyong.measures.screen import COMBINE_SQL, decisions_sql, matched_sql
from xinyong.measures.tables import restrictions
from xinyong.score.batch import compile_sql, record_types_read, records_sql, store_rows
from xinyong.store.footprint import require_covered
from xinyong.store.tables import records, subject_relations, subjects

#: Columns of the restriction index a screen reads (see ``screen.restriction_table``).
INDEX_SCHEMA = pa.schema(
    [
        ("code", pa.string()),
        ("effect", pa.string()),
        ("until", pa.date32()),
        ("measure", pa.string()),
    ]
)
#: Columns of a screen's input: a row number (the output's order) and the code as given.
CODES_SCHEMA = pa.schema([("n", pa.int64()), ("raw", pa.string())])


def prepare_calendar(engine: BatchEngine, catalog: Catalog) -> None:
    """Load ``xy_workdays`` (the whole known calendar) if a list of ``catalog`` needs it."""
    workdays = workdays_for(catalog)
    if workdays is not None:
        engine.load("xy_workdays", workdays)


def prepare_screen(engine: BatchEngine, index: pa.Table) -> None:
    """Load the restriction index (:data:`INDEX_SCHEMA`) and the region table; combine the
    index per code once."""
    engine.load("xy_index", index)
    engine.load("xy_regions", pa.table({"code": sorted(regions.valid_codes())}))
    engine.keep("xy_decided", COMBINE_SQL)


def screen_sql(codes: str = "xy_codes") -> str:
    """Decisions (``n, code, outcome, until, measures``) for the relation ``codes`` (``n, raw``)."""
    return decisions_sql(f"SELECT n, raw FROM {codes}")


def screen_table(engine: BatchEngine, codes: pa.Table, index: pa.Table) -> pa.Table:
    """Screen ``codes`` (:data:`CODES_SCHEMA`) against ``index``; rows in the order of ``n``."""
    prepare_screen(engine, index)
    engine.load("xy_codes", codes)
    return engine.fetch(f"SELECT * FROM ({screen_sql()}) ORDER BY n")


def screen_parquet(engine: BatchEngine, inputs: Sequence[Path], index: pa.Table, out: Path) -> None:
    """Screen Parquet files of :data:`CODES_SCHEMA` and write the decisions as Parquet."""
    prepare_screen(engine, index)
    engine.load_parquet("xy_codes", inputs)
    engine.write_parquet(screen_sql(), out)


def screen_files(
    engine: BatchEngine,
    inputs: Sequence[Path],
    column: str,
    index: pa.Table,
    out: Path,
    *,
    audit: Callable[[list[tuple[str, str]]], None] | None = None,
) -> None:
    """Screen the codes in ``column`` of Parquet files (read where they lie: local paths, or
    the cluster's storage on Spark) and write ``n, code, outcome, until, measures`` as Parquet;
    ``n`` follows the input order. ``audit`` is given the subjects' codes matched, with their
    outcomes (``measures.screen.matched_sql``), before anything is written: if it raises,
    nothing is (``measures.screen.record_reads`` audits them)."""
    prepare_screen(engine, index)
    engine.load_parquet("xy_input", inputs, numbered="xy_n")
    quoted = '"' + column.replace('"', '""') + '"'
    engine.keep("xy_codes", f"SELECT xy_n AS n, CAST({quoted} AS VARCHAR) AS raw FROM xy_input")
    if audit is not None:
        matched = engine.fetch(matched_sql("SELECT n, raw FROM xy_codes")).to_pylist()
        audit([(str(row["code"]), str(row["outcome"])) for row in matched])
    engine.write_parquet(screen_sql(), out)


def prepare_score(
    engine: BatchEngine,
    model: ScoringModel,
    catalog: Catalog,
    subjects: pa.Table,
    raw: pa.Table,
) -> None:
    """Load ``subjects(subject_id, kind)`` and the store's rows (``score.batch.RAW_SCHEMA``);
    compute each record's decision date, disclosure end and condition fields once."""
    engine.load("subjects", subjects)
    _require_codes(engine, model)
    engine.load("records_raw", raw)
    engine.keep("records", records_sql(model, catalog))


def _require_codes(engine: BatchEngine, model: ScoringModel) -> None:
    """A model with ``adults_only`` reads the subjects' codes (a citizen number's birth date)."""
    if model.adults_only is None:
        return
    if "code" not in engine.fetch("SELECT * FROM subjects LIMIT 0").column_names:
        raise UnusableInput(
            f"模型 {model.id} 只评成年人，主体表须有 code 列（身份证号码含出生日期）/ model "
            f"{model.id} is for adults: the subjects need a code column (a citizen number "
            "carries the birth date)"
        )


def score_files(
    engine: BatchEngine,
    model: ScoringModel,
    catalog: Catalog,
    at: date,
    subject_files: Sequence[Path],
    raw_files: Sequence[Path],
    out: Path,
) -> None:
    """Batch scoring from Parquet where it lies (``subjects(subject_id, kind)`` and the store's
    rows, ``score.batch.RAW_SCHEMA``, e.g. a nightly export) to Parquet ``subject_id, score,
    grade``: nothing passes through this process, the way a cluster runs it."""
    engine.load_parquet("subjects", subject_files)
    _require_codes(engine, model)
    engine.load_parquet("records_raw", raw_files)
    engine.keep("records", records_sql(model, catalog, at=at))
    engine.write_parquet(score_sql(model, at), out)


def score_sql(model: ScoringModel, at: date) -> str:
    """``subject_id, score, grade`` for every subject (after :func:`prepare_score`)."""
    return compile_sql(model, at)


def store_inputs(
    conn: Connection, model: ScoringModel, at: date, known_at: datetime | None = None
) -> tuple[pa.Table, pa.Table]:
    """``subjects(subject_id, kind, code)`` and the rows a points model reads, from the store
    (as ``xinyong score --all`` reads them), as Arrow."""
    spec = model.spec
    if not isinstance(spec, PointsSpec):
        raise UnusableInput(
            f"批量评分只支持积分模型 / batch scoring needs a points model: {model.id}"
        )
    found = conn.execute(select(subjects.c.id, subjects.c.kind, subjects.c.primary_code)).all()
    table = pa.table(
        {
            "subject_id": pa.array([r.id for r in found], pa.int64()),
            "kind": pa.array([r.kind for r in found], pa.string()),
            "code": pa.array([r.primary_code for r in found], pa.string()),
        }
    )
    return table, store_rows(conn, at, known_at, record_types_read(spec))


def score_table(
    engine: BatchEngine,
    model: ScoringModel,
    catalog: Catalog,
    at: date,
    subjects: pa.Table,
    raw: pa.Table,
) -> pa.Table:
    """Every subject's score and grade under a points model, ordered by ``subject_id``."""
    prepare_score(engine, model, catalog, subjects, raw)
    return engine.fetch(f"SELECT * FROM ({score_sql(model, at)}) ORDER BY subject_id")


def score_to_parquet(
    engine: BatchEngine,
    model: ScoringModel,
    catalog: Catalog,
    at: date,
    subjects_table: pa.Table,
    raw: pa.Table,
    out: Path,
) -> None:
    """Write ``subject, model, at, score, grade`` (as ``xinyong score --all``) as Parquet."""
    prepare_score(engine, model, catalog, subjects_table, raw)
    model_id = "'" + model.id.replace("'", "''") + "'"
    engine.write_parquet(
        f"SELECT s.code AS subject, {model_id} AS model, DATE '{at.isoformat()}' AS at, "
        f"r.score AS score, r.grade AS grade "
        f"FROM ({score_sql(model, at)}) r JOIN subjects s USING (subject_id)",
        out,
    )


# -- re-deriving lists and the restriction index -------------------------------------------------

#: The files :func:`derive_files` and :func:`derive_to_parquet` write under their output folder.
ENTRIES_FILE = "list_entries.parquet"
RESTRICTIONS_FILE = "restrictions.parquet"
_FETCH_ROWS = 100_000

#: The entries as :func:`derive_tables` returns them (and :func:`store_entries` reads them).
ENTRIES_SCHEMA = pa.schema(
    [
        ("list_id", pa.string()),
        ("subject_id", pa.int64()),
        ("record_id", pa.int64()),
        ("record_key", pa.string()),
        ("notified_on", pa.date32()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("until_event", pa.string()),
        ("extended", pa.bool_()),
    ]
)
#: The index rows (one per fact) as :func:`derive_tables` returns them (and
#: :func:`store_restrictions` reads).
RESTRICTIONS_SCHEMA = pa.schema(
    [
        ("subject_id", pa.int64()),
        ("subject_kind", pa.string()),
        ("list_id", pa.string()),
        ("record_key", pa.string()),
        ("source_subject_id", pa.int64()),
        ("record_id", pa.int64()),
        ("via_subject_id", pa.int64()),
        ("role", pa.string()),
        ("relation_record_id", pa.int64()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
    ]
)


def _arrow(result: CursorResult[tuple[object, ...]], schema: pa.Schema) -> pa.Table:
    """A query's rows as an Arrow table of ``schema`` (columns in the query's order)."""
    batches = []
    while rows := result.fetchmany(_FETCH_ROWS):
        columns = list(zip(*rows, strict=True))
        batches.append(
            pa.record_batch(
                [pa.array(c, f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
            )
        )
    return pa.Table.from_batches(batches, schema=schema)


def _run(conn: Connection, query: Select[tuple[object, ...]], schema: pa.Schema) -> pa.Table:
    return _arrow(conn.execute(query), schema)


def store_derive_inputs(conn: Connection, catalog: Catalog) -> tuple[pa.Table, pa.Table, pa.Table]:
    """From the store, as Arrow: the current code-linked records of the types a list reads
    (``lists.batch.RECORDS_SCHEMA``, fields as JSON text), ``subjects(subject_id, kind)`` and
    the relations a measure can follow (``measures.batch.RELATIONS_SCHEMA``).

    ``CatalogMismatch`` for a catalog that lacks ids the store's derived tables hold: what it
    derived would silently leave them out."""
    require_covered(conn, catalog)
    types = sorted({c.record_type for d in catalog.lists.values() for c in d.criteria})
    found = _run(
        conn,
        select(*RULE_COLUMNS, cast(records.c.fields, Text)).where(
            records.c.superseded_at.is_(None),
            records.c.subject_id.is_not(None),
            records.c.record_type.in_(types),
        ),
        RECORDS_SCHEMA,
    )
    kinds = _run(conn, select(subjects.c.id, subjects.c.kind), SUBJECTS_SCHEMA)
    relations = _run(
        conn,
        select(
            subject_relations.c.from_subject_id,
            subject_relations.c.to_subject_id,
            subject_relations.c.role,
            subject_relations.c.valid_from,
            subject_relations.c.valid_to,
            subject_relations.c.record_id,
        ).where(subject_relations.c.role.in_(ROLES)),
        RELATIONS_SCHEMA,
    )
    return found, kinds, relations


def _derive(engine: BatchEngine, catalog: Catalog, statuses: Collection[str]) -> None:
    prepare_calendar(engine, catalog)
    engine.keep("xy_entries", entries_sql(catalog, "records", statuses))


def prepare_derive(
    engine: BatchEngine,
    catalog: Catalog,
    records_table: pa.Table,
    subjects_table: pa.Table,
    relations: pa.Table,
    statuses: Collection[str] = LISTING_STATUSES,
) -> None:
    """Load the three inputs (see :func:`store_derive_inputs`) and the calendar; derive the
    entries once, as ``xy_entries`` (read by the index and by the output)."""
    engine.load("records", records_table.select(RECORDS_SCHEMA.names).cast(RECORDS_SCHEMA))
    engine.load("subjects", subjects_table.select(SUBJECTS_SCHEMA.names).cast(SUBJECTS_SCHEMA))
    engine.load("relations", relations.select(RELATIONS_SCHEMA.names).cast(RELATIONS_SCHEMA))
    _derive(engine, catalog, statuses)


def _entries_out() -> str:
    return f"SELECT {', '.join(ENTRY_COLUMNS)} FROM xy_entries"


def derive_tables(
    engine: BatchEngine,
    catalog: Catalog,
    records_table: pa.Table,
    subjects_table: pa.Table,
    relations: pa.Table,
    statuses: Collection[str] = LISTING_STATUSES,
) -> tuple[pa.Table, pa.Table]:
    """The listed entries and the index rows the records make, as Arrow, each sorted by all its
    columns (the same order on every engine)."""
    prepare_derive(engine, catalog, records_table, subjects_table, relations, statuses)
    entries = engine.fetch(f"SELECT * FROM ({_entries_out()}) ORDER BY {_order(ENTRY_COLUMNS)}")
    index = engine.fetch(
        f"SELECT * FROM ({restrictions_sql(catalog)}) ORDER BY {_order(RESTRICTION_COLUMNS)}"
    )
    return entries.cast(ENTRIES_SCHEMA), index.cast(RESTRICTIONS_SCHEMA)


def _order(columns: Sequence[str]) -> str:
    return ", ".join(f"{c} NULLS FIRST" for c in columns)


def _write_derived(engine: BatchEngine, catalog: Catalog, out_dir: Path) -> tuple[Path, Path]:
    if "://" not in str(out_dir):  # a local folder (a cluster's storage makes its own)
        out_dir.mkdir(parents=True, exist_ok=True)
    entries_path, index_path = out_dir / ENTRIES_FILE, out_dir / RESTRICTIONS_FILE
    engine.write_parquet(_entries_out(), entries_path)
    engine.write_parquet(restrictions_sql(catalog), index_path)
    return entries_path, index_path


def derive_to_parquet(
    engine: BatchEngine,
    catalog: Catalog,
    records_table: pa.Table,
    subjects_table: pa.Table,
    relations: pa.Table,
    out_dir: Path,
    statuses: Collection[str] = LISTING_STATUSES,
) -> tuple[Path, Path]:
    """Write ``list_entries.parquet`` and ``restrictions.parquet`` under ``out_dir`` (files on
    DuckDB, directories of parts on Spark); their paths."""
    prepare_derive(engine, catalog, records_table, subjects_table, relations, statuses)
    return _write_derived(engine, catalog, out_dir)


def derive_files(
    engine: BatchEngine,
    catalog: Catalog,
    records_files: Sequence[Path],
    subject_files: Sequence[Path],
    relation_files: Sequence[Path],
    out_dir: Path,
    statuses: Collection[str] = LISTING_STATUSES,
) -> tuple[Path, Path]:
    """The same from Parquet where it lies (records of ``lists.batch.RECORDS_SCHEMA``,
    ``subjects(subject_id, kind)``, ``measures.batch.RELATIONS_SCHEMA``, e.g. a nightly
    export): nothing but the calendar passes through this process."""
    engine.load_parquet("records", records_files)
    engine.load_parquet("subjects", subject_files)
    engine.load_parquet("relations", relation_files)
    _derive(engine, catalog, statuses)
    return _write_derived(engine, catalog, out_dir)


def store_entries(conn: Connection) -> pa.Table:
    """The store's current listed entries, in the columns :func:`derive_tables` gives."""
    e = list_entries.c
    table = _run(
        conn,
        select(
            e.list_id,
            e.subject_id,
            e.record_id,
            e.record_key,
            e.notified_on,
            e.valid_from,
            e.valid_to,
            e.until_event,
            e.extended == "yes",
        ).where(e.superseded_at.is_(None), e.state == "listed"),
        ENTRIES_SCHEMA,
    )
    return table


def store_restrictions(conn: Connection) -> pa.Table:
    """The store's current index rows, each entry named by its ``(list_id, record_key)``."""
    r, e = restrictions.c, list_entries.c
    return _run(
        conn,
        select(
            r.subject_id,
            r.subject_kind,
            r.list_id,
            e.record_key,
            r.source_subject_id,
            r.record_id,
            r.via_subject_id,
            r.role,
            r.relation_record_id,
            r.valid_from,
            r.valid_to,
        )
        .select_from(
            restrictions.join(
                list_entries, and_(e.entry_id == r.entry_id, e.superseded_at.is_(None))
            )
        )
        .where(r.superseded_at.is_(None)),
        RESTRICTIONS_SCHEMA,
    )


def differences(derived: pa.Table, stored: pa.Table) -> tuple[int, int]:
    """How many rows are only in ``derived`` and only in ``stored`` (as multisets)."""
    ours = Counter(tuple(row.values()) for row in derived.to_pylist())
    theirs = Counter(tuple(row.values()) for row in stored.select(derived.column_names).to_pylist())
    return sum((ours - theirs).values()), sum((theirs - ours).values())
