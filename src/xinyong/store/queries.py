"""Reading the store: the subject a code names; records as they were on a date, as known on a
date; a subject's file.

``find_subject(conn, code)`` is the one way from a code as someone typed it to a subject: the
code is identified and normalised (:func:`xinyong.codes.identifiers.identify`: compact, upper
case, a 15-digit citizen number as its 18-digit form), then looked up among the subject's
identifiers, a USCC also by the organisation code inside it (a subject first known by its old
organisation code). ``subject_by_id`` is the same answer for an id.

Valid time: a record holds from ``valid_from`` (or, if none, ``decided_on``) through
``valid_to`` inclusive (the last day it holds; NULL = open). Recorded time: a version was known
from ``recorded_at`` until ``superseded_at`` (exclusive; NULL = still current).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from xinyong.codes.identifiers import Identifier, identify
from xinyong.errors import InvalidCode, SubjectNotFound, UnusableInput
from xinyong.store.tables import (
    batches,
    provenance,
    records,
    rejects,
    subject_identifiers,
    subject_names,
    subject_relations,
    subjects,
)


@dataclass(frozen=True)
class StoredRecord:
    """One version of a record, as stored."""

    id: int
    record_type: str
    source: str
    subject_id: int | None
    subject_code: str | None
    subject_name: str
    document_no: str | None
    decided_on: date | None
    valid_from: date | None
    valid_to: date | None
    fields: dict[str, Any]
    status: str
    version: int
    supersedes: int | None
    recorded_at: datetime
    superseded_at: datetime | None


def _as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _record(row: Any) -> StoredRecord:
    m = row._mapping
    recorded_at = _as_utc(m["recorded_at"])
    assert recorded_at is not None
    return StoredRecord(
        id=m["id"],
        record_type=m["record_type"],
        source=m["source"],
        subject_id=m["subject_id"],
        subject_code=m["subject_code"],
        subject_name=m["subject_name"],
        document_no=m["document_no"],
        decided_on=m["decided_on"],
        valid_from=m["valid_from"],
        valid_to=m["valid_to"],
        fields=dict(m["fields"] or {}),
        status=m["status"],
        version=m["version"],
        supersedes=m["supersedes"],
        recorded_at=recorded_at,
        superseded_at=_as_utc(m["superseded_at"]),
    )


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def records_for(
    conn: Connection,
    subject_id: int,
    at: date | None = None,
    known_at: datetime | None = None,
    *,
    record_type: str | None = None,
    include_withdrawn: bool = False,
) -> list[StoredRecord]:
    """Records about a subject that held on ``at``, in the versions known on ``known_at``.

    ``at=None``: any valid time (the whole history). ``known_at=None``: the current versions.
    Withdrawn records are left out unless ``include_withdrawn``.
    """
    query = select(records).where(records.c.subject_id == subject_id)
    if known_at is None:
        query = query.where(records.c.superseded_at.is_(None))
    else:
        k = _utc(known_at)
        query = query.where(
            records.c.recorded_at <= k,
            or_(records.c.superseded_at.is_(None), records.c.superseded_at > k),
        )
    if at is not None:
        start = func.coalesce(records.c.valid_from, records.c.decided_on)
        query = query.where(
            or_(start.is_(None), start <= at),
            or_(records.c.valid_to.is_(None), records.c.valid_to >= at),
        )
    if record_type is not None:
        query = query.where(records.c.record_type == record_type)
    if not include_withdrawn:
        query = query.where(records.c.status != "withdrawn")
    query = query.order_by(records.c.decided_on, records.c.id)
    return [_record(row) for row in conn.execute(query)]


def current_records(
    conn: Connection, subject_ids: list[int], *, always: bool = False
) -> dict[int, list[StoredRecord]]:
    """The current versions of the records about a few subjects (withdrawn ones too), by
    subject: what a page of search hits needs to know which of them the public may see.
    ``always``: run the statement even for no subjects (the same work for a search that finds
    nobody as for one that finds only people the public may not see)."""
    out: dict[int, list[StoredRecord]] = {sid: [] for sid in subject_ids}
    if not subject_ids and not always:
        return out
    query = (
        select(records)
        .where(records.c.subject_id.in_(subject_ids), records.c.superseded_at.is_(None))
        .order_by(records.c.decided_on, records.c.id)
    )
    for row in conn.execute(query):
        out[row.subject_id].append(_record(row))
    return out


@dataclass(frozen=True)
class SubjectRef:
    """A subject as found: its id, kind and primary code (its id as text if it has none)."""

    id: int
    kind: str
    code: str


def find_subject(conn: Connection, code: str) -> SubjectRef:
    """The subject ``code`` names. ``UnusableInput`` for a code that is not valid (the reason
    named), ``SubjectNotFound`` for a valid code no subject holds."""
    try:
        ident = identify(code)
    except InvalidCode as error:
        raise UnusableInput(f"{code}: {error.bilingual()} (reason: {error.reason})") from error
    sid = subject_id_for(conn, ident)
    if sid is None:
        raise SubjectNotFound(ident.value)
    return subject_by_id(conn, sid)


def subject_id_for(conn: Connection, ident: Identifier) -> int | None:
    """The id of the subject an identified code names (``Identifier.lookup_keys``), if any."""
    for scheme, value in ident.lookup_keys:
        sid = conn.execute(
            select(subject_identifiers.c.subject_id).where(
                subject_identifiers.c.scheme == scheme, subject_identifiers.c.value == value
            )
        ).scalar_one_or_none()
        if sid is not None:
            return int(sid)
    return None


def subject_by_id(conn: Connection, subject_id: int) -> SubjectRef:
    """The subject with this id, or ``SubjectNotFound``."""
    row = conn.execute(
        select(subjects.c.id, subjects.c.kind, subjects.c.primary_code).where(
            subjects.c.id == subject_id
        )
    ).first()
    if row is None:
        raise SubjectNotFound(f"id {subject_id}")
    return SubjectRef(row.id, row.kind, row.primary_code or str(row.id))


@dataclass(frozen=True)
class SubjectFile:
    """What ``xinyong subject show`` prints: one subject with everything the store knows."""

    id: int
    kind: str
    primary_code: str | None
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    names: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "primary_code": self.primary_code,
            "identifiers": self.identifiers,
            "names": self.names,
            "relations": self.relations,
            "records": self.records,
        }


def _iso(value: date | datetime | None) -> str | None:
    if isinstance(value, datetime):
        value = _as_utc(value)
    return value.isoformat() if value is not None else None


def subject_file(conn: Connection, subject_id: int) -> SubjectFile | None:
    """A subject's identifiers, names, relations (both directions) and current records."""
    head = conn.execute(select(subjects).where(subjects.c.id == subject_id)).first()
    if head is None:
        return None
    idents = [
        {"scheme": r.scheme, "value": r.value}
        for r in conn.execute(
            select(subject_identifiers)
            .where(subject_identifiers.c.subject_id == subject_id)
            .order_by(subject_identifiers.c.scheme)
        )
    ]
    names = [
        {"name": r.name, "valid_from": _iso(r.valid_from), "valid_to": _iso(r.valid_to)}
        for r in conn.execute(
            select(subject_names)
            .where(subject_names.c.subject_id == subject_id)
            .order_by(subject_names.c.id)
        )
    ]
    other = subjects.alias("other")
    relations = []
    for direction, mine, theirs in (
        ("outgoing", subject_relations.c.from_subject_id, subject_relations.c.to_subject_id),
        ("incoming", subject_relations.c.to_subject_id, subject_relations.c.from_subject_id),
    ):
        for r in conn.execute(
            select(subject_relations, other.c.primary_code.label("other_code"))
            .join(other, other.c.id == theirs)
            .where(mine == subject_id)
            .order_by(subject_relations.c.id)
        ):
            relations.append(
                {
                    "direction": direction,
                    "role": r.role,
                    "subject_code": r.other_code,
                    "valid_from": _iso(r.valid_from),
                    "valid_to": _iso(r.valid_to),
                    "record_id": r.record_id,
                }
            )
    recs = []
    for rec in records_for(conn, subject_id, include_withdrawn=True):
        prov = [
            {"batch": p.batch_id, "source": p.source, "row": p.row_number, "file": p.file_name}
            for p in conn.execute(
                select(provenance, batches.c.file_name)
                .join(batches, batches.c.id == provenance.c.batch_id)
                .where(provenance.c.record_id == rec.id)
                .order_by(provenance.c.id)
            )
        ]
        recs.append(
            {
                "id": rec.id,
                "record_type": rec.record_type,
                "source": rec.source,
                "document_no": rec.document_no,
                "decided_on": _iso(rec.decided_on),
                "valid_from": _iso(rec.valid_from),
                "valid_to": _iso(rec.valid_to),
                "status": rec.status,
                "version": rec.version,
                "recorded_at": _iso(rec.recorded_at),
                "fields": rec.fields,
                "provenance": prov,
            }
        )
    return SubjectFile(
        id=head.id,
        kind=head.kind,
        primary_code=head.primary_code,
        identifiers=idents,
        names=names,
        relations=relations,
        records=recs,
    )


