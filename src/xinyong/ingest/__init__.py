"""Ingestion: read a department's file, validate each row against its record type, load a batch.

``ingest_file(engine_or_conn, path, record_type, source, *, catalog, encoding=None,
mapping=None, progress=None) -> BatchResult`` is what the CLI and the API call;
``dry_run(path, record_type, *, catalog, …) -> DryRun`` reads a file the same way and writes
nothing. A department's own headers go through a mapping file (:mod:`.mapping`).
"""

from xinyong.ingest.load import BatchResult, DryRun, dry_run, ingest_file, rejects_path_for
from xinyong.ingest.plan import ColumnPlan, Mapping

__all__ = [
    "BatchResult",
    "ColumnPlan",
    "DryRun",
    "Mapping",
    "dry_run",
    "ingest_file",
    "rejects_path_for",
]
