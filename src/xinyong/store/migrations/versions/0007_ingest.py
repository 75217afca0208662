"""Failed batches keep their reason; lead decisions keep who, when and why

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

``batches.failure``: why a batch ended ``failed`` (written in its own transaction after the
load rolled back). ``link_leads.decided_by`` / ``decided_at`` / ``reason``: the person who
confirmed or rejected a lead (the audit log holds the same, hash-chained).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("batches", sa.Column("failure", sa.Text(), nullable=True))
    op.add_column("link_leads", sa.Column("decided_by", sa.Text(), nullable=True))
    op.add_column("link_leads", sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("link_leads", sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("link_leads") as batch:
        batch.drop_column("reason")
        batch.drop_column("decided_at")
        batch.drop_column("decided_by")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("failure")
