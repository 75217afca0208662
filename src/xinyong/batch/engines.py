"""The engines batch work runs on: DuckDB on one machine, Spark beyond it.

Both hold named relations (Arrow tables or Parquet files handed in, or query results kept) and
run SQL written in DuckDB's dialect (:mod:`.dialects` translates it for Spark). A job is written
against :class:`BatchEngine` and never asks which engine it has.

Spark is optional (``pip install 'xinyong[spark]'``, Java 17): :func:`spark_engine` imports it
only when called and says what is missing when it cannot.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import pyarrow as pa

from xinyong.batch.dialects import transpile
from xinyong.errors import UnusableInput

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class BatchEngine(Protocol):
    """Where batch SQL runs. Names are SQL identifiers; ``sql`` is DuckDB-dialect text."""

    dialect: str

    def load(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable as ``name``."""

    def load_parquet(
        self, name: str, paths: Sequence[Path], *, numbered: str | None = None
    ) -> None:
        """Make Parquet files (one relation, read where they lie) queryable as ``name``; with
        ``numbered``, add a BIGINT column of that name increasing in file order (the order of an
        output; not necessarily consecutive on Spark)."""

    def keep(self, name: str, sql: str) -> None:
        """Compute ``sql`` once and keep the result as ``name`` (for relations read twice)."""

    def fetch(self, sql: str) -> pa.Table:
        """The result of ``sql`` as an Arrow table (for results that fit in memory)."""

    def write_parquet(self, sql: str, path: Path) -> None:
        """Write the result of ``sql`` as Parquet (a file on DuckDB, a directory on Spark)."""

    def close(self) -> None: ...


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class DuckDBEngine:
    """One DuckDB connection (in memory unless told otherwise)."""

    dialect = "duckdb"

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: Path | None = None,
    ) -> None:
        self.con = con if con is not None else duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit.replace(chr(39), '')}'")
        if temp_directory is not None:
            self.con.execute(f"SET temp_directory = {_quote(temp_directory)}")

    def load(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def load_parquet(
        self, name: str, paths: Sequence[Path], *, numbered: str | None = None
    ) -> None:
        files = ", ".join(_quote(p) for p in paths)
        extra = f', row_number() OVER () AS "{numbered}"' if numbered else ""
        self.con.execute(
            f'CREATE OR REPLACE VIEW "{name}" AS SELECT *{extra} FROM read_parquet([{files}])'
        )

    def keep(self, name: str, sql: str) -> None:
        self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')

    def fetch(self, sql: str) -> pa.Table:
        table: pa.Table = self.con.sql(sql).to_arrow_table()
        return table

    def write_parquet(self, sql: str, path: Path) -> None:
        self.con.execute(f"COPY ({sql}) TO {_quote(path)} (FORMAT PARQUET)")

    def close(self) -> None:
        self.con.close()


class SparkEngine:
    """A Spark session: ``local[N]`` on this machine, a cluster by its master URL."""

    dialect = "spark"

    def __init__(self, session: SparkSession) -> None:
        self.session = session
        self._kept: dict[str, Any] = {}

    def _df(self, sql: str) -> Any:
        return self.session.sql(transpile(sql, self.dialect))

    def load(self, name: str, table: pa.Table) -> None:
        self.session.createDataFrame(table).createOrReplaceTempView(name)

    def load_parquet(
        self, name: str, paths: Sequence[Path], *, numbered: str | None = None
    ) -> None:
        from pyspark.sql.functions import monotonically_increasing_id

        frame = self.session.read.parquet(*(str(p) for p in paths))
        if numbered:
            frame = frame.withColumn(numbered, monotonically_increasing_id())
        frame.createOrReplaceTempView(name)

    def keep(self, name: str, sql: str) -> None:
        old = self._kept.pop(name, None)
        if old is not None:
            old.unpersist()
        frame = self._df(sql).persist()
        frame.createOrReplaceTempView(name)
        self._kept[name] = frame

    def fetch(self, sql: str) -> pa.Table:
        table: pa.Table = self._df(sql).toArrow()
        return table

    def write_parquet(self, sql: str, path: Path) -> None:
        self._df(sql).write.mode("overwrite").parquet(str(path))

    def close(self) -> None:
        """Release what this engine kept; the session belongs to whoever made it."""
        for frame in self._kept.values():
            frame.unpersist()
        self._kept.clear()


def spark_missing() -> str | None:
    """Why Spark cannot start here (None: it can)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "未安装 PySpark / PySpark is not installed: pip install 'xinyong[spark]'"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "没有 Java / no Java runtime for Spark: install default-jre-headless (Java 17)"
    return None


def spark_session(
    master: str = "local[2]",
    *,
    shuffle_partitions: int | None = None,
    driver_memory: str | None = None,
    app: str = "xinyong",
) -> SparkSession:
    """A Spark session for batch work: the UI off, dates in UTC, driver on loopback when local.

    ``master`` is ``local[N]`` or a cluster URL (``spark://host:7077``, ``yarn``, ``k8s://…``).
    ``driver_memory`` (e.g. ``"4g"``) only counts when this call starts the JVM; Arrow tables
    handed to :meth:`SparkEngine.load` pass through the driver, so large inputs belong in
    Parquet (:meth:`SparkEngine.load_parquet`), read by the executors where they lie.
    """
    missing = spark_missing()
    if missing is not None:
        raise UnusableInput(missing)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    if driver_memory is not None:
        builder = builder.config("spark.driver.memory", driver_memory)
    session: SparkSession = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_engine(master: str = "local[2]", **options: Any) -> SparkEngine:
    return SparkEngine(spark_session(master, **options))
