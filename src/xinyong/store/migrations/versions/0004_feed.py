"""Outbox, subscriptions, webhook deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

The feed (xinyong.feed): the outbox ``feed_events``, subscribers with their agreements and watch
lists, webhook deliveries and dead letters, and the state peers sent us (federation).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "feed_events",
        sa.Column("id", Id, nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("origin_seq", Id, nullable=True),
        sa.Column("subject_code", sa.String(length=32), nullable=True),
        sa.Column("subject_kind", sa.String(length=16), nullable=True),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("payload", Json, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_feed_events_event_id")),
    )
    op.create_index("ix_feed_events_subject_code", "feed_events", ["subject_code"], unique=False)
    op.create_index(
        "ix_feed_events_unpublished",
        "feed_events",
        ["id"],
        unique=False,
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index(
        "ix_feed_events_unrouted",
        "feed_events",
        ["id"],
        unique=False,
        sqlite_where=sa.text("routed_at IS NULL"),
        postgresql_where=sa.text("routed_at IS NULL"),
    )
    op.create_table(
        "feed_peer_state",
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_key", sa.String(length=200), nullable=False),
        sa.Column("origin_seq", Id, nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("state", Json, nullable=False),
        sa.PrimaryKeyConstraint("origin", "entity", "entity_key", name=op.f("pk_feed_peer_state")),
    )
    op.create_table(
        "feed_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_feed_settings")),
    )
    op.create_table(
        "feed_subscribers",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("webhook_url", sa.String(length=400), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_instrument", sa.String(length=64), nullable=False),
        sa.Column("legal_article", sa.String(length=32), nullable=True),
        sa.Column("agreement_ref", sa.String(length=200), nullable=False),
        sa.Column("measures", Json, nullable=False),
        sa.Column("lists", Json, nullable=False),
        sa.Column("record_types", Json, nullable=False),
        sa.Column(
            "covers_individuals", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_subscribers")),
        sa.UniqueConstraint("name", name=op.f("uq_feed_subscribers_name")),
    )
    op.create_table(
        "feed_deliveries",
        sa.Column("id", Id, nullable=False),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column(
            "state", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'dead')", name=op.f("ck_feed_deliveries_state")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["feed_events.id"], name=op.f("fk_feed_deliveries_event_id_feed_events")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["feed_subscribers.id"],
            name=op.f("fk_feed_deliveries_subscriber_id_feed_subscribers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_deliveries")),
        sa.UniqueConstraint(
            "subscriber_id", "event_id", name=op.f("uq_feed_deliveries_subscriber_id_event_id")
        ),
    )
    op.create_index(
        op.f("ix_feed_deliveries_event_id"), "feed_deliveries", ["event_id"], unique=False
    )
    op.create_index(
        "ix_feed_deliveries_state_next_attempt_at",
        "feed_deliveries",
        ["state", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "feed_watch",
        sa.Column("id", Id, nullable=False),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("subject_code", sa.String(length=32), nullable=False),
        sa.Column("lawful_interest", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["feed_subscribers.id"],
            name=op.f("fk_feed_watch_subscriber_id_feed_subscribers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_watch")),
        sa.UniqueConstraint(
            "subscriber_id", "subject_code", name=op.f("uq_feed_watch_subscriber_id_subject_code")
        ),
    )
    op.create_index(
        op.f("ix_feed_watch_subject_code"), "feed_watch", ["subject_code"], unique=False
    )
    op.create_index(
        op.f("ix_feed_watch_subscriber_id"), "feed_watch", ["subscriber_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("feed_watch")
    op.drop_table("feed_deliveries")
    op.drop_table("feed_subscribers")
    op.drop_table("feed_settings")
    op.drop_table("feed_peer_state")
    op.drop_index("ix_feed_events_unrouted", table_name="feed_events")
    op.drop_index("ix_feed_events_unpublished", table_name="feed_events")
    op.drop_table("feed_events")
