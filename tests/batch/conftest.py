"""Fixtures for the batch layer: ONE local Spark session for the whole test session.

``local[2]`` (two cores is all CI has), two shuffle partitions (the inputs are small), the UI
off and the driver on loopback (no network). Tests that need Spark skip, saying why, when PySpark
or Java is missing; CI installs both (``pip install -e '.[test,spark]'``, Java 17 on the image).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from xinyong.batch.engines import DuckDBEngine, SparkEngine, spark_missing, spark_session

#: pyspark warns about pandas 3 as it starts; batch work hands Arrow over, never pandas.
PANDAS_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    missing = spark_missing()
    if missing is not None:
        pytest.skip(missing)
    session = spark_session("local[2]", shuffle_partitions=2, app="xinyong-tests")
    engine = SparkEngine(session)
    yield engine
    engine.close()
    session.stop()


@pytest.fixture()
def duckdb_engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    yield engine
    engine.close()
