"""The due-process fixtures (fresh database, real ingest, shipped catalog) serve disclosure too."""

from tests.process.conftest import catalog, sqlite_engine

__all__ = ["catalog", "sqlite_engine"]
