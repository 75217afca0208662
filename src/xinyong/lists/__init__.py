"""Lists (名单): membership derived from records by the catalog's criteria, never by hand.

- ``lists_step(conn, change)`` — the pipeline step: re-derives the entries the change's records
  make (on their subjects and those of the versions they supersede) and fills
  ``change.list_changes``; ``derive_records(conn, catalog, keys, subject_ids, *, at)`` is the
  same for given record keys.
- ``derive_subjects(conn, catalog, subject_ids, *, at, statuses=LISTING_STATUSES)`` — the same
  for given subjects; ``statuses`` is the due-process policy hook (which record statuses keep a
  subject listed).
- ``rebuild(conn, catalog, *, at)`` — every subject; ``entries_as_of(conn, ids, known_at=…)``.
- ``entry_terms(list_def, record)`` — the period rules (``xinyong.lists.rules``).
"""

from __future__ import annotations

from sqlalchemy import Connection

from xinyong.changes import Change
from xinyong.lists.derive import (
    derive_records,
    derive_subjects,
    entries_as_of,
    rebuild,
    records_in_question,
)
from xinyong.lists.rules import LISTING_STATUSES, EntryTerms, RecordView, entry_terms


def lists_step(conn: Connection, change: Change) -> None:
    """Pipeline step: re-derive the entries the change's records make (on every subject a
    version of them names), and add those subjects to the change."""
    found = records_in_question(conn, change.record_ids, change.record_keys)
    change.subject_ids |= found.subject_ids
    change.list_changes.extend(
        derive_records(
            conn,
            change.catalog,
            found.keys,
            change.subject_ids,
            at=change.at,
            revised=found.revised,
        )
    )


__all__ = [
    "LISTING_STATUSES",
    "EntryTerms",
    "RecordView",
    "derive_records",
    "derive_subjects",
    "entries_as_of",
    "entry_terms",
    "lists_step",
    "rebuild",
]
