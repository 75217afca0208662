"""Batch work written once, run on DuckDB on one machine and on Spark beyond it.

How: one SQL text per job, written in DuckDB's dialect by the package that owns the job
(``measures.screen.decisions_sql``, ``score.batch.compile_sql``/``records_sql``,
``lists.batch.entries_sql`` and ``measures.batch.restrictions_sql`` for re-deriving list entries
and the restriction index from records), transpiled to Spark SQL by sqlglot (:mod:`.dialects`)
with three small rewrites for functions Spark lacks.

Why this and not Ibis or the PySpark DataFrame API: the screen and the scoring compiler already
existed as DuckDB SQL, tested against the single-item code paths; keeping that one text means
the Spark run is that tested text, not a second implementation that must be kept in step.
sqlglot is pure Python, small, and adds no engine of its own; Ibis would have meant rewriting
both jobs as expressions (and its Spark backend pulls in pandas), and the DataFrame API means a
second copy of every rule. The price: the SQL must stay in the subset both engines share (no
UDFs, no DuckDB-only functions without a rewrite here), which a parity test holds
(``tests/batch/test_parity.py``).

Public API::

    from xinyong.batch import DuckDBEngine, spark_engine, jobs
    engine = DuckDBEngine()                   # or spark_engine("spark://host:7077")
    decisions = jobs.screen_table(engine, codes, index)       # Arrow in, Arrow out
    scores = jobs.score_table(engine, model, catalog, at, subjects, raw)
    records, kinds, relations = jobs.store_derive_inputs(conn, catalog)
    entries, index = jobs.derive_tables(engine, catalog, records, kinds, relations)
"""

from xinyong.batch import jobs
from xinyong.batch.dialects import transpile
from xinyong.batch.engines import (
    BatchEngine,
    DuckDBEngine,
    SparkEngine,
    spark_engine,
    spark_missing,
    spark_session,
)

__all__ = [
    "BatchEngine",
    "DuckDBEngine",
    "SparkEngine",
    "jobs",
    "spark_engine",
    "spark_missing",
    "spark_session",
    "transpile",
]
