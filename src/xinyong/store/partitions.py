"""PostgreSQL declarative partitioning: ``records`` by hash of ``record_key``, ``audit_events`` by
month of ``at``; and the upkeep that creates the coming months' audit partitions.

::

    records        PARTITION BY HASH (record_key)   records_p00 … records_pNN
                   N = XINYONG_RECORD_PARTITIONS when migration 0008 runs (default 16)
    audit_events   PARTITION BY RANGE (at)          audit_events_2026_11 … (one a month, UTC)
                                                    audit_events_default (anything outside them)

Why these keys (docs/scale.md, "Partitioning"): ``record_key`` is the only key that keeps
``uq_records_current_key`` (one current version per record) a database guarantee, since a unique
index on a partitioned table must contain the partition key; the audit log is append-only and
archived by period, so time ranges keep every append in the newest, small partition.

What PostgreSQL then requires, and the models (one schema for SQLite and PostgreSQL) do not
say: every unique constraint contains the partition key. ``PG_UNIQUE`` lists, per partitioned
table, the model's unique constraints and what stands in for each on PostgreSQL; the schema
test (``tests/store/test_schema.py``) allows exactly these differences and no others.

On SQLite nothing is partitioned; every function here is for PostgreSQL connections only,
except ``ensure_audit_partitions`` and ``is_partitioned``, which do nothing (answer False) there.

``ensure_audit_partitions`` is the upkeep: it creates the monthly partitions from this month
through ``AUDIT_MONTHS_AHEAD`` months ahead that do not exist yet, and moves rows the default
partition holds for such a month into it. ``xinyong init`` runs it on every call; run
``xinyong init`` from deploy or a monthly cron so the months never run out (when they do, rows
land in the default partition and nothing fails; the next run moves them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, text

from xinyong.settings import DEFAULT_RECORD_PARTITIONS as DEFAULT_RECORD_PARTITIONS
from xinyong.settings import MAX_RECORD_PARTITIONS as MAX_RECORD_PARTITIONS
from xinyong.settings import load as load_settings

#: Environment variable read when migration 0008 partitions ``records``: how many hash partitions.
RECORD_PARTITIONS_ENV = "XINYONG_RECORD_PARTITIONS"
#: How many months ahead of the current one ``ensure_audit_partitions`` keeps ready.
AUDIT_MONTHS_AHEAD = 12
AUDIT_DEFAULT_PARTITION = "audit_events_default"


@dataclass(frozen=True)
class Partitioned:
    """One partitioned table: how, by what, and its unique constraints on PostgreSQL."""

    table: str
    strategy: str  # "hash" or "range" (pg_partitioned_table.partstrat 'h' / 'r')
    key: str
    #: The primary key's columns on PostgreSQL (the model's primary key plus the partition key).
    primary_key: tuple[str, ...]
    #: Model unique constraint (its columns) → the constraint that stands in for it on PostgreSQL
    #: (its name and columns); None where the primary key stands in.
    unique: dict[tuple[str, ...], tuple[str, tuple[str, ...]] | None]


RECORDS = Partitioned(
    table="records",
    strategy="hash",
    key="record_key",
    primary_key=("id", "record_key"),
    unique={("id", "record_key"): None},
)
AUDIT_EVENTS = Partitioned(
    table="audit_events",
    strategy="range",
    key="at",
    primary_key=("id", "at"),
    unique={},  # (hash, at) and (prev_hash, at) until revision 0015
)
#: Every table partitioned on PostgreSQL, by name.
PG_PARTITIONED = {p.table: p for p in (RECORDS, AUDIT_EVENTS)}


def record_partition_count(environ: dict[str, str] | None = None) -> int:
    """The number of hash partitions for ``records``: ``XINYONG_RECORD_PARTITIONS`` or 16."""
    return load_settings(environ).record_partitions


def record_partition_names(count: int) -> list[str]:
    width = max(2, len(str(count - 1)))
    return [f"records_p{i:0{width}d}" for i in range(count)]


def month_of(moment: date) -> date:
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(first: date, last: date) -> list[date]:
    """The first days of the months from ``first``'s through ``last``'s, in order."""
    out, month = [], month_of(first)
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


def audit_partition_name(month: date) -> str:
    return f"audit_events_{month:%Y_%m}"


def _bound(month: date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'"


def is_partitioned(conn: Connection, table: str) -> bool:
    """Whether ``table`` is a partitioned table (always False on SQLite)."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace"
        ),
        {"name": table},
    ).first()
    return found is not None


