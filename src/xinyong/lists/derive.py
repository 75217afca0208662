"""Keeping ``list_entries`` in step with the records, in the caller's transaction.

``derive_subjects`` re-derives every list entry of some subjects from their current records
(the rules in :mod:`xinyong.lists.rules`) and writes only the difference, bitemporally: a changed
entry closes its current version (``superseded_at``) and adds a new one with the same
``entry_id``; an entry whose record no longer lists anyone gets a *removed* version with the day
and the reason. Nothing is ever entered by hand, and nothing is overwritten.

``derive_records`` does the same for the records with some keys only — what the pipeline runs:
an entry is made by one record alone, so a subject's other entries cannot change with these.

``rebuild`` runs the same derivation for every subject; run after an incremental load it changes
nothing (the test suite checks this).

Set-based throughout: per chunk, one query for the current records and one for the current
entries; the rules in Python over those rows; one UPDATE closing old versions and one
``xinyong.link.bulk.insert_rows`` (COPY on PostgreSQL) adding new ones, their ids reserved first
so a new entry's ``entry_id`` is known without reading it back.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, or_, select, update

from xinyong.catalog.model import Catalog
from xinyong.changes import ListChange
from xinyong.link.bulk import (
    among,
    backend,
    by_id,
    current_by_key,
    db_value,
    insert_rows,
    reserve_ids,
)
from xinyong.lists.rules import (
    LISTING_STATUSES,
    EntryTerms,
    RecordView,
    entries_for,
    lists_subject,
)
from xinyong.lists.tables import list_entries
from xinyong.store.engine import utcnow
from xinyong.store.tables import records

#: Subjects per chunk: one query for their records, one for their entries, one write each.
CHUNK = 5000

#: Why an entry was removed, by the status of the record that had made it.
REMOVAL_REASONS: dict[str, str] = {
    "withdrawn": "withdrawn",  # decision revoked or objection upheld (撤销 / 异议成立)
    "repaired": "repaired",  # credit repaired (信用修复)
    "corrected": "corrected",  # superseded by a corrected version that no longer lists
    "under_objection": "suspended",  # suspended while an objection is examined (policy)
    "active": "no_longer_meets_criteria",
}


@dataclass(frozen=True)
class StoredEntry:
    id: int
    entry_id: int
    list_id: str
    subject_id: int
    record_id: int
    record_key: str
    state: str
    notified_on: date | None
    valid_from: date | None
    valid_to: date | None
    until_event: str | None
    extended: bool
    removed_on: date | None
    reason: str | None
    recorded_at: datetime
    superseded_at: datetime | None

    def terms(self) -> EntryTerms:
        return EntryTerms(
            list_id=self.list_id,
            subject_id=self.subject_id,
            record_id=self.record_id,
            record_key=self.record_key,
            notified_on=self.notified_on,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            until_event=self.until_event,
            extended=self.extended,
        )


#: ``list_entries`` columns in ``StoredEntry``'s order.
_ENTRY_COLUMNS = [list_entries.c[name] for name in StoredEntry.__dataclass_fields__]


#: Where ``extended`` is in ``_ENTRY_COLUMNS`` (stored as "yes"/"no").
_EXTENDED = list(StoredEntry.__dataclass_fields__).index("extended")


def _entry(row: Any) -> StoredEntry:
    """A ``StoredEntry`` from a row of ``_ENTRY_COLUMNS`` (by position: the row's own order)."""
    values: tuple[Any, ...] = (*row[:_EXTENDED], row[_EXTENDED] == "yes", *row[_EXTENDED + 1 :])
    return StoredEntry(*values)


#: What ``chunks`` splits: ids or keys.
Value = TypeVar("Value", int, str)


def chunks(values: Iterable[Value], size: int = CHUNK) -> Iterator[list[Value]]:
    """``values`` in order, ``size`` at a time."""
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


class InQuestion(NamedTuple):
    """What a change's records put in question."""

    #: The records' keys.
    keys: set[str]
    #: The subjects of the records and of every version they supersede.
    subject_ids: set[int]
    #: The keys of records that supersede a version (the others are first versions: no entry
    #: can exist for them yet).
    revised: set[str]


def records_in_question(
    conn: Connection, record_ids: Collection[int], keys: Mapping[int, str] | None = None
) -> InQuestion:
    """The keys of these records, their subjects and those of the versions they supersede.
    ``keys``: their ``record_key`` by id, where the caller knows them (``bulk.by_id``)."""
    found = InQuestion(set(), set(), set())
    columns = (records.c.subject_id, records.c.supersedes, records.c.record_key)
    for chunk in chunks(record_ids):
        rows = by_id(conn, records, columns, chunk, keys or {})
        found.keys.update(r.record_key for r in rows)
        found.subject_ids.update(r.subject_id for r in rows if r.subject_id is not None)
        found.revised.update(r.record_key for r in rows if r.supersedes is not None)
        # a version shares the key of the record that supersedes it
        older = {r.supersedes: r.record_key for r in rows if r.supersedes is not None}
        if older:
            found.subject_ids.update(records_in_question(conn, list(older), older).subject_ids)
    return found


#: What the list rules read of a record, in ``RecordView``'s order, before its ``fields`` (the
#: rules here, and ``xinyong.batch.jobs.store_derive_inputs`` for the same rules in SQL).
RULE_COLUMNS = (
    records.c.id,
    records.c.record_key,
    records.c.record_type,
    records.c.subject_id,
    records.c.status,
    records.c.decided_on,
    records.c.valid_from,
    records.c.valid_to,
)


def current_records(
    conn: Connection, subject_ids: Collection[int] | None, keys: Collection[str] | None = None
) -> list[RecordView]:
    """The current records of these subjects, or with these keys (one query: keep the ids or
    keys to a chunk)."""
    columns = (*RULE_COLUMNS, records.c.fields)
    rows: list[Any]
    if keys is not None:  # an unlinked record (no subject) lists nobody
        of = None if subject_ids is None else set(subject_ids)
        rows = [
            r
            for r in current_by_key(conn, records, columns, keys)
            if r.subject_id is not None and (of is None or r.subject_id in of)
        ]
    else:
        query = select(*columns).where(records.c.superseded_at.is_(None))
        if subject_ids is not None:
            query = query.where(among(conn, records.c.subject_id, list(subject_ids)))
        rows = list(conn.execute(query))
    return [_record_view(row) for row in rows]


def _record_view(row: Any) -> RecordView:
    rid, key, rtype, sid, status, decided, v_from, v_to, fields = row
    return RecordView(rid, key, rtype, sid, status, decided, v_from, v_to, dict(fields or {}))


def current_entries(
    conn: Connection, subject_ids: Collection[int], keys: Collection[str] | None = None
) -> list[StoredEntry]:
    """The current entry versions of these subjects (made by records with these keys, if
    given), oldest first; one query per call."""
    query = select(*_ENTRY_COLUMNS).where(
        among(conn, list_entries.c.subject_id, list(subject_ids)),
        list_entries.c.superseded_at.is_(None),
    )
    if keys is not None:
        query = query.where(among(conn, list_entries.c.record_key, list(keys)))
    return [_entry(r) for r in conn.execute(query.order_by(list_entries.c.id))]


def current_versions(conn: Connection, entry_ids: Collection[int]) -> list[StoredEntry]:
    """The current versions of these entries, oldest first; one query per call."""
    query = select(*_ENTRY_COLUMNS).where(
        among(conn, list_entries.c.entry_id, list(entry_ids)),
        list_entries.c.superseded_at.is_(None),
    )
    return [_entry(r) for r in conn.execute(query.order_by(list_entries.c.id))]


def entries_as_of(
    conn: Connection,
    subject_ids: Collection[int],
    *,
    known_at: datetime | None = None,
) -> list[StoredEntry]:
    """Every entry version of these subjects known on ``known_at`` (None: the current ones)."""
    query = select(*_ENTRY_COLUMNS).where(among(conn, list_entries.c.subject_id, list(subject_ids)))
    if known_at is None:
        query = query.where(list_entries.c.superseded_at.is_(None))
    else:
        query = query.where(
            list_entries.c.recorded_at <= known_at,
            or_(list_entries.c.superseded_at.is_(None), list_entries.c.superseded_at > known_at),
        )
    return [_entry(r) for r in conn.execute(query.order_by(list_entries.c.id))]


@dataclass
class _Writes:
    """What one chunk's derivation writes: the versions to close, the versions to add (entry id
    None: a new entry, whose id is its first version's), and the changes to report (with the
    index in ``add`` of a new entry, whose id is known once written)."""

    close: list[int] = field(default_factory=list)
    add: list[tuple[EntryTerms, int | None, date | None, str | None]] = field(default_factory=list)
    changes: list[tuple[ListChange, int | None]] = field(default_factory=list)


def derive_subjects(
    conn: Connection,
    catalog: Catalog,
    subject_ids: Collection[int],
    *,
    at: date,
    statuses: frozenset[str] = LISTING_STATUSES,
) -> list[ListChange]:
    """Re-derive these subjects' list entries; write the difference; return what changed.

    Set-based: per chunk of subjects, one query for their current records and one for their
    current entries; the rules run in Python over those rows; the closed versions are updated in
    one statement and the new ones written with ``xinyong.link.bulk.insert_rows``.

    ``statuses``: record statuses that keep a subject listed (``rules.lists_subject``: a record
    under objection of a type in ``SUSPENDED_UNDER_OBJECTION`` lists nobody whatever the set).
    """
    changes: list[ListChange] = []
    now = utcnow()
    for chunk in chunks(subject_ids):
        recs = current_records(conn, chunk)
        plan = _plan(catalog, recs, current_entries(conn, chunk), at, statuses)
        changes.extend(_write(conn, plan, now))
    return changes


def derive_records(
    conn: Connection,
    catalog: Catalog,
    keys: Collection[str],
    subject_ids: Collection[int],
    *,
    at: date,
    statuses: frozenset[str] = LISTING_STATUSES,
    revised: Collection[str] | None = None,
) -> list[ListChange]:
    """Re-derive the entries that the records with these keys make, among ``subject_ids`` (every
    subject a version of them was ever linked to: ``records_in_question``); write the difference.
    ``revised``: the keys that may have entries already (None: all); for the others (first
    versions) no entries are read.

    An entry is made by one record alone, so the entries of a subject's other records cannot
    change with these (unless the catalog did: then ``rebuild``). This is what the pipeline
    runs: its work follows the change, not the subjects' whole history.
    """
    changes: list[ListChange] = []
    now = utcnow()
    for chunk in chunks(keys):
        recs = current_records(conn, None, chunk)
        known = chunk if revised is None else [k for k in chunk if k in revised]
        entries = current_entries(conn, subject_ids, known) if known else []
        changes.extend(_write(conn, _plan(catalog, recs, entries, at, statuses), now))
    return changes


def _plan(
    catalog: Catalog,
    recs: list[RecordView],
    current: list[StoredEntry],
    at: date,
    statuses: frozenset[str],
) -> _Writes:
    """The difference between the entries ``recs`` make and the ``current`` ones (no database)."""

    status_of = {r.record_key: r.status for r in recs}
    desired: dict[tuple[str, int, str], EntryTerms] = {}
    for rec in recs:
        if lists_subject(rec.status, rec.record_type, statuses):
            for terms in entries_for(catalog, rec):
                desired[(terms.list_id, terms.subject_id, terms.record_key)] = terms
    plan = _Writes()
    for entry in current:
        key = (entry.list_id, entry.subject_id, entry.record_key)
        wanted = desired.pop(key, None)
        if entry.state == "listed" and wanted is None:
            reason = REMOVAL_REASONS.get(status_of.get(entry.record_key, ""), "record_not_current")
            plan.close.append(entry.id)
            plan.add.append((entry.terms(), entry.entry_id, at, reason))
            change = ListChange(entry.subject_id, entry.list_id, entry.entry_id, "removed", reason)
            plan.changes.append((change, None))
        elif entry.state == "listed" and wanted is not None and wanted != entry.terms():
            plan.close.append(entry.id)
            plan.add.append((wanted, entry.entry_id, None, None))
            plan.changes.append((_kind_of_change(entry, wanted, at), None))
        elif entry.state == "removed" and wanted is not None:
            plan.close.append(entry.id)
            plan.add.append((wanted, entry.entry_id, None, None))
            plan.changes.append((_new_entry_change(wanted, entry.entry_id, at), None))
    for terms in desired.values():
        plan.changes.append((_new_entry_change(terms, 0, at), len(plan.add)))
        plan.add.append((terms, None, None, None))
    return plan


def _write(conn: Connection, plan: _Writes, now: datetime) -> list[ListChange]:
    """Close the old versions and add the new ones; the changes, with new entries' ids."""
    if plan.close:
        conn.execute(
            update(list_entries)
            .where(among(conn, list_entries.c.id, plan.close))
            .values(superseded_at=now)
        )
    ids = reserve_ids(conn, list_entries, len(plan.add))
    iso = backend(conn) == "sqlite"
    recorded = db_value(conn, list_entries.c.recorded_at, now)
    rows = [
        (
            row_id,
            entry_id if entry_id is not None else row_id,
            terms.list_id,
            terms.subject_id,
            terms.record_id,
            terms.record_key,
            "removed" if removed_on is not None else "listed",
            driver_date(terms.notified_on, iso),
            driver_date(terms.valid_from, iso),
            driver_date(terms.valid_to, iso),
            terms.until_event,
            "yes" if terms.extended else "no",
            driver_date(removed_on, iso),
            reason,
            recorded,
        )
        for row_id, (terms, entry_id, removed_on, reason) in zip(ids, plan.add, strict=True)
    ]
    insert_rows(conn, list_entries, _INSERT_COLUMNS, rows)
    return [
        change
        if new is None
        else ListChange(
            change.subject_id, change.list_id, ids[new], change.kind, change.reason, created=True
        )
        for change, new in plan.changes
    ]


def driver_date(value: date | None, iso: bool) -> date | str | None:
    """A date as ``insert_rows`` wants it: ISO text for SQLite (``iso``), the date for COPY."""
    return value.isoformat() if iso and value is not None else value


_INSERT_COLUMNS = ("id", "entry_id", "list_id", "subject_id", "record_id", "record_key", "state",
                   "notified_on", "valid_from", "valid_to", "until_event", "extended",
                   "removed_on", "reason", "recorded_at")  # fmt: skip


def _kind_of_change(old: StoredEntry, new: EntryTerms, at: date) -> ListChange:

    later = new.valid_to is None or (old.valid_to is not None and new.valid_to > old.valid_to)
    if new.extended and later:
        return ListChange(new.subject_id, new.list_id, old.entry_id, "extended", "extension")
    if new.valid_to is not None and new.valid_to < at:
        return ListChange(new.subject_id, new.list_id, old.entry_id, "expired", "period_ended")
    return _new_entry_change(new, old.entry_id, at, reason="changed")


def _new_entry_change(
    terms: EntryTerms, entry_id: int, at: date, reason: str | None = None
) -> ListChange:

    if terms.valid_to is not None and terms.valid_to < at:
        return ListChange(terms.subject_id, terms.list_id, entry_id, "expired", "period_ended")
    if terms.notified_on is not None and (terms.valid_from is None or at < terms.valid_from):
        return ListChange(terms.subject_id, terms.list_id, entry_id, "notified", reason)
    return ListChange(terms.subject_id, terms.list_id, entry_id, "published", reason)


def all_subjects_with_records(conn: Connection) -> set[int]:
    """Every subject that has a current record or a current list entry."""
    with_records = conn.execute(
        select(records.c.subject_id)
        .where(records.c.subject_id.is_not(None), records.c.superseded_at.is_(None))
        .distinct()
    ).scalars()
    with_entries = conn.execute(
        select(list_entries.c.subject_id).where(list_entries.c.superseded_at.is_(None)).distinct()
    ).scalars()
    return set(with_records) | set(with_entries)


def rebuild(conn: Connection, catalog: Catalog, *, at: date) -> list[ListChange]:
    """Re-derive every subject's entries; after a correct incremental run this changes nothing."""
    return derive_subjects(conn, catalog, all_subjects_with_records(conn), at=at)
