"""How a process writes a record: a new version, never an overwrite; a new record as a batch.

- ``new_version`` — an objection's mark, its outcome and a granted repair each close the
  record's current version (``superseded_at``) and add the next one with the new status (and,
  for a correction, the corrected fields).
- ``new_record`` — a breached commitment becomes a record of its own, written as a one-row batch
  of the authority with provenance, like any ingested row.

Neither runs the pipeline: :mod:`xinyong.process.cases` hands every record a move changed to
:func:`xinyong.pipeline.apply_records` once, in the same transaction, so lists, the restriction
index and the feed follow the change or nothing does.

Records are written unlinked (``subject_id`` NULL) so that the link step attaches them by their
code and names the subject in the change: that is how the lists and measures steps learn which
subjects to re-derive.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xinyong.errors import NotFound
from xinyong.store.identity import content_hash, record_identity
from xinyong.store.queries import StoredRecord
from xinyong.store.tables import batches, provenance, records

#: Columns of ``records`` that mirror a field of the same name.
_MIRRORED = ("subject_code", "subject_name", "document_no", "decided_on")


def record_by_id(conn: Connection, record_id: int) -> StoredRecord:
    """One stored version by id; ``NotFound`` if there is none."""
    row = conn.execute(select(records).where(records.c.id == record_id)).first()
    if row is None:
        raise NotFound(f"记录 {record_id} 不存在 / no record {record_id}")
    return _record(row)


def current_version(conn: Connection, record_key: str) -> StoredRecord:
    """The current version of the record with this key; ``NotFound`` if it has none."""
    row = conn.execute(
        select(records).where(records.c.record_key == record_key, records.c.superseded_at.is_(None))
    ).first()
    if row is None:
        raise NotFound(
            f"记录 {record_key} 没有现行版本 / record {record_key} has no current version"
        )
    return _record(row)


def new_version(
    conn: Connection,
    record: StoredRecord,
    *,
    status: str,
    corrections: Mapping[str, Any] | None = None,
    old_status: str | None = None,
) -> int:
    """Supersede ``record`` (its current version) with one of ``status``; returns the new id
    (for the caller to run through the pipeline).

    ``corrections`` replace field values (already validated by the caller). ``old_status`` marks
    the superseded version (``corrected``: the version an upheld objection found wrong).
    """
    now = datetime.now(UTC)
    row = conn.execute(
        select(records.c.record_key, records.c.row_hash).where(records.c.id == record.id)
    ).one()
    closing: dict[str, Any] = {"superseded_at": now}
    if old_status is not None:
        closing["status"] = old_status
    closed = conn.execute(
        update(records)
        .where(records.c.id == record.id, records.c.superseded_at.is_(None))
        .values(**closing)
    ).rowcount
    if closed != 1:
        raise NotFound(
            f"记录 {record.id} 已不是现行版本 / record {record.id} is no longer the current version"
        )
    fields = dict(record.fields)
    row_hash = row.row_hash
    if corrections:
        fields.update({k: _json_value(v) for k, v in corrections.items()})
        row_hash = content_hash(fields)
    mirrored = {c: fields.get(c, getattr(record, c)) for c in _MIRRORED}
    decided = mirrored["decided_on"]
    if isinstance(decided, str):
        mirrored["decided_on"] = date.fromisoformat(decided)
    new_id = conn.execute(
        insert(records).returning(records.c.id),
        {
            "record_type": record.record_type,
            "source": record.source,
            "subject_id": None,
            **mirrored,
            "subject_name": mirrored["subject_name"] or record.subject_name,
            "valid_from": record.valid_from if not corrections else _valid_from(fields, record),
            "valid_to": record.valid_to,
            "fields": fields,
            "status": status,
            "version": record.version + 1,
            "supersedes": record.id,
            "recorded_at": now,
            "superseded_at": None,
            "record_key": row.record_key,
            "row_hash": row_hash,
        },
    ).scalar_one()
    return int(new_id)


def new_record(
    conn: Connection,
    *,
    record_type: str,
    source: str,
    fields: dict[str, Any],
    origin: str,
    catalog_version: str,
    on: date,
) -> tuple[int, str]:
    """Write ``fields`` as a new record of ``source``, in a one-row batch named ``origin`` (with
    provenance); returns the record's id and key (for the caller to run through the pipeline)."""
    now = datetime.now(UTC)
    row_hash = content_hash(fields)
    record_key = record_identity(record_type, source, fields, row_hash)
    batch_id = conn.execute(
        insert(batches).returning(batches.c.id),
        {
            "record_type": record_type,
            "source": source,
            "file_name": origin,
            "file_sha256": row_hash,
            "catalog_version": catalog_version,
            "started_at": now,
            "finished_at": now,
            "state": "done",
            "accepted": 1,
        },
    ).scalar_one()
    record_id = conn.execute(
        insert(records).returning(records.c.id),
        {
            "record_type": record_type,
            "source": source,
            "subject_id": None,
            **{c: fields.get(c) for c in _MIRRORED},
            "decided_on": on,
            "valid_from": on,
            "valid_to": None,
            "fields": fields,
            "status": "active",
            "version": 1,
            "supersedes": None,
            "recorded_at": now,
            "superseded_at": None,
            "record_key": record_key,
            "row_hash": row_hash,
        },
    ).scalar_one()
    conn.execute(
        insert(provenance),
        {
            "record_id": record_id,
            "record_key": record_key,
            "batch_id": batch_id,
            "source": source,
            "row_number": 1,
        },
    )
    return int(record_id), record_key


def _record(row: Any) -> StoredRecord:
    m = dict(row._mapping)
    for name in ("recorded_at", "superseded_at"):
        value = m[name]
        if isinstance(value, datetime) and value.tzinfo is None:
            m[name] = value.replace(tzinfo=UTC)
    m["fields"] = dict(m["fields"] or {})
    return StoredRecord(**{k: m[k] for k in StoredRecord.__dataclass_fields__})


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _valid_from(fields: Mapping[str, Any], record: StoredRecord) -> date | None:
    for name in ("valid_from", "decided_on", "published_on"):
        value = fields.get(name)
        if isinstance(value, str) and value:
            return date.fromisoformat(value)
    return record.valid_from
