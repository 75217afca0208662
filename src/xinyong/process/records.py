"""How a process changes a record: a new version, never an overwrite, then the pipeline.

An objection's mark, its outcome and a granted repair each close the record's current version
(``superseded_at``) and add the next one with the new status (and, for a correction, the
corrected fields). The new version is handed to :func:`xinyong.pipeline.apply_records` in the
same transaction, so lists, the restriction index and the feed follow the change or nothing does.

The new version is written unlinked (``subject_id`` NULL) so that the link step attaches it again
by its code and names the subject in the change: that is how the lists and measures steps learn
which subjects to re-derive.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xinyong import pipeline
from xinyong.catalog.model import Catalog
from xinyong.errors import NotFound
from xinyong.ingest.load import content_hash
from xinyong.store.queries import StoredRecord
from xinyong.store.tables import records

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
    catalog: Catalog,
    at: date,
    corrections: Mapping[str, Any] | None = None,
    old_status: str | None = None,
) -> int:
    """Supersede ``record`` (its current version) with one of ``status``; returns the new id.

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
    pipeline.apply_records(conn, [new_id], catalog=catalog, at=at)
    return int(new_id)


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


def emit_feed(conn: Connection, event_type: str, subject: str, payload: dict[str, Any]) -> bool:
    """Publish through ``xinyong.feed.emit`` where the feed has landed; False where it has not."""
    try:
        feed = importlib.import_module("xinyong.feed")
    except ImportError:
        return False
    emit: Callable[..., object] | None = getattr(feed, "emit", None)
    if emit is None:
        return False
    emit(conn, event_type, subject, payload)
    return True