def batch_list(conn: Connection, *, source: str | None = None, limit: int = 50) -> list[Any]:
    """The newest batches, of one source authority or of all."""
    query = select(batches).order_by(batches.c.id.desc()).limit(limit)
    if source is not None:
        query = query.where(batches.c.source == source)
    return list(conn.execute(query))


def batch_json(row: Any) -> dict[str, Any]:
    """One ``batches`` row as the CLI (``xinyong batches --json``) and the API show it."""
    return {
        "batch": row.id,
        "record_type": row.record_type,
        "source": row.source,
        "file_name": row.file_name,
        "file_sha256": row.file_sha256,
        "catalog_version": row.catalog_version,
        "state": row.state,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "accepted": row.accepted,
        "rejected": row.rejected,
        "duplicates": row.duplicates,
        "failure": row.failure,
    }


def batch_by_id(conn: Connection, batch_id: int) -> Any:
    """One batch row, or None."""
    return conn.execute(select(batches).where(batches.c.id == batch_id)).first()


def batch_rejects(
    conn: Connection, batch_id: int, *, limit: int = 200, offset: int = 0
) -> list[Any]:
    """A batch's rejected rows in file order, one page."""
    return list(
        conn.execute(
            select(rejects)
            .where(rejects.c.batch_id == batch_id)
            .order_by(rejects.c.row_number)
            .limit(limit)
            .offset(offset)
        )
    )
