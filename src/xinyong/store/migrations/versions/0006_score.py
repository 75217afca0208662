"""Scores and scoring model files

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Reserved for xinyong.score, which stores nothing (a score is computed when it is
read): this revision changes nothing.
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
