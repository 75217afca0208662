"""Revoked portal sessions shared by every process, and a rate limit per API key

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

``revoked_sessions`` (``xinyong.web.tables``): the SHA-256 of each session token ended by
log-out, until the session would have expired anyway, so a cookie revoked in one server process
is refused by all of them. ``api_clients.rate_limit``: requests per minute for that key; NULL
means the default (``xinyong.api.ratelimit.KEY_RATE_LIMIT``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_revoked_sessions")),
    )
    op.create_index(op.f("ix_revoked_sessions_until"), "revoked_sessions", ["until"])
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("rate_limit", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_api_clients_rate_limit"), "rate_limit IS NULL OR rate_limit > 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_constraint(op.f("ck_api_clients_rate_limit"), type_="check")
        batch.drop_column("rate_limit")
    op.drop_index(op.f("ix_revoked_sessions_until"), table_name="revoked_sessions")
    op.drop_table("revoked_sessions")
