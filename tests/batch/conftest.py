"""Fixtures for the batch layer. The Spark session (``spark_engine``) is in ``tests/conftest.py``:
one for the whole test session, shared by every directory that needs it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from xinyong.batch.engines import DuckDBEngine

#: pyspark warns about pandas 3 as it starts; batch work hands Arrow over, never pandas.
PANDAS_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"


@pytest.fixture()
def duckdb_engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    yield engine
    engine.close()
