"""Keeping ``list_entries`` in step with the records, in the caller's transaction.

``derive_subjects`` re-derives every list entry of some subjects from their current records
(the rules in :mod:`xinyong.lists.rules`) and writes only the difference, bitemporally: a changed
entry closes its current version (``superseded_at``) and adds a new one with the same
``entry_id``; an entry whose record no longer lists anyone gets a *removed* version with the day
and the reason. Nothing is ever entered by hand, and nothing is overwritten.

``rebuild`` runs the same derivation for every subject; run after an incremental load it changes
nothing (the test suite checks this).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, or_, select, update

from xinyong.catalog.model import Catalog
from xinyong.lists.rules import LISTING_STATUSES, EntryTerms, RecordView, entries_for
from xinyong.lists.tables import list_entries
from xinyong.store.engine import utcnow
from xinyong.store.tables import records

if TYPE_CHECKING:  # the pipeline imports this package's step: no import cycle at run time
    from xinyong.pipeline import ListChange

CHUNK = 2000

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


def _entry(row: Any) -> StoredEntry:
    m = row._mapping
    return StoredEntry(**{**m, "extended": m["extended"] == "yes"})


def chunks(values: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def subjects_of(conn: Connection, record_ids: Sequence[int]) -> set[int]:
    """The subjects of these records and of the versions they supersede (a correction may move a
    record from one subject to another: both must be re-derived)."""
    out: set[int] = set()
    for chunk in chunks(record_ids):
        rows = conn.execute(
            select(records.c.subject_id, records.c.supersedes).where(records.c.id.in_(chunk))
        ).all()
        out.update(r.subject_id for r in rows if r.subject_id is not None)
        older = [r.supersedes for r in rows if r.supersedes is not None]
        if older:
            out |= subjects_of(conn, older)
    return out


def current_records(conn: Connection, subject_ids: Collection[int]) -> list[RecordView]:
    query = select(
        records.c.id,
        records.c.record_key,
        records.c.record_type,
        records.c.subject_id,
        records.c.status,
        records.c.decided_on,
        records.c.valid_from,
        records.c.valid_to,
        records.c.fields,
    ).where(records.c.subject_id.in_(list(subject_ids)), records.c.superseded_at.is_(None))
    return [
        RecordView(
            id=r.id,
            record_key=r.record_key,
            record_type=r.record_type,
            subject_id=r.subject_id,
            status=r.status,
            decided_on=r.decided_on,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            fields=dict(r.fields or {}),
        )
        for r in conn.execute(query)
    ]


def current_entries(conn: Connection, subject_ids: Collection[int]) -> list[StoredEntry]:
    query = select(list_entries).where(
        list_entries.c.subject_id.in_(list(subject_ids)), list_entries.c.superseded_at.is_(None)
    )
    return [_entry(r) for r in conn.execute(query)]


def entries_as_of(
    conn: Connection,
    subject_ids: Collection[int],
    *,
    known_at: datetime | None = None,
) -> list[StoredEntry]:
    """Every entry version of these subjects known on ``known_at`` (None: the current ones)."""
    query = select(list_entries).where(list_entries.c.subject_id.in_(list(subject_ids)))
    if known_at is None:
        query = query.where(list_entries.c.superseded_at.is_(None))
    else:
        query = query.where(
            list_entries.c.recorded_at <= known_at,
            or_(list_entries.c.superseded_at.is_(None), list_entries.c.superseded_at > known_at),
        )
    return [_entry(r) for r in conn.execute(query.order_by(list_entries.c.id))]


def derive_subjects(
    conn: Connection,
    catalog: Catalog,
    subject_ids: Collection[int],
    *,
    at: date,
    statuses: frozenset[str] = LISTING_STATUSES,
) -> list[ListChange]:
    """Re-derive these subjects' list entries; write the difference; return what changed.

    ``statuses``: record statuses that keep a subject listed (the due-process policy's hook:
    pass a set without ``under_objection`` to suspend listings while objections are examined).
    """
    from xinyong.pipeline import ListChange

    changes: list[ListChange] = []
    now = utcnow()
    for chunk in chunks(subject_ids):
        recs = current_records(conn, chunk)
        status_of = {r.record_key: r.status for r in recs}
        desired: dict[tuple[str, int, str], EntryTerms] = {}
        for rec in recs:
            if rec.status in statuses:
                for terms in entries_for(catalog, rec):
                    desired[(terms.list_id, terms.subject_id, terms.record_key)] = terms
        for entry in current_entries(conn, chunk):
            key = (entry.list_id, entry.subject_id, entry.record_key)
            wanted = desired.pop(key, None)
            if entry.state == "listed" and wanted is None:
                reason = REMOVAL_REASONS.get(
                    status_of.get(entry.record_key, ""), "record_not_current"
                )
                _close(conn, entry.id, now)
                _insert(conn, entry.terms(), now, entry.entry_id, removed_on=at, reason=reason)
                changes.append(
                    ListChange(entry.subject_id, entry.list_id, entry.entry_id, "removed", reason)
                )
            elif entry.state == "listed" and wanted is not None and wanted != entry.terms():
                _close(conn, entry.id, now)
                _insert(conn, wanted, now, entry.entry_id)
                changes.append(_kind_of_change(entry, wanted, at))
            elif entry.state == "removed" and wanted is not None:
                _close(conn, entry.id, now)
                _insert(conn, wanted, now, entry.entry_id)
                changes.append(_new_entry_change(wanted, entry.entry_id, at))
        for terms in desired.values():
            entry_id = _insert(conn, terms, now, None)
            changes.append(_new_entry_change(terms, entry_id, at))
    return changes


def _kind_of_change(old: StoredEntry, new: EntryTerms, at: date) -> ListChange:
    from xinyong.pipeline import ListChange

    later = new.valid_to is None or (old.valid_to is not None and new.valid_to > old.valid_to)
    if new.extended and later:
        return ListChange(new.subject_id, new.list_id, old.entry_id, "extended", "extension")
    if new.valid_to is not None and new.valid_to < at:
        return ListChange(new.subject_id, new.list_id, old.entry_id, "expired", "period_ended")
    return _new_entry_change(new, old.entry_id, at, reason="changed")


def _new_entry_change(
    terms: EntryTerms, entry_id: int, at: date, reason: str | None = None
) -> ListChange:
    from xinyong.pipeline import ListChange

    if terms.valid_to is not None and terms.valid_to < at:
        return ListChange(terms.subject_id, terms.list_id, entry_id, "expired", "period_ended")
    if terms.notified_on is not None and (terms.valid_from is None or at < terms.valid_from):
        return ListChange(terms.subject_id, terms.list_id, entry_id, "notified", reason)
    return ListChange(terms.subject_id, terms.list_id, entry_id, "published", reason)


def _close(conn: Connection, row_id: int, now: datetime) -> None:
    conn.execute(update(list_entries).where(list_entries.c.id == row_id).values(superseded_at=now))


def _insert(
    conn: Connection,
    terms: EntryTerms,
    now: datetime,
    entry_id: int | None,
    *,
    removed_on: date | None = None,
    reason: str | None = None,
) -> int:
    row_id: int = conn.execute(
        insert(list_entries).returning(list_entries.c.id),
        {
            "entry_id": entry_id,
            "list_id": terms.list_id,
            "subject_id": terms.subject_id,
            "record_id": terms.record_id,
            "record_key": terms.record_key,
            "state": "removed" if removed_on is not None else "listed",
            "notified_on": terms.notified_on,
            "valid_from": terms.valid_from,
            "valid_to": terms.valid_to,
            "until_event": terms.until_event,
            "extended": "yes" if terms.extended else "no",
            "removed_on": removed_on,
            "reason": reason,
            "recorded_at": now,
            "superseded_at": None,
        },
    ).scalar_one()
    if entry_id is None:
        conn.execute(
            update(list_entries).where(list_entries.c.id == row_id).values(entry_id=row_id)
        )
        entry_id = row_id
    return entry_id


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
