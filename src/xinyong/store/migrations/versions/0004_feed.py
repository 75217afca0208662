"""Outbox, subscriptions, webhook deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Reserved for xinyong.feed;
until its tables land this revision changes nothing.
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
