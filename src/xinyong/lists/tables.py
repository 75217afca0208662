"""List entries (名单条目), bitemporal, on the shared metadata.

::

    list_entries   one version of one subject's entry on one list, derived from one record.
                   ``entry_id`` is stable across versions (the first version's ``id``);
                   valid time: ``notified_on`` (告知), ``valid_from`` (published, in effect) …
                   ``valid_to`` (last day, inclusive; NULL = until ``until_event``);
                   recorded time: ``recorded_at`` … ``superseded_at`` (NULL = current).
                   ``state`` is ``listed`` or ``removed`` (a removal is a version of its own,
                   with ``removed_on`` and ``reason``).
"""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, Text, text

from xinyong.audit.tables import UTCDateTime
from xinyong.store.metadata import metadata
from xinyong.store.tables import Id, record_reference

ENTRY_STATES = ("listed", "removed")

list_entries = Table(
    "list_entries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("entry_id", Id, nullable=True, index=True),
    Column("list_id", String(64), nullable=False),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False),
    Column("record_id", Id, nullable=False, index=True),
    Column("record_key", String(64), nullable=False),
    record_reference("record_id", "record_key"),
    Column("state", String(16), nullable=False),
    Column("notified_on", Date, nullable=True),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("until_event", String(16), nullable=True),
    Column("extended", String(5), nullable=False, server_default=text("'no'")),
    Column("removed_on", Date, nullable=True),
    Column("reason", Text, nullable=True),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("superseded_at", UTCDateTime(), nullable=True),
    Index("ix_list_entries_subject_id_list_id", "subject_id", "list_id"),
    Index(
        "ix_list_entries_current_subject",
        "subject_id",
        sqlite_where=text("superseded_at IS NULL"),
        postgresql_where=text("superseded_at IS NULL"),
    ),
)
