"""The materialised restriction index: (subject, list entry, from, until), one lookup away.

One row per fact: a list entry reaching a subject — the listed subject itself, or a person who
holds a role in a listed enterprise. Which measures, actions and effects the fact carries is
the catalog's business (:mod:`xinyong.measures.reach`), resolved when a check reads the row; the
index keeps the subject's kind so that needs no join (issue 19: the index's size follows the
facts, not facts × measures × actions).

``derive_restrictions`` re-derives the rows that some subjects' list entries cause — on the
subjects themselves and, for role-linked measures only, on the people related to them by
registration records or by records naming a legal representative by ID number — and writes the
difference bitemporally (a row that goes is closed with ``superseded_at``; a changed row is
closed and added anew). It runs in the caller's transaction, right after the lists step, so the
index never lags the records it derives from.

The pipeline step does only the work the change calls for: the rows of the entries the lists
step changed (``derive_entry_restrictions``), and all rows of the enterprises whose relations
the change's records may have changed (``relations_changed``: officer rows, and records naming
a legal representative by ID number). Every step is set-based: a few queries per chunk of ids,
the difference computed in Python, one UPDATE for the rows closed and
``xinyong.link.bulk.insert_rows`` (COPY on PostgreSQL) for the rows added.

Who a measure reaches:

- the listed subject, when the measure ``applies_to`` its kind;
- a person who holds one of the measure's ``role_linked`` roles (legal representative, principal
  responsible person, actual controller) in a listed enterprise, by a relation that registration
  records made by code (法释〔2015〕17号 art. 3), for as long as both the entry and the relation
  hold. No other relation (shareholder, branch, family, employees) ever carries a measure.

Only list entries exist for code-linked records (an unlinked record has no subject), so a
restriction on an individual always rests on a record that names them by code.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Literal, NamedTuple

from sqlalchemy import Connection, select, update

from xinyong.catalog.model import ROLES, Catalog
from xinyong.changes import Change, RestrictionChange
from xinyong.link import relation_types
from xinyong.link.bulk import among, backend, by_id, db_value, insert_rows
from xinyong.lists.derive import (
    StoredEntry,
    all_subjects_with_records,
    chunks,
    current_entries,
    current_versions,
    driver_date,
    records_in_question,
)
from xinyong.measures.reach import reach_of
from xinyong.measures.tables import restrictions
from xinyong.store.engine import utcnow
from xinyong.store.tables import records, subject_relations, subjects


class Row(NamedTuple):
    """One fact as derived (the index row without its recorded time). A named tuple: a batch
    derives hundreds of thousands of them."""

    subject_id: int
    #: The subject's kind: with ``role``, what picks the fact's measures (``reach.way_of``).
    subject_kind: str
    list_id: str
    entry_id: int
    source_subject_id: int
    record_id: int
    via_subject_id: int | None
    role: str | None
    relation_record_id: int | None
    valid_from: date | None
    valid_to: date | None
    #: The keys of ``record_id``'s and ``relation_record_id``'s records (the references are
    #: composite: ``records`` is partitioned by key on PostgreSQL).
    record_key: str
    relation_record_key: str | None

    def key(self) -> tuple[int, int, int | None, str | None, int | None]:
        return (
            self.subject_id,
            self.entry_id,
            self.via_subject_id,
            self.role,
            self.relation_record_id,
        )


def _overlap(
    a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None
) -> tuple[date | None, date | None] | None:
    start = max((d for d in (a_from, b_from) if d is not None), default=None)
    end = min((d for d in (a_to, b_to) if d is not None), default=None)
    if start is not None and end is not None and end < start:
        return None
    return start, end


def desired_rows(
    conn: Connection, catalog: Catalog, source_subject_ids: Collection[int]
) -> list[Row]:
    """The index rows these subjects' current list entries cause (a few queries per call: keep
    ``source_subject_ids`` to a chunk)."""
    return rows_for(conn, catalog, current_entries(conn, source_subject_ids))


def rows_for(conn: Connection, catalog: Catalog, current: list[StoredEntry]) -> list[Row]:
    """The index rows these current entry versions cause (removed ones: none)."""
    entries = [e for e in current if e.state == "listed"]
    if not entries:
        return []
    listed = {e.subject_id for e in entries}
    relations: dict[int, list[tuple[int, str, date | None, date | None, int, str]]] = {}
    for r in conn.execute(
        select(
            subject_relations.c.from_subject_id,
            subject_relations.c.to_subject_id,
            subject_relations.c.role,
            subject_relations.c.valid_from,
            subject_relations.c.valid_to,
            subject_relations.c.record_id,
            subject_relations.c.record_key,
        )
        .where(
            among(conn, subject_relations.c.from_subject_id, sorted(listed)),
            subject_relations.c.role.in_(ROLES),
        )
        .order_by(subject_relations.c.id)
    ):
        relations.setdefault(r.from_subject_id, []).append(
            (r.to_subject_id, r.role, r.valid_from, r.valid_to, r.record_id, r.record_key)
        )
    people = {p for rels in relations.values() for p, *_ in rels}
    kinds: dict[int, str] = dict(
        conn.execute(
            select(subjects.c.id, subjects.c.kind).where(
                among(conn, subjects.c.id, sorted(listed | people))
            )
        ).all()
    )
    reach = reach_of(catalog)
    out: list[Row] = []
    for entry in entries:
        if entry.valid_from is None:  # effective date unknown: restrict nothing yet
            continue
        kind = kinds.get(entry.subject_id)
        if kind is not None and reach.direct(entry.list_id, kind):
            out.append(
                Row(
                    entry.subject_id, kind, entry.list_id, entry.entry_id, entry.subject_id,
                    entry.record_id, None, None, None, entry.valid_from, entry.valid_to,
                    entry.record_key, None,
                )
            )  # fmt: skip
        if kind == "individual":
            continue
        for person, role, r_from, r_to, r_record, r_key in relations.get(entry.subject_id, []):
            if kinds.get(person) != "individual" or not reach.linked(entry.list_id, role):
                continue
            span = _overlap(entry.valid_from, entry.valid_to, r_from, r_to)
            if span is None:
                continue
            out.append(
                Row(
                    person, "individual", entry.list_id, entry.entry_id, entry.subject_id,
                    entry.record_id, entry.subject_id, role, r_record, span[0], span[1],
                    entry.record_key, r_key,
                )
            )  # fmt: skip
    return out


#: ``restrictions`` columns in ``Row``'s order, after ``id``.
_ROW_COLUMNS = tuple(Row._fields)


def _current(
    conn: Connection, source_subject_ids: Collection[int], entry_ids: Collection[int] | None = None
) -> dict[tuple, tuple[int, Row]]:  # type: ignore[type-arg]
    """The current index rows these subjects' entries (these entries, if given) cause, by key,
    with their row ids."""
    query = select(restrictions.c.id, *(restrictions.c[name] for name in _ROW_COLUMNS)).where(
        among(conn, restrictions.c.source_subject_id, list(source_subject_ids)),
        restrictions.c.superseded_at.is_(None),
    )
    if entry_ids is not None:
        query = query.where(among(conn, restrictions.c.entry_id, list(entry_ids)))
    out = {}
    for r in conn.execute(query.order_by(restrictions.c.id)):
        row = Row(*r[1:])
        out[row.key()] = (r[0], row)
    return out


def derive_restrictions(
    conn: Connection, catalog: Catalog, source_subject_ids: Collection[int]
) -> list[RestrictionChange]:
    """Re-derive the index rows caused by these subjects' entries; write the difference.

    Set-based: per chunk of subjects, a few queries (entries, relations, kinds, current rows),
    the difference in Python, one UPDATE closing the rows that went or changed, and the new rows
    written with ``xinyong.link.bulk.insert_rows``.
    """
    changes: list[RestrictionChange] = []
    now = utcnow()
    for chunk in chunks(source_subject_ids):
        wanted = desired_rows(conn, catalog, chunk)
        changes.extend(_sync(conn, wanted, _current(conn, chunk), now))
    return changes


def derive_entry_restrictions(
    conn: Connection,
    catalog: Catalog,
    entry_ids: Collection[int],
    *,
    created: Collection[int] = (),
) -> list[RestrictionChange]:
    """Re-derive the index rows of these list entries only; write the difference.

    Enough when the entries changed and their subjects' relations did not: an index row follows
    from one entry, the measures, the subjects' kinds and (role-linked) the relations.
    ``created``: those of the entries whose first version the caller wrote in this transaction;
    no index row can refer to them yet, so their rows are added without reading the index.
    """
    fresh = set(created)
    changes: list[RestrictionChange] = []
    now = utcnow()
    for chunk in chunks(entry_ids):
        entries = current_versions(conn, chunk)
        older = [e for e in entries if e.entry_id not in fresh]
        current = (
            _current(conn, {e.subject_id for e in older}, [e.entry_id for e in older])
            if older
            else {}
        )
        changes.extend(_sync(conn, rows_for(conn, catalog, entries), current, now))
    return changes


def _sync(
    conn: Connection,
    desired: list[Row],
    current: dict[tuple, tuple[int, Row]],  # type: ignore[type-arg]
    now: datetime,
) -> list[RestrictionChange]:
    """Close the ``current`` rows not ``desired`` as they are, add the ``desired`` ones missing."""

    wanted = {row.key(): row for row in desired}
    changes: list[RestrictionChange] = []
    close: list[int] = []
    add: list[Row] = []
    for key, (row_id, row) in current.items():
        new = wanted.pop(key, None)
        if new == row:
            continue
        close.append(row_id)
        changes.append(_change(RestrictionChange, row, "lifted"))
        if new is not None:
            add.append(new)
    add.extend(wanted.values())
    if close:
        conn.execute(
            update(restrictions)
            .where(among(conn, restrictions.c.id, close))
            .values(superseded_at=now)
        )
    _insert(conn, add, now)
    changes.extend(_change(RestrictionChange, row, "added") for row in add)
    return changes


def _insert(conn: Connection, rows: list[Row], now: datetime) -> None:
    iso = backend(conn) == "sqlite"
    recorded = db_value(conn, restrictions.c.recorded_at, now)
    days: dict[date | None, date | str | None] = {None: None}

    def day(value: date | None) -> date | str | None:
        found = days.get(value)
        if found is None and value is not None:
            found = days[value] = driver_date(value, iso)
        return found

    insert_rows(
        conn,
        restrictions,
        (*_ROW_COLUMNS, "recorded_at"),
        [(*r[:9], day(r.valid_from), day(r.valid_to), *r[11:], recorded) for r in rows],
    )


def _change(
    cls: type[RestrictionChange], row: Row, kind: Literal["added", "lifted"]
) -> RestrictionChange:
    return cls(
        row.subject_id, row.subject_kind, kind, row.valid_from, row.valid_to, row.list_id,
        row.entry_id, row.record_key, row.via_subject_id, row.role, row.relation_record_id,
    )  # fmt: skip


def rebuild_index(conn: Connection, catalog: Catalog) -> list[RestrictionChange]:
    """Re-derive the whole index; after a correct incremental run this changes nothing."""
    return derive_restrictions(conn, catalog, all_subjects_with_records(conn))


def index_rows(conn: Connection, *, known_at: datetime | None = None) -> set[Row]:
    """The index as a set of rows (current, or as known on ``known_at``): for comparisons."""
    query = select(*(restrictions.c[name] for name in _ROW_COLUMNS))
    if known_at is None:
        query = query.where(restrictions.c.superseded_at.is_(None))
    else:
        query = query.where(
            restrictions.c.recorded_at <= known_at,
            (restrictions.c.superseded_at.is_(None)) | (restrictions.c.superseded_at > known_at),
        )
    return {Row(*r) for r in conn.execute(query)}


def measures_step(conn: Connection, change: Change) -> None:
    """Pipeline step: re-derive the index rows of the entries the lists step changed, and every
    row of the subjects whose relations the change's registration records may have changed."""
    whole = relations_changed(conn, change.catalog, change.record_ids, change.record_keys)
    entries = [c for c in change.list_changes if c.subject_id not in whole]
    change.restriction_changes.extend(derive_restrictions(conn, change.catalog, whole))
    change.restriction_changes.extend(
        derive_entry_restrictions(
            conn,
            change.catalog,
            {c.entry_id for c in entries},
            created={c.entry_id for c in entries if c.created},
        )
    )


def relations_changed(
    conn: Connection,
    catalog: Catalog,
    record_ids: Sequence[int],
    keys: Mapping[int, str] | None = None,
) -> set[int]:
    """The subjects of the records among ``record_ids`` that may make relations (and of the
    versions they supersede): linking may have added or replaced their relations. Those are the
    officer rows of registration records and the records that name their subject's legal
    representative by ID number (``xinyong.link.relation_types``): such a record may arrive after
    the entry its relation reaches (a tax violation naming the representative of an enterprise
    already on the consumption list), and the entry's own rows must then follow."""
    types = relation_types(catalog)
    known = keys or {}
    found: dict[int, str] = {}
    for chunk in chunks(record_ids):
        rows = by_id(conn, records, (records.c.id, records.c.record_type, records.c.record_key),
                     chunk, known)  # fmt: skip
        found.update((r.id, r.record_key) for r in rows if r.record_type in types)
    return records_in_question(conn, list(found), found).subject_ids if found else set()
