"""Batch jobs written once: each loads its inputs into a :class:`BatchEngine` and runs SQL that
its owning package wrote in DuckDB's dialect.

- Screening (:mod:`xinyong.measures.screen`): codes in, one decision per code out.
- Batch scoring of a points model (:mod:`xinyong.score.batch`): every subject's score and grade.

Inputs are Arrow tables (what the store hands out) or Parquet files (what a cluster reads);
results come back as Arrow, or are written as Parquet where they lie.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa

from xinyong.batch.engines import BatchEngine
from xinyong.catalog.model import Catalog, ScoringModel
from xinyong.codes import regions
from xinyong.measures.screen import COMBINE_SQL, decisions_sql
from xinyong.score.batch import compile_sql, records_sql

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


def score_sql(model: ScoringModel, at: date) -> str:
    """``subject_id, score, grade`` for every subject (after :func:`prepare_score`)."""
    return compile_sql(model, at)


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
