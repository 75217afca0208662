"""List entries, restriction index, decisions, API clients

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Tables of xinyong.lists (list_entries) and xinyong.measures (restrictions, decisions,
api_clients).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = sa.DateTime(timezone=True)
CURRENT: dict[str, Any] = {
    "sqlite_where": sa.text("superseded_at IS NULL"),
    "postgresql_where": sa.text("superseded_at IS NULL"),
}


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("revoked_at", When, nullable=True),
        sa.CheckConstraint(
            "role IN ('agency', 'department', 'operator')", name=op.f("ck_api_clients_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_api_clients_key_sha256")),
    )
    op.create_table(
        "decisions",
        sa.Column("id", Id, nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("catalog_version", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("subject_id", Id, nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Date(), nullable=False),
        sa.Column("known_at", When, nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("reasons", Json, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("decided_at", When, nullable=False),
        sa.CheckConstraint(
            "outcome IN ('permit', 'deny', 'review', 'prefer')",
            name=op.f("ck_decisions_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_decisions_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_decisions_decision_id")),
    )
    op.create_index(op.f("ix_decisions_subject"), "decisions", ["subject"], unique=False)
    op.create_table(
        "list_entries",
        sa.Column("id", Id, nullable=False),
        sa.Column("entry_id", Id, nullable=True),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("subject_id", Id, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("until_event", sa.String(length=16), nullable=True),
        sa.Column("extended", sa.String(length=5), server_default=sa.text("'no'"), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", When, nullable=False),
        sa.Column("superseded_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_list_entries_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_list_entries_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entries")),
    )
    op.create_index(
        "ix_list_entries_current_subject", "list_entries", ["subject_id"], unique=False, **CURRENT
    )
    op.create_index(op.f("ix_list_entries_entry_id"), "list_entries", ["entry_id"], unique=False)
    op.create_index(op.f("ix_list_entries_record_id"), "list_entries", ["record_id"], unique=False)
    op.create_index(
        "ix_list_entries_subject_id_list_id",
        "list_entries",
        ["subject_id", "list_id"],
        unique=False,
    )
    op.create_table(
        "restrictions",
        sa.Column("id", Id, nullable=False),
        sa.Column("subject_id", Id, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("measure_id", sa.String(length=64), nullable=False),
        sa.Column("effect", sa.String(length=8), nullable=False),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("entry_id", Id, nullable=False),
        sa.Column("source_subject_id", Id, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("via_subject_id", Id, nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("relation_record_id", Id, nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("recorded_at", When, nullable=False),
        sa.Column("superseded_at", When, nullable=True),
        sa.CheckConstraint(
            "effect IN ('deny', 'review', 'prefer')", name=op.f("ck_restrictions_effect")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_restrictions_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["relation_record_id"],
            ["records.id"],
            name=op.f("fk_restrictions_relation_record_id_records"),
        ),
        sa.ForeignKeyConstraint(
            ["source_subject_id"],
            ["subjects.id"],
            name=op.f("fk_restrictions_source_subject_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_restrictions_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["via_subject_id"],
            ["subjects.id"],
            name=op.f("fk_restrictions_via_subject_id_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restrictions")),
    )
    op.create_index(
        "ix_restrictions_current_action",
        "restrictions",
        ["action", "subject_id"],
        unique=False,
        **CURRENT,
    )
    op.create_index(
        op.f("ix_restrictions_source_subject_id"),
        "restrictions",
        ["source_subject_id"],
        unique=False,
    )
    op.create_index(
        "ix_restrictions_subject_id_action", "restrictions", ["subject_id", "action"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_restrictions_subject_id_action", table_name="restrictions")
    op.drop_index(op.f("ix_restrictions_source_subject_id"), table_name="restrictions")
    op.drop_index("ix_restrictions_current_action", table_name="restrictions", **CURRENT)
    op.drop_table("restrictions")
    op.drop_index("ix_list_entries_subject_id_list_id", table_name="list_entries")
    op.drop_index(op.f("ix_list_entries_record_id"), table_name="list_entries")
    op.drop_index(op.f("ix_list_entries_entry_id"), table_name="list_entries")
    op.drop_index("ix_list_entries_current_subject", table_name="list_entries", **CURRENT)
    op.drop_table("list_entries")
    op.drop_index(op.f("ix_decisions_subject"), table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("api_clients")
