"""The due-process fixtures (fresh database, real ingest, shipped catalog) serve disclosure too."""

from tests.process.conftest import catalog

__all__ = ["catalog"]
