"""Subjects, their identifiers, names and relations; records, their provenance and batches.

Records are bitemporal. *Valid time* is when the fact holds (``decided_on``, ``valid_from`` …
``valid_to``); *recorded time* is when the platform learned it (``recorded_at`` …
``superseded_at``; ``superseded_at IS NULL`` is the current version). A correction never
overwrites: it closes the old version's recorded time and adds a new version that names the one it
``supersedes``.

::

    subjects ─┬─ subject_identifiers   (scheme, value) unique: how codes find a subject
              ├─ subject_names         valid_from … valid_to, normalised + pinyin key
              └─ subject_relations     from → to, role, valid time, source record
    batches ── provenance ── records ── link_leads (candidate subjects for unlinked records)
       └──── rejects
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from xinyong.store.metadata import metadata

#: Primary keys: 64-bit on PostgreSQL, ``INTEGER PRIMARY KEY`` (the rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")
#: Record fields as given: JSONB on PostgreSQL, JSON text on SQLite.
Json = JSON().with_variant(JSONB(), "postgresql")

SUBJECT_KINDS = ("enterprise", "organisation", "government", "individual", "sole_trader")
ID_SCHEMES = ("uscc", "ric", "orgcode", "registration_no")
RELATION_ROLES = (
    "legal_representative",
    "principal",
    "actual_controller",
    "shareholder",
    "branch",
)
RECORD_STATUSES = ("active", "under_objection", "corrected", "withdrawn", "repaired")
BATCH_STATES = ("loading", "done", "failed")
LEAD_STATES = ("open", "confirmed", "rejected")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def record_reference(id_column: str, key_column: str, *, full: bool = True) -> ForeignKeyConstraint:
    """A reference to one record version: ``(id_column, key_column)`` → ``records (id,
    record_key)``. Composite because ``records`` is partitioned by ``record_key`` on PostgreSQL
    and a foreign key must name the whole primary key there. ``full`` (``MATCH FULL``): both set
    or both NULL (PostgreSQL; SQLite parses and ignores it); not for ``records.supersedes``,
    whose key column is the record's own, always set."""
    return ForeignKeyConstraint(
        [id_column, key_column],
        ["records.id", "records.record_key"],
        match="FULL" if full else None,
    )


subjects = Table(
    "subjects",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("primary_code", String(32), nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(_one_of("kind", SUBJECT_KINDS), name="kind"),
)

subject_identifiers = Table(
    "subject_identifiers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("scheme", String(16), nullable=False),
    Column("value", String(32), nullable=False),
    UniqueConstraint("scheme", "value"),
    CheckConstraint(_one_of("scheme", ID_SCHEMES), name="scheme"),
)

subject_names = Table(
    "subject_names",
    metadata,
    Column("id", Id, primary_key=True),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("normalised", String(200), nullable=False, index=True),
    Column("pinyin_key", String(400), nullable=False, index=True),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    UniqueConstraint("subject_id", "name"),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Id, primary_key=True),
    Column("record_type", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("file_name", String(400), nullable=False),
    Column("file_sha256", String(64), nullable=False, index=True),
    Column("catalog_version", String(64), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("state", String(16), nullable=False),
    Column("accepted", Integer, nullable=False, server_default=text("0")),
    Column("rejected", Integer, nullable=False, server_default=text("0")),
    Column("duplicates", Integer, nullable=False, server_default=text("0")),
    # Why a batch failed (state ``failed``), zh / en; written after the load's rollback.
    Column("failure", Text, nullable=True),
    CheckConstraint(_one_of("state", BATCH_STATES), name="state"),
)

records = Table(
    "records",
    metadata,
    Column("id", Id, primary_key=True),
    Column("record_type", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=True),
    Column("subject_code", String(32), nullable=True),
    Column("subject_name", String(200), nullable=False),
    Column("document_no", String(200), nullable=True),
    Column("decided_on", Date, nullable=True),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("fields", Json, nullable=False),
    Column("status", String(16), nullable=False, server_default=text("'active'")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    # The version this one corrects: always of the same record_key (see the composite key below).
    Column("supersedes", Id, nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("superseded_at", DateTime(timezone=True), nullable=True),
    # Identity of "the same record" across files: record type, source, document number, subject.
    Column("record_key", String(64), nullable=False),
    # Hash of the content, so a re-sent unchanged row is a duplicate and a changed one a correction.
    Column("row_hash", String(64), nullable=False),
    CheckConstraint(_one_of("status", RECORD_STATUSES), name="status"),
    # What rows elsewhere refer to: (id, record_key), the primary key on PostgreSQL where
    # records are partitioned by hash of record_key (xinyong.store.partitions).
    UniqueConstraint("id", "record_key"),
    record_reference("supersedes", "record_key", full=False),
    Index("ix_records_subject_id_record_type", "subject_id", "record_type"),
    Index("ix_records_record_key", "record_key"),
    # At most one current version per key; also the index for "current records".
    Index(
        "uq_records_current_key",
        "record_key",
        unique=True,
        sqlite_where=text("superseded_at IS NULL"),
        postgresql_where=text("superseded_at IS NULL"),
    ),
    Index(
        "ix_records_current_subject",
        "subject_id",
        sqlite_where=text("superseded_at IS NULL"),
        postgresql_where=text("superseded_at IS NULL"),
    ),
    Index("ix_records_subject_code", "subject_code"),
)

subject_relations = Table(
    "subject_relations",
    metadata,
    Column("id", Id, primary_key=True),
    Column("from_subject_id", Id, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("to_subject_id", Id, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("record_id", Id, nullable=False, index=True),
    Column("record_key", String(64), nullable=False),
    record_reference("record_id", "record_key"),
    CheckConstraint(_one_of("role", RELATION_ROLES), name="role"),
    UniqueConstraint("from_subject_id", "to_subject_id", "role", "record_id"),
)

provenance = Table(
    "provenance",
    metadata,
    Column("id", Id, primary_key=True),
    Column("record_id", Id, nullable=False, index=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False, index=True),
    Column("source", String(64), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("record_key", String(64), nullable=False),
    record_reference("record_id", "record_key"),
)

rejects = Table(
    "rejects",
    metadata,
    Column("id", Id, primary_key=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False, index=True),
    Column("row_number", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("original", Json, nullable=False),
)

link_leads = Table(
    "link_leads",
    metadata,
    Column("id", Id, primary_key=True),
    Column("record_id", Id, nullable=False, index=True),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("confidence", Float, nullable=False),
    Column("method", String(32), nullable=False),
    Column("state", String(16), nullable=False, server_default=text("'open'")),
    # Who confirmed or rejected the lead, when and why (also in the audit log).
    Column("decided_by", Text, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("reason", Text, nullable=True),
    Column("record_key", String(64), nullable=False),
    record_reference("record_id", "record_key"),
    CheckConstraint(_one_of("state", LEAD_STATES), name="state"),
    CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence"),
    UniqueConstraint("record_id", "subject_id"),
)
