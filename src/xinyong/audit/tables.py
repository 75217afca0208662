"""The audit chain's tables, on the shared metadata.

::

    audit_events   one row per event, append-only; ``id`` is the position in the chain
                   (1, 2, 3 … without gaps), ``prev_hash`` the hash of event ``id - 1``
                   (or the genesis value), ``hash`` sha256 over the event and ``prev_hash``
    audit_head     one row (id 1): the last event's ``seq`` and ``hash``. Appending locks it,
                   so appends from many processes line up one after another; verifying compares
                   it with the last event, so a cut-off tail does not go unnoticed.

A fork (two events at one position, or claiming one predecessor) is refused by the append
itself, under the head's lock: no event may already hold a position it takes
(``events._write_chained``, ``events.append_after``). ``hash`` and ``prev_hash`` carry no unique
index (revision 0015 dropped them: they cost more than half of PostgreSQL's append and, on the
table partitioned by ``at``, contained ``at`` and so never refused a fork anyway); tampering is
caught by ``verify``, which recomputes the chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Dialect, Integer, String, Table, Text
from sqlalchemy.types import TypeDecorator

from xinyong.store.metadata import metadata


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both databases (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("audit times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: 64-bit on PostgreSQL, plain INTEGER on SQLite.
Seq = BigInteger().with_variant(Integer(), "sqlite")

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("subject", Text, nullable=True, index=True),
    Column("action", Text, nullable=False),
    Column("resource", Text, nullable=True),
    Column("outcome", Text, nullable=True),
    Column("detail", Text, nullable=True),  # canonical JSON text, exactly as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Seq, nullable=False),
    Column("hash", String(64), nullable=False),
)
