"""The feed's tables: the outbox, subscribers and what they receive, and what peers sent us.

::

    feed_settings        key → value (this platform's id, the ``origin`` of its events)
    feed_events          the outbox: one row per event, written in the change's transaction;
                         ``published_at`` set once JetStream acknowledged it, ``routed_at`` once
                         subscribers' deliveries were made; events from peers arrive here too
    feed_subscribers ─┬─ feed_watch       subjects a subscriber has a lawful interest in
                      └─ feed_deliveries  one (subscriber, event): webhook attempts, dead letters
    feed_peer_state      the newest state of each record / list entry / restriction a peer sent
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from xinyong.store.metadata import metadata
from xinyong.store.tables import Id, Json

DELIVERY_STATES = ("pending", "delivered", "dead")

feed_settings = Table(
    "feed_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

feed_events = Table(
    "feed_events",
    metadata,
    # The outbox sequence: the order events were written on their origin platform.
    Column("id", Id, primary_key=True),
    # Globally unique: JetStream's ``Nats-Msg-Id`` and the key peers deduplicate on.
    Column("event_id", String(40), nullable=False, unique=True),
    Column("event_type", String(32), nullable=False),
    Column("origin", String(64), nullable=False),
    # The event's sequence on its origin platform; NULL for our own events (it is ``id``).
    Column("origin_seq", Id, nullable=True),
    Column("subject_code", String(32), nullable=True),
    Column("subject_kind", String(16), nullable=True),
    Column("region", String(6), nullable=True),
    Column("payload", Json, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("routed_at", DateTime(timezone=True), nullable=True),
    Index(
        "ix_feed_events_unpublished",
        "id",
        sqlite_where=text("published_at IS NULL"),
        postgresql_where=text("published_at IS NULL"),
    ),
    Index(
        "ix_feed_events_unrouted",
        "id",
        sqlite_where=text("routed_at IS NULL"),
        postgresql_where=text("routed_at IS NULL"),
    ),
    Index("ix_feed_events_subject_code", "subject_code"),
)

feed_subscribers = Table(
    "feed_subscribers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("webhook_url", String(400), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("purpose", Text, nullable=False),
    # The agreement: its legal basis (a catalog instrument, optionally an article) and reference.
    Column("legal_instrument", String(64), nullable=False),
    Column("legal_article", String(32), nullable=True),
    Column("agreement_ref", String(200), nullable=False),
    # What the agreement covers: measures the subscriber implements, lists, record types.
    Column("measures", Json, nullable=False),
    Column("lists", Json, nullable=False),
    Column("record_types", Json, nullable=False),
    # Whether the agreement covers data about individuals; without it none leaves.
    Column("covers_individuals", Boolean, nullable=False, server_default=text("false")),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

feed_watch = Table(
    "feed_watch",
    metadata,
    Column("id", Id, primary_key=True),
    Column("subscriber_id", Id, ForeignKey("feed_subscribers.id"), nullable=False, index=True),
    Column("subject_code", String(32), nullable=False, index=True),
    Column("lawful_interest", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscriber_id", "subject_code"),
)

feed_deliveries = Table(
    "feed_deliveries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("subscriber_id", Id, ForeignKey("feed_subscribers.id"), nullable=False),
    Column("event_id", Id, ForeignKey("feed_events.id"), nullable=False, index=True),
    Column("reason", String(16), nullable=False),
    Column("state", String(16), nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("state IN (" + ", ".join(repr(s) for s in DELIVERY_STATES) + ")", name="state"),
    UniqueConstraint("subscriber_id", "event_id"),
    Index("ix_feed_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
)

feed_peer_state = Table(
    "feed_peer_state",
    metadata,
    Column("origin", String(64), primary_key=True),
    Column("entity", String(16), primary_key=True),
    Column("entity_key", String(200), primary_key=True),
    Column("origin_seq", Id, nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("state", Json, nullable=False),
)
