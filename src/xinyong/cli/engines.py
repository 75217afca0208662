"""``--engine`` and ``--master``, and the batch engine they name: for ``xinyong batch …`` and
``xinyong score --all``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from xinyong.batch import BatchEngine, DuckDBEngine, spark_engine
from xinyong.errors import UnusableInput, first_line

EngineOption = Annotated[
    str, typer.Option("--engine", help="引擎 / engine: duckdb (this machine) or spark")
]
MasterOption = Annotated[
    str,
    typer.Option(
        "--master",
        help="Spark 主节点 / Spark master URL: local[N], spark://host:7077, yarn, k8s://…",
    ),
]
ENGINES = ("duckdb", "spark")


def engine_named(name: str, master: str) -> BatchEngine:
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        return spark_engine(master)
    raise UnusableInput(f"--engine 须为 duckdb 或 spark / --engine must be duckdb or spark: {name}")


@contextmanager
def running(name: str, master: str) -> Iterator[BatchEngine]:
    """An engine for one job, closed after it; the engine's own errors (a bad column, an
    unreadable file, an output it cannot write) become one line, exit 2."""
    runner = engine_named(name, master)
    try:
        yield runner
    except UnusableInput:
        raise
    except Exception as error:
        raise UnusableInput(f"批处理失败 / batch job failed: {first_line(error)}") from error
    finally:
        runner.close()
