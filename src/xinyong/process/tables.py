"""Tables of the processes people start, and of the credit reports the platform issues.

::

    objections ── objection_files   an objection against a record (or a list entry), routed to
        │                           the source authority, due on a working-day deadline; its
        │                           evidence files (name, size, sha256 and the bytes)
    repairs                         an application for credit repair of one record, and its decision
    commitments                     a credit commitment (信用承诺) a subject signed; a breach
                                    points at the record it became
    reports                         every credit report issued: verification code, sha256 of the
                                    file (or canonical content) and an HMAC with the platform secret
    platform_secrets                the HMAC key when none is given in ``XINYONG_REPORT_SECRET``

Each process row names the record *version* it was about (``record_id``) and the record's
``record_key``, so it still finds the record after later versions supersede that one.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from xinyong.process.lifecycle import COMMITMENT, OBJECTION, REPAIR
from xinyong.store.metadata import metadata
from xinyong.store.tables import Id, Json, record_reference

OBJECTION_REMEDIES = ("withdraw", "correct")
FILER_ROLES = ("subject", "wrongly_matched", "agent")
REPORT_FORMATS = ("html", "pdf", "json")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


objections = Table(
    "objections",
    metadata,
    Column("id", Id, primary_key=True),
    Column("record_id", Id, nullable=True, index=True),
    Column("record_key", String(64), nullable=True, index=True),
    record_reference("record_id", "record_key"),
    Column("list_id", String(64), nullable=True),
    Column("list_entry_id", Id, nullable=True),
    Column("subject_code", String(32), nullable=False, index=True),
    Column("filed_by", String(200), nullable=False),
    Column("filer_role", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("authority", String(64), nullable=False),
    Column("filed_at", DateTime(timezone=True), nullable=False),
    Column("filed_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("deadline_rule", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("remedy", String(16), nullable=True),
    Column("corrections", Json, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_on", Date, nullable=True),
    Column("decision_reason", Text, nullable=True),
    CheckConstraint(_one_of("state", OBJECTION.states), name="state"),
    CheckConstraint(_one_of("filer_role", FILER_ROLES), name="filer_role"),
    CheckConstraint(f"remedy IS NULL OR {_one_of('remedy', OBJECTION_REMEDIES)}", name="remedy"),
    CheckConstraint("record_id IS NOT NULL OR list_id IS NOT NULL", name="target"),
)

objection_files = Table(
    "objection_files",
    metadata,
    Column("id", Id, primary_key=True),
    Column("objection_id", Id, ForeignKey("objections.id"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

repairs = Table(
    "repairs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("record_id", Id, nullable=False, index=True),
    Column("record_key", String(64), nullable=False, index=True),
    record_reference("record_id", "record_key"),
    Column("subject_code", String(32), nullable=False, index=True),
    Column("applied_by", String(200), nullable=False),
    Column("statement", Text, nullable=False),
    Column("conditions_met", Json, nullable=False),
    Column("commitment_id", Id, ForeignKey("commitments.id"), nullable=True),
    Column("authority", String(64), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("applied_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("state", String(16), nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_on", Date, nullable=True),
    Column("decision_reason", Text, nullable=True),
    CheckConstraint(_one_of("state", REPAIR.states), name="state"),
)

commitments = Table(
    "commitments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("subject_code", String(32), nullable=False, index=True),
    Column("subject_name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("matter", Text, nullable=False),
    Column("authority", String(64), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("due_on", Date, nullable=True),
    Column("state", String(16), nullable=False),
    Column("breached_on", Date, nullable=True),
    Column("breach", Text, nullable=True),
    Column("breach_record_id", Id, nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("breach_record_key", String(64), nullable=True),
    record_reference("breach_record_id", "breach_record_key"),
    CheckConstraint(_one_of("state", COMMITMENT.states), name="state"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("subject_code", String(32), nullable=False, index=True),
    Column("audience", String(16), nullable=False),
    Column("format", String(8), nullable=False),
    Column("lang", String(4), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("mac", String(64), nullable=False),
    CheckConstraint(_one_of("format", REPORT_FORMATS), name="format"),
)

platform_secrets = Table(
    "platform_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
