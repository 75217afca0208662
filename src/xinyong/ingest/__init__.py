"""Ingestion: read a department's file, validate each row against its record type, load a batch.

``ingest_file(engine_or_conn, path, record_type, source, *, catalog, encoding=None,
progress=None) -> BatchResult`` is what the CLI and the API call.
"""

from xinyong.ingest.load import BatchResult, ingest_file, rejects_path_for

__all__ = ["BatchResult", "ingest_file", "rejects_path_for"]