def partitions_of(conn: Connection, table: str) -> list[str]:
    """The names of ``table``'s partitions, sorted."""
    return list(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = CAST(:name AS regclass) ORDER BY c.relname"
            ),
            {"name": table},
        ).scalars()
    )


def all_partitions(conn: Connection) -> set[str]:
    """The names of every table that is a partition of another (empty on SQLite)."""
    if conn.dialect.name != "postgresql":
        return set()
    return set(
        conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relispartition "
                "AND relnamespace = current_schema()::regnamespace"
            )
        ).scalars()
    )


def outside_partitions(conn: Connection) -> dict[str, Any]:
    """Alembic options (``include_name``, ``include_object``) that leave partitions out of
    comparisons: they are PostgreSQL's storage of a partitioned table the models declare, not
    tables of their own, and their indexes and foreign keys (including the per-partition
    entries PostgreSQL keeps for a reference *to* a partitioned table) are the parent's."""
    partitions = all_partitions(conn)

    def include_name(name: str | None, kind: str, parents: Mapping[str, str | None]) -> bool:
        return not (kind == "table" and name in partitions)

    def include_object(
        item: Any, name: str | None, kind: str, reflected: bool, compare_to: Any
    ) -> bool:
        if kind == "foreign_key_constraint" and reflected:
            return str(item.referred_table.name) not in partitions
        return True

    return {"include_name": include_name, "include_object": include_object}


def create_audit_partition(conn: Connection, month: date) -> str:
    """Create the partition of ``audit_events`` for ``month``; rows the default partition holds
    for that month are moved into it first (PostgreSQL refuses the partition otherwise)."""
    name, low, high = audit_partition_name(month), _bound(month), _bound(next_month(month))
    where = f"at >= {low} AND at < {high}"
    held = conn.execute(text(f"SELECT 1 FROM {AUDIT_DEFAULT_PARTITION} WHERE {where} LIMIT 1"))
    if held.first() is None:
        conn.execute(
            text(
                f"CREATE TABLE {name} PARTITION OF audit_events FOR VALUES FROM ({low}) TO ({high})"
            )
        )
        return name
    # Same rows, same hashes: the chain does not change, only where its rows are kept.
    conn.execute(text(f"CREATE TABLE {name} (LIKE audit_events INCLUDING ALL)"))
    conn.execute(text(f"INSERT INTO {name} SELECT * FROM {AUDIT_DEFAULT_PARTITION} WHERE {where}"))
    conn.execute(text(f"DELETE FROM {AUDIT_DEFAULT_PARTITION} WHERE {where}"))
    conn.execute(
        text(
            f"ALTER TABLE audit_events ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})"
        )
    )
    return name


def ensure_audit_partitions(
    conn: Connection,
    *,
    first: date | None = None,
    today: date | None = None,
    ahead: int = AUDIT_MONTHS_AHEAD,
) -> list[str]:
    """Create the monthly partitions of ``audit_events`` missing from ``first``'s month (default:
    this month) through ``ahead`` months after this month; returns the names created. Idempotent;
    nothing on SQLite or while ``audit_events`` is not partitioned. Takes a transaction-level
    advisory lock, so two runs at once create each month once."""
    if not is_partitioned(conn, "audit_events"):
        return []
    now = month_of(today or datetime.now(UTC).date())
    last = now
    for _ in range(ahead):
        last = next_month(last)
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('xinyong.audit_partitions'))"))
    have = set(partitions_of(conn, "audit_events"))
    created = []
    for month in months(min(first or now, now), last):
        if audit_partition_name(month) not in have:
            created.append(create_audit_partition(conn, month))
    return created
