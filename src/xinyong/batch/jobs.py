"""Batch jobs written once: each loads its inputs into a :class:`BatchEngine` and runs SQL that
its owning package wrote in DuckDB's dialect.

- Screening (:mod:`xinyong.measures.screen`): codes in, one decision per code out.
- Batch scoring of a points model (:mod:`xinyong.score.batch`): every subject's score and grade.

Inputs are Arrow tables (what the store hands out) or Parquet files (what a cluster reads);
results come back as Arrow, or are written as Parquet where they lie.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, select

from xinyong.batch.engines import BatchEngine
from xinyong.catalog.model import Catalog, PointsSpec, ScoringModel
from xinyong.codes import regions
from xinyong.errors import UnusableInput
from xinyong.measures.screen import COMBINE_SQL, decisions_sql
from xinyong.score.batch import compile_sql, record_types_read, records_sql, store_rows
from xinyong.store.tables import subjects

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
    engine: BatchEngine, inputs: Sequence[Path], column: str, index: pa.Table, out: Path
) -> None:
    """Screen the codes in ``column`` of Parquet files (read where they lie: local paths, or
    the cluster's storage on Spark) and write ``n, code, outcome, until, measures`` as Parquet;
    ``n`` follows the input order."""
    prepare_screen(engine, index)
    engine.load_parquet("xy_input", inputs, numbered="xy_n")
    quoted = '"' + column.replace('"', '""') + '"'
    engine.keep("xy_codes", f"SELECT xy_n AS n, CAST({quoted} AS VARCHAR) AS raw FROM xy_input")
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
    engine.load("records_raw", raw)
    engine.keep("records", records_sql(model, catalog))


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
    engine.load_parquet("records_raw", raw_files)
    engine.keep("records", records_sql(model, catalog))
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
