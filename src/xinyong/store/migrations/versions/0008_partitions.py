"""Composite references to records; on PostgreSQL, records and audit_events partitioned

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

Both databases: every reference to a record version becomes ``(id, record_key)`` →
``records (id, record_key)`` (``MATCH FULL``). The tables that did not carry the key get it
(``subject_relations``, ``provenance``, ``link_leads``: ``record_key``; ``restrictions``:
``record_key`` and ``relation_record_key``; ``commitments``: ``breach_record_key``), filled from
``records``; ``records.supersedes`` uses the record's own ``record_key`` (a correction keeps its
key). ``records`` gets ``UNIQUE (id, record_key)`` for the references to name.

The restriction index is the exception: it keeps both keys but no longer a foreign key to
``records`` (see ``xinyong.measures.tables``): a derived index whose rows are checked by
re-derivation, where a per-row check against the partitioned table cost a third of ingest.

PostgreSQL only (``xinyong.store.partitions``): ``records`` becomes ``PARTITION BY HASH
(record_key)`` with ``XINYONG_RECORD_PARTITIONS`` partitions (read now; default 16), primary key
``(id, record_key)`` (which also stands for the unique constraint above);
``audit_events`` becomes ``PARTITION BY RANGE (at)``, one partition a month from the month of
its oldest row (or this month) through 12 months ahead and a default partition, with primary
key ``(id, at)`` and ``UNIQUE (hash, at)``, ``UNIQUE (prev_hash, at)``. Each is a new table,
the rows copied (audit events in chain order), the old one dropped, the name taken over, in
the migration's one transaction. The downgrade does the reverse (rows copied back into plain
tables).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from xinyong.store.partitions import (
    AUDIT_DEFAULT_PARTITION,
    ensure_audit_partitions,
    month_of,
    record_partition_count,
    record_partition_names,
)

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: (table, id column, key column, key nullable, key column new in 0008)
REFERENCES = (
    ("subject_relations", "record_id", "record_key", False, True),
    ("provenance", "record_id", "record_key", False, True),
    ("link_leads", "record_id", "record_key", False, True),
    ("list_entries", "record_id", "record_key", False, False),
    ("restrictions", "record_id", "record_key", False, True),
    ("restrictions", "relation_record_id", "relation_record_key", True, True),
    ("objections", "record_id", "record_key", True, False),
    ("repairs", "record_id", "record_key", False, False),
    ("commitments", "breach_record_id", "breach_record_key", True, True),
)
#: Tables whose reference to records 0008 drops instead of making composite (0007 had one).
UNCHECKED = frozenset({"restrictions"})

RECORD_INDEXES = (
    "CREATE INDEX ix_records_subject_id_record_type ON records (subject_id, record_type)",
    "CREATE INDEX ix_records_record_key ON records (record_key)",
    "CREATE UNIQUE INDEX uq_records_current_key ON records (record_key) "
    "WHERE superseded_at IS NULL",
    "CREATE INDEX ix_records_current_subject ON records (subject_id) WHERE superseded_at IS NULL",
    "CREATE INDEX ix_records_subject_code ON records (subject_code)",
)


def _fk(table: str, id_column: str) -> str:
    return f"fk_{table}_{id_column}_records"


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    for table, id_column, key_column, _, new in REFERENCES:
        if new:
            op.add_column(table, sa.Column(key_column, sa.String(64), nullable=True))
        op.execute(
            f"UPDATE {table} SET {key_column} = r.record_key FROM records r "
            f"WHERE r.id = {table}.{id_column} "
            f"AND {table}.{key_column} IS DISTINCT FROM r.record_key"
        )
    if postgres:
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _upgrade_postgresql() -> None:
    for table, id_column, key_column, nullable, _ in REFERENCES:
        op.drop_constraint(_fk(table, id_column), table, type_="foreignkey")
        if not nullable:
            op.alter_column(table, key_column, nullable=False)
    op.drop_constraint("fk_records_supersedes_records", "records", type_="foreignkey")
    _partition_records(record_partition_count())
    _partition_audit_events()
    # A correction keeps its record's key: supersedes names a version of the same key (MATCH
    # SIMPLE: a first version has no supersedes but always a key).
    op.execute(
        "ALTER TABLE records ADD CONSTRAINT fk_records_supersedes_records "
        "FOREIGN KEY (supersedes, record_key) REFERENCES records (id, record_key)"
    )
    for table, id_column, key_column, _, _ in REFERENCES:
        if table in UNCHECKED:
            continue
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {_fk(table, id_column)} "
            f"FOREIGN KEY ({id_column}, {key_column}) REFERENCES records (id, record_key) "
            "MATCH FULL"
        )


def _partition_records(count: int) -> None:
    op.execute(
        "CREATE TABLE records_partitioned (LIKE records INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING STORAGE) PARTITION BY HASH (record_key)"
    )
    for i, name in enumerate(record_partition_names(count)):
        op.execute(
            f"CREATE TABLE {name} PARTITION OF records_partitioned "
            f"FOR VALUES WITH (MODULUS {count}, REMAINDER {i})"
        )
    op.execute("INSERT INTO records_partitioned SELECT * FROM records")
    # The id sequence outlives the old table and belongs to the new one.
    op.execute("ALTER SEQUENCE records_id_seq OWNED BY NONE")
    op.execute("DROP TABLE records")
    op.execute("ALTER TABLE records_partitioned RENAME TO records")
    op.execute("ALTER SEQUENCE records_id_seq OWNED BY records.id")
    op.execute("ALTER TABLE records ADD CONSTRAINT pk_records PRIMARY KEY (id, record_key)")
    op.execute(
        "ALTER TABLE records ADD CONSTRAINT fk_records_subject_id_subjects "
        "FOREIGN KEY (subject_id) REFERENCES subjects (id)"
    )
    for statement in RECORD_INDEXES:
        op.execute(statement)


def _partition_audit_events() -> None:
    conn = op.get_bind()
    oldest = conn.execute(sa.text("SELECT min(at) FROM audit_events")).scalar_one()
    now = datetime.now(UTC).date()
    first = month_of(oldest.astimezone(UTC).date()) if oldest is not None else month_of(now)
    op.execute("ALTER TABLE audit_events RENAME TO audit_events_unpartitioned")
    op.execute("ALTER INDEX pk_audit_events RENAME TO pk_audit_events_unpartitioned")
    op.execute("DROP INDEX ix_audit_events_subject")
    op.execute(
        "CREATE TABLE audit_events (LIKE audit_events_unpartitioned INCLUDING DEFAULTS "
        "INCLUDING CONSTRAINTS INCLUDING STORAGE) PARTITION BY RANGE (at)"
    )
    op.execute(
        "ALTER TABLE audit_events ADD CONSTRAINT pk_audit_events PRIMARY KEY (id, at), "
        "ADD CONSTRAINT uq_audit_events_hash_at UNIQUE (hash, at), "
        "ADD CONSTRAINT uq_audit_events_prev_hash_at UNIQUE (prev_hash, at)"
    )
    op.execute("CREATE INDEX ix_audit_events_subject ON audit_events (subject)")
    op.execute(f"CREATE TABLE {AUDIT_DEFAULT_PARTITION} PARTITION OF audit_events DEFAULT")
    # A partition for every month from the oldest row's through 12 months ahead, then the rows
    # in chain order (each after the one whose hash it names).
    ensure_audit_partitions(conn, first=first, today=now)
    op.execute("INSERT INTO audit_events SELECT * FROM audit_events_unpartitioned ORDER BY id")
    op.execute("DROP TABLE audit_events_unpartitioned")


def _upgrade_sqlite() -> None:
    # The tables are rebuilt (SQLite cannot alter a constraint); xinyong.store.schema.upgrade
    # runs this with foreign keys off and checks them all before committing.
    # Twice: a reference to (id, record_key) needs the unique key in place while rows are copied.
    with op.batch_alter_table("records") as batch:
        batch.create_unique_constraint("uq_records_id_record_key", ["id", "record_key"])
    with op.batch_alter_table("records") as batch:
        batch.drop_constraint("fk_records_supersedes_records", type_="foreignkey")
        batch.create_foreign_key(
            "fk_records_supersedes_records",
            "records",
            ["supersedes", "record_key"],
            ["id", "record_key"],
        )
    for table in dict.fromkeys(t for t, *_ in REFERENCES):
        with op.batch_alter_table(table) as batch:
            for t, id_column, key_column, nullable, _ in REFERENCES:
                if t != table:
                    continue
                if not nullable:
                    batch.alter_column(key_column, existing_type=sa.String(64), nullable=False)
                batch.drop_constraint(_fk(table, id_column), type_="foreignkey")
                if table in UNCHECKED:
                    continue
                batch.create_foreign_key(
                    _fk(table, id_column),
                    "records",
                    [id_column, key_column],
                    ["id", "record_key"],
                    match="FULL",
                )


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        _downgrade_postgresql()
    else:
        _downgrade_sqlite()
    for table, _, key_column, _, new in reversed(REFERENCES):
        if new:
            with op.batch_alter_table(table) as batch:
                batch.drop_column(key_column)


def _downgrade_postgresql() -> None:
    for table, id_column, *_ in (("records", "supersedes"), *REFERENCES):
        if table not in UNCHECKED:
            op.drop_constraint(_fk(table, id_column), table, type_="foreignkey")
    op.execute(
        "CREATE TABLE records_plain (LIKE records INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING STORAGE)"
    )
    op.execute("INSERT INTO records_plain SELECT * FROM records")
    op.execute("ALTER SEQUENCE records_id_seq OWNED BY NONE")
    op.execute("DROP TABLE records")
    op.execute("ALTER TABLE records_plain RENAME TO records")
    op.execute("ALTER SEQUENCE records_id_seq OWNED BY records.id")
    op.execute("ALTER TABLE records ADD CONSTRAINT pk_records PRIMARY KEY (id)")
    op.execute(
        "ALTER TABLE records ADD CONSTRAINT fk_records_subject_id_subjects "
        "FOREIGN KEY (subject_id) REFERENCES subjects (id)"
    )
    for statement in RECORD_INDEXES:
        op.execute(statement)
    op.execute(
        "CREATE TABLE audit_events_plain (LIKE audit_events INCLUDING DEFAULTS "
        "INCLUDING CONSTRAINTS INCLUDING STORAGE)"
    )
    op.execute("INSERT INTO audit_events_plain SELECT * FROM audit_events ORDER BY id")
    op.execute("DROP TABLE audit_events")
    op.execute("ALTER TABLE audit_events_plain RENAME TO audit_events")
    op.execute(
        "ALTER TABLE audit_events ADD CONSTRAINT pk_audit_events PRIMARY KEY (id), "
        "ADD CONSTRAINT uq_audit_events_hash UNIQUE (hash), "
        "ADD CONSTRAINT uq_audit_events_prev_hash UNIQUE (prev_hash)"
    )
    op.execute("CREATE INDEX ix_audit_events_subject ON audit_events (subject)")
    op.execute(
        "ALTER TABLE records ADD CONSTRAINT fk_records_supersedes_records "
        "FOREIGN KEY (supersedes) REFERENCES records (id)"
    )
    for table, id_column, *_ in REFERENCES:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {_fk(table, id_column)} "
            f"FOREIGN KEY ({id_column}) REFERENCES records (id)"
        )


def _downgrade_sqlite() -> None:
    for table in dict.fromkeys(t for t, *_ in REFERENCES):
        with op.batch_alter_table(table) as batch:
            for t, id_column, *_ in REFERENCES:
                if t == table:
                    if table not in UNCHECKED:
                        batch.drop_constraint(_fk(table, id_column), type_="foreignkey")
                    batch.create_foreign_key(_fk(table, id_column), "records", [id_column], ["id"])
    with op.batch_alter_table("records") as batch:
        batch.drop_constraint("fk_records_supersedes_records", type_="foreignkey")
        batch.create_foreign_key("fk_records_supersedes_records", "records", ["supersedes"], ["id"])
        batch.drop_constraint("uq_records_id_record_key", type_="unique")
