"""Objections, repairs, commitments, reports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Tables of xinyong.process (objections and their evidence files, repair applications, credit
commitments) and of the credit reports xinyong.disclose issues (with the platform's HMAC key).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "platform_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_platform_secrets")),
    )
    op.create_table(
        "reports",
        sa.Column("id", Id, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("subject_code", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=4), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.CheckConstraint("format IN ('html', 'pdf', 'json')", name=op.f("ck_reports_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("code", name=op.f("uq_reports_code")),
    )
    op.create_index(op.f("ix_reports_sha256"), "reports", ["sha256"], unique=False)
    op.create_index(op.f("ix_reports_subject_code"), "reports", ["subject_code"], unique=False)
    op.create_table(
        "commitments",
        sa.Column("id", Id, nullable=False),
        sa.Column("subject_code", sa.String(length=32), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("matter", sa.Text(), nullable=False),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("breached_on", sa.Date(), nullable=True),
        sa.Column("breach", sa.Text(), nullable=True),
        sa.Column("breach_record_id", Id, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('open', 'fulfilled', 'breached')", name=op.f("ck_commitments_state")
        ),
        sa.ForeignKeyConstraint(
            ["breach_record_id"],
            ["records.id"],
            name=op.f("fk_commitments_breach_record_id_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
    )
    op.create_index(
        op.f("ix_commitments_subject_code"), "commitments", ["subject_code"], unique=False
    )
    op.create_table(
        "objections",
        sa.Column("id", Id, nullable=False),
        sa.Column("record_id", Id, nullable=True),
        sa.Column("record_key", sa.String(length=64), nullable=True),
        sa.Column("list_id", sa.String(length=64), nullable=True),
        sa.Column("list_entry_id", Id, nullable=True),
        sa.Column("subject_code", sa.String(length=32), nullable=False),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("filer_role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("deadline_rule", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("remedy", sa.String(length=16), nullable=True),
        sa.Column("corrections", Json, nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "filer_role IN ('subject', 'wrongly_matched', 'agent')",
            name=op.f("ck_objections_filer_role"),
        ),
        sa.CheckConstraint(
            "remedy IS NULL OR remedy IN ('withdraw', 'correct')", name=op.f("ck_objections_remedy")
        ),
        sa.CheckConstraint(
            "state IN ('open', 'upheld', 'rejected')", name=op.f("ck_objections_state")
        ),
        sa.CheckConstraint(
            "record_id IS NOT NULL OR list_id IS NOT NULL", name=op.f("ck_objections_target")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_objections_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    op.create_index(op.f("ix_objections_record_id"), "objections", ["record_id"], unique=False)
    op.create_index(op.f("ix_objections_record_key"), "objections", ["record_key"], unique=False)
    op.create_index(
        op.f("ix_objections_subject_code"), "objections", ["subject_code"], unique=False
    )
    op.create_table(
        "objection_files",
        sa.Column("id", Id, nullable=False),
        sa.Column("objection_id", Id, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id"],
            ["objections.id"],
            name=op.f("fk_objection_files_objection_id_objections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection_files")),
    )
    op.create_index(
        op.f("ix_objection_files_objection_id"), "objection_files", ["objection_id"], unique=False
    )
    op.create_table(
        "repairs",
        sa.Column("id", Id, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("subject_code", sa.String(length=32), nullable=False),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("conditions_met", Json, nullable=False),
        sa.Column("commitment_id", Id, nullable=True),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'granted', 'refused')", name=op.f("ck_repairs_state")
        ),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_repairs_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_repairs_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repairs")),
    )
    op.create_index(op.f("ix_repairs_record_id"), "repairs", ["record_id"], unique=False)
    op.create_index(op.f("ix_repairs_record_key"), "repairs", ["record_key"], unique=False)
    op.create_index(op.f("ix_repairs_subject_code"), "repairs", ["subject_code"], unique=False)


def downgrade() -> None:
    op.drop_table("repairs")
    op.drop_table("objection_files")
    op.drop_table("objections")
    op.drop_table("commitments")
    op.drop_index(op.f("ix_reports_subject_code"), table_name="reports")
    op.drop_index(op.f("ix_reports_sha256"), table_name="reports")
    op.drop_table("reports")
    op.drop_table("platform_secrets")
