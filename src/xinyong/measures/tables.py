"""The restriction index, the decision log and the agencies' API keys, on the shared metadata.

::

    restrictions   the materialised index: one version of one fact — a list entry reaching a
                   subject (``subject_kind``: its kind), itself or, with ``via_subject_id``/
                   ``role``, a person through an enterprise (法释〔2015〕17号 art. 3). The
                   measures, actions and effects it carries come from the catalog at check time
                   (``xinyong.measures.reach``; revision 0014). Valid time ``valid_from`` …
                   ``valid_to`` (inclusive, NULL = open); recorded time ``recorded_at`` …
                   ``superseded_at``. A check is one lookup on ``subject_id``.
    decisions      every decision taken: id, catalog version, inputs, outcome, reasons (JSON)
    api_clients    implementing agencies' keys: only the SHA-256 of a key is kept, and the key's
                   rate limit when it is not the default
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)

from xinyong.audit.tables import UTCDateTime
from xinyong.store.metadata import metadata
from xinyong.store.tables import Id, Json

EFFECTS = ("deny", "review", "prefer")
OUTCOMES = ("permit", "deny", "review", "prefer")
CLIENT_ROLES = ("agency", "department", "operator")

restrictions = Table(
    "restrictions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("subject_id", Id, nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("list_id", String(64), nullable=False),
    Column("entry_id", Id, nullable=False),
    Column("source_subject_id", Id, nullable=False, index=True),
    Column("record_id", Id, nullable=False),
    Column("via_subject_id", Id, nullable=True),
    Column("role", String(32), nullable=True),
    Column("relation_record_id", Id, nullable=True),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("superseded_at", UTCDateTime(), nullable=True),
    # No foreign key to subjects either (revision 0013): three probes per index row written cost
    # PostgreSQL more than the row itself (docs/performance.md); subjects are never deleted.
    # The keys of record_id's and relation_record_id's records. No foreign key to records: the
    # index is derived (from list_entries and subject_relations, which reference records), and
    # re-derivation checks it (lists.derive.rebuild, `xinyong batch derive --compare`); a
    # per-row check against the partitioned records cost a third of ingest on PostgreSQL
    # (docs/scale.md). The keys let the check's join to records prune partitions.
    Column("record_key", String(64), nullable=False),
    Column("relation_record_key", String(64), nullable=True),
    Index("ix_restrictions_subject_id", "subject_id"),
    Index(
        "ix_restrictions_current_list",
        "list_id",
        "subject_id",
        sqlite_where=text("superseded_at IS NULL"),
        postgresql_where=text("superseded_at IS NULL"),
    ),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("decision_id", String(36), nullable=False, unique=True),
    Column("catalog_version", String(64), nullable=False),
    Column("subject", String(32), nullable=False, index=True),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=True),
    Column("action", String(64), nullable=False),
    Column("at", Date, nullable=False),
    Column("known_at", UTCDateTime(), nullable=True),
    Column("outcome", String(8), nullable=False),
    Column("until", Date, nullable=True),
    Column("reasons", Json, nullable=False),
    Column("actor", String(128), nullable=True),
    Column("decided_at", UTCDateTime(), nullable=False),
    CheckConstraint("outcome IN ('permit', 'deny', 'review', 'prefer')", name="outcome"),
)

api_clients = Table(
    "api_clients",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("authority", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("key_sha256", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    # Requests per minute for this key; NULL: the default (xinyong.api.ratelimit.KEY_RATE_LIMIT).
    Column("rate_limit", Integer, nullable=True),
    CheckConstraint("role IN ('agency', 'department', 'operator')", name="role"),
    CheckConstraint("rate_limit IS NULL OR rate_limit > 0", name="rate_limit"),
)
