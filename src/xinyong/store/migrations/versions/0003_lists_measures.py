"""List entries, restriction index, decisions, API clients

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Reserved for xinyong.lists / xinyong.measures;
until its tables land this revision changes nothing.
"""

from __future__ import annotations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
