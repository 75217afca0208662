"""Subjects, records, provenance, batches, rejects, link leads

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=400), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("catalog_version", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("accepted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rejected", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("duplicates", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("state IN ('loading', 'done', 'failed')", name=op.f("ck_batches_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    op.create_index(op.f("ix_batches_file_sha256"), "batches", ["file_sha256"], unique=False)

    op.create_table(
        "subjects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("primary_code", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('enterprise', 'organisation', 'government', 'individual', 'sole_trader')",
            name=op.f("ck_subjects_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("primary_code", name=op.f("uq_subjects_primary_code")),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("subject_code", sa.String(length=32), nullable=True),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("document_no", sa.String(length=200), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status", sa.String(length=16), server_default=sa.text("'active'"), nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "supersedes", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'under_objection', 'corrected', 'withdrawn', 'repaired')",
            name=op.f("ck_records_status"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_records_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["records.id"], name=op.f("fk_records_supersedes_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
    )
    op.create_index(
        "ix_records_current_subject",
        "records",
        ["subject_id"],
        unique=False,
        sqlite_where=sa.text("superseded_at IS NULL"),
        postgresql_where=sa.text("superseded_at IS NULL"),
    )
    op.create_index("ix_records_record_key", "records", ["record_key"], unique=False)
    op.create_index("ix_records_subject_code", "records", ["subject_code"], unique=False)
    op.create_index(
        "ix_records_subject_id_record_type", "records", ["subject_id", "record_type"], unique=False
    )
    op.create_index(
        "uq_records_current_key",
        "records",
        ["record_key"],
        unique=True,
        sqlite_where=sa.text("superseded_at IS NULL"),
        postgresql_where=sa.text("superseded_at IS NULL"),
    )

    op.create_table(
        "rejects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "original",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_rejects_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejects")),
    )
    op.create_index(op.f("ix_rejects_batch_id"), "rejects", ["batch_id"], unique=False)

    op.create_table(
        "subject_identifiers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "scheme IN ('uscc', 'ric', 'orgcode', 'registration_no')",
            name=op.f("ck_subject_identifiers_scheme"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_identifiers_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_identifiers")),
        sa.UniqueConstraint("scheme", "value", name=op.f("uq_subject_identifiers_scheme_value")),
    )
    op.create_index(
        op.f("ix_subject_identifiers_subject_id"),
        "subject_identifiers",
        ["subject_id"],
        unique=False,
    )

    op.create_table(
        "subject_names",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("normalised", sa.String(length=200), nullable=False),
        sa.Column("pinyin_key", sa.String(length=400), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_names_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_names")),
        sa.UniqueConstraint("subject_id", "name", name=op.f("uq_subject_names_subject_id_name")),
    )
    op.create_index(
        op.f("ix_subject_names_normalised"), "subject_names", ["normalised"], unique=False
    )
    op.create_index(
        op.f("ix_subject_names_pinyin_key"), "subject_names", ["pinyin_key"], unique=False
    )
    op.create_index(
        op.f("ix_subject_names_subject_id"), "subject_names", ["subject_id"], unique=False
    )

    op.create_table(
        "link_leads",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), server_default=sa.text("'open'"), nullable=False),
        sa.CheckConstraint(
            "state IN ('open', 'confirmed', 'rejected')", name=op.f("ck_link_leads_state")
        ),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_link_leads_confidence")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_link_leads_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_link_leads_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_leads")),
        sa.UniqueConstraint(
            "record_id", "subject_id", name=op.f("uq_link_leads_record_id_subject_id")
        ),
    )
    op.create_index(op.f("ix_link_leads_record_id"), "link_leads", ["record_id"], unique=False)
    op.create_index(op.f("ix_link_leads_subject_id"), "link_leads", ["subject_id"], unique=False)

    op.create_table(
        "provenance",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_provenance_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_provenance_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provenance")),
    )
    op.create_index(op.f("ix_provenance_batch_id"), "provenance", ["batch_id"], unique=False)
    op.create_index(op.f("ix_provenance_record_id"), "provenance", ["record_id"], unique=False)

    op.create_table(
        "subject_relations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "from_subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "to_subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint(
            "role IN ('legal_representative', 'principal', 'actual_controller', "
            "'shareholder', 'branch')",
            name=op.f("ck_subject_relations_role"),
        ),
        sa.ForeignKeyConstraint(
            ["from_subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_relations_from_subject_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_subject_relations_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["to_subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_relations_to_subject_id_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_relations")),
        sa.UniqueConstraint(
            "from_subject_id",
            "to_subject_id",
            "role",
            "record_id",
            name=op.f("uq_subject_relations_from_subject_id_to_subject_id_role_record_id"),
        ),
    )
    op.create_index(
        op.f("ix_subject_relations_from_subject_id"),
        "subject_relations",
        ["from_subject_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_subject_relations_record_id"), "subject_relations", ["record_id"], unique=False
    )
    op.create_index(
        op.f("ix_subject_relations_to_subject_id"),
        "subject_relations",
        ["to_subject_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("subject_relations")
    op.drop_table("provenance")
    op.drop_table("link_leads")
    op.drop_table("subject_names")
    op.drop_table("subject_identifiers")
    op.drop_table("rejects")
    op.drop_table("records")
    op.drop_table("subjects")
    op.drop_table("batches")
