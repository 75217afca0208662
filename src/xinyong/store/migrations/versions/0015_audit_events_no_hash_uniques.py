"""Audit events without the unique indexes on hash and prev_hash: audit_events_no_hash_uniques

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-04

Every audited append wrote five index entries per event on PostgreSQL, two of them into unique
indexes on ``(hash, at)`` and ``(prev_hash, at)`` — random SHA-256 keys, so each entry lands on
a different page of a growing index. Measured with the same 20,000 chained events in ``psql``
(no Python; groups of 128 and one of 20,000, each ``BEGIN; UPDATE audit_head; COPY; COMMIT``,
interleaved): without the two indexes PostgreSQL appended 1.4–1.6× as fast
(docs/performance.md, "Audit append").

What the two constraints guarded, and what guards it now:

- **Forks** (two events claiming one predecessor, or one position). Appends take the head's row
  lock (the database's write lock on SQLite) and check under it that no event holds a position
  they take (``xinyong.audit.events``; the decision writer's one-statement append checks the
  same, ``max(id)`` against the head, in the statement that moves the head). On PostgreSQL the
  constraints already contained ``at`` (a unique index on a partitioned table must contain the
  partition key), so they never refused a fork whose events differed in time: the check under
  the lock did, and does (tests/audit, tests/measures/test_writer.py).
- **Tamper evidence** never rested on them: whoever can write the table can drop a constraint.
  It rests on the chain — ``audit verify`` recomputes every hash from the genesis value in
  ``id`` order and compares the last with the head and with anchors kept elsewhere — which
  catches a duplicated, inserted, deleted, reordered or changed event with or without them
  (the tampering tests in tests/audit/test_audit_chain.py pass unchanged).
- **Lookups by hash**: only ``verify``'s diagnosis of a broken link (which event a broken link
  follows) looks an event up by hash, once, after a full read of the chain.

No data changes. The primary key (``id`` order for verify and the append's check) and the
subject index (who looked at a subject's file) stay. The downgrade puts the constraints back.
"""

from __future__ import annotations

from alembic import op

from xinyong.store.partitions import is_partitioned

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

#: The two constraints: name and columns, as revision 0002 (plain) and 0008 (partitioned) made them.
PLAIN: dict[str, tuple[str, ...]] = {
    "uq_audit_events_hash": ("hash",),
    "uq_audit_events_prev_hash": ("prev_hash",),
}
PARTITIONED: dict[str, tuple[str, ...]] = {
    "uq_audit_events_hash_at": ("hash", "at"),
    "uq_audit_events_prev_hash_at": ("prev_hash", "at"),
}


def _constraints() -> dict[str, tuple[str, ...]]:
    return PARTITIONED if is_partitioned(op.get_bind(), "audit_events") else PLAIN


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in _constraints():
            op.drop_constraint(name, "audit_events", type_="unique")
        return
    with op.batch_alter_table("audit_events") as batch:  # SQLite rebuilds the table
        for name in PLAIN:
            batch.drop_constraint(name, type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, columns in _constraints().items():
            op.create_unique_constraint(name, "audit_events", list(columns))
        return
    with op.batch_alter_table("audit_events") as batch:
        for name, columns in PLAIN.items():
            batch.create_unique_constraint(name, list(columns))
