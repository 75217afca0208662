"""Attach records to subjects: by code exactly, or not at all (then leads for a person).

Order for a record that carries a code:
1. the code's identifier (a 15-digit citizen number is looked up in its 18-digit form);
2. for a USCC not yet known, the organisation code inside it (a subject first known by its
   organisation code gains the USCC);
3. otherwise a new subject, its kind read from the code (or fixed by the record type).

A record without a valid code stays unlinked (``subject_id`` NULL) and gets ranked candidate
subjects in ``link_leads``. An individual is never linked on a name, however close the match.

Registration records also create relations (legal representative, principal, …) to the people
they name, by each person's code; a person named without a valid code gets no relation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, insert, or_, select, update

from xinyong.errors import InvalidCode
from xinyong.link.identifiers import Identifier, identify
from xinyong.link.names import normalise, pinyin_key, similarity
from xinyong.store.engine import utcnow
from xinyong.store.tables import (
    link_leads,
    records,
    subject_identifiers,
    subject_names,
    subject_relations,
    subjects,
)

#: Relations a registration record may name: role → (code field, name field).
RELATION_FIELDS: Mapping[str, tuple[str, str]] = {
    "legal_representative": ("legal_representative_code", "legal_representative_name"),
    "principal": ("principal_code", "principal_name"),
    "actual_controller": ("actual_controller_code", "actual_controller_name"),
}
#: Leads below this confidence are not worth a person's time.
LEAD_THRESHOLD = 0.6
MAX_LEADS = 5


@dataclass(frozen=True)
class _Row:
    id: int
    record_type: str
    code: str | None
    name: str
    decided_on: date | None
    fields: dict[str, Any]


@dataclass
class LinkResult:
    linked: dict[int, int]  # record id → subject id
    unlinked: list[int]
    created_subjects: list[int]

    @property
    def subject_ids(self) -> set[int]:
        return set(self.linked.values())


class _Subjects:
    """Identifier → subject id for one chunk, creating subjects as needed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.known: dict[tuple[str, str], int] = {}
        self.created: list[int] = []

    def preload(self, idents: Iterable[Identifier]) -> None:
        wanted: dict[str, set[str]] = {}
        for ident in idents:
            pairs = [(ident.scheme, ident.value)]
            if ident.scheme == "uscc" and ident.orgcode:
                pairs.append(("orgcode", ident.orgcode))
            for scheme, value in pairs:
                if (scheme, value) not in self.known:
                    wanted.setdefault(scheme, set()).add(value)
        clauses = [
            (subject_identifiers.c.scheme == scheme) & subject_identifiers.c.value.in_(values)
            for scheme, values in wanted.items()
        ]
        if not clauses:
            return
        query = select(
            subject_identifiers.c.scheme,
            subject_identifiers.c.value,
            subject_identifiers.c.subject_id,
        ).where(or_(*clauses))
        for scheme, value, subject_id in self.conn.execute(query):
            self.known[(scheme, value)] = subject_id

    def resolve(self, idents: Sequence[tuple[Identifier, str | None]]) -> list[int]:
        """Subject ids for identifiers (with an optional kind override), creating the missing."""
        self.preload(ident for ident, _ in idents)
        new: dict[str, tuple[Identifier, str]] = {}
        found: list[int | None] = []
        adopt: list[tuple[int, Identifier]] = []
        for ident, kind in idents:
            sid = self.known.get((ident.scheme, ident.value))
            if sid is None and ident.scheme == "uscc" and ident.orgcode:
                sid = self.known.get(("orgcode", ident.orgcode))
                if sid is not None:
                    adopt.append((sid, ident))
                    self.known[(ident.scheme, ident.value)] = sid
            if sid is None and ident.value not in new:
                new[ident.value] = (ident, kind or ident.kind)
            found.append(sid)
        if adopt:
            self.conn.execute(
                insert(subject_identifiers),
                [{"subject_id": s, "scheme": i.scheme, "value": i.value} for s, i in adopt],
            )
        if new:
            now = utcnow()
            rows = self.conn.execute(
                insert(subjects).returning(subjects.c.id, sort_by_parameter_order=True),
                [{"kind": k, "primary_code": i.value, "created_at": now} for i, k in new.values()],
            ).all()
            id_rows = []
            for (ident, _kind), (sid,) in zip(new.values(), rows, strict=True):
                self.created.append(sid)
                self.known[(ident.scheme, ident.value)] = sid
                id_rows.append({"subject_id": sid, "scheme": ident.scheme, "value": ident.value})
                org = ident.orgcode
                if ident.scheme == "uscc" and org and ("orgcode", org) not in self.known:
                    self.known[("orgcode", org)] = sid
                    id_rows.append({"subject_id": sid, "scheme": "orgcode", "value": org})
            self.conn.execute(insert(subject_identifiers), id_rows)
        out = []
        for (ident, _), sid in zip(idents, found, strict=True):
            out.append(sid if sid is not None else self.known[(ident.scheme, ident.value)])
        return out


def _identify(code: str | None) -> Identifier | None:
    if not code:
        return None
    try:
        return identify(code)
    except InvalidCode:
        return None


def link_records(
    conn: Connection,
    record_ids: Sequence[int],
    *,
    kind_for: Mapping[str, str] | None = None,
    registration_types: Iterable[str] = (),
) -> LinkResult:
    """Link the not-yet-linked records among ``record_ids``; returns who was linked.

    ``kind_for``: record type → subject kind, where a record type fixes the kind of the subjects
    it creates. ``registration_types``: record types whose rows create relations.
    """
    kind_for = kind_for or {}
    registration = set(registration_types)
    rows = _fetch(conn, record_ids)
    subj = _Subjects(conn)
    coded: list[tuple[_Row, Identifier]] = []
    unlinked: list[_Row] = []
    for row in rows:
        ident = _identify(row.code)
        if ident is None:
            unlinked.append(row)
        else:
            coded.append((row, ident))
    sids = subj.resolve([(ident, kind_for.get(row.record_type)) for row, ident in coded])
    linked = {row.id: sid for (row, _), sid in zip(coded, sids, strict=True)}
    if linked:
        conn.execute(
            update(records)
            .where(records.c.id == bindparam("rid"))
            .values(subject_id=bindparam("sid")),
            [{"rid": rid, "sid": sid} for rid, sid in linked.items()],
        )
        pairs = zip(coded, sids, strict=True)
        _add_names(conn, [(sid, row.name, row.decided_on) for (row, _), sid in pairs])
    rel_rows = [(row, linked[row.id]) for row, _ in coded if row.record_type in registration]
    if rel_rows:
        _add_relations(conn, subj, rel_rows)
    for row in unlinked:
        _add_leads(conn, row)
    return LinkResult(
        linked=linked, unlinked=[r.id for r in unlinked], created_subjects=subj.created
    )


def _fetch(conn: Connection, record_ids: Sequence[int]) -> list[_Row]:
    out: list[_Row] = []
    for start in range(0, len(record_ids), 5000):
        chunk = list(record_ids[start : start + 5000])
        query = (
            select(
                records.c.id,
                records.c.record_type,
                records.c.subject_code,
                records.c.subject_name,
                records.c.decided_on,
                records.c.fields,
            )
            .where(records.c.id.in_(chunk), records.c.subject_id.is_(None))
            .order_by(records.c.id)
        )
        out.extend(
            _Row(r.id, r.record_type, r.subject_code, r.subject_name, r.decided_on, r.fields or {})
            for r in conn.execute(query)
        )
    return out


def _add_names(conn: Connection, names: list[tuple[int, str, date | None]]) -> None:
    """Record each (subject, name) pair once; the earliest decision date opens its valid time."""
    first: dict[tuple[int, str], date | None] = {}
    for sid, name, on in names:
        key = (sid, name.strip())
        if key not in first:
            first[key] = on
    sids = sorted({sid for sid, _ in first})
    existing: set[tuple[int, str]] = set()
    for start in range(0, len(sids), 5000):
        existing.update(
            (r.subject_id, r.name)
            for r in conn.execute(
                select(subject_names.c.subject_id, subject_names.c.name).where(
                    subject_names.c.subject_id.in_(sids[start : start + 5000])
                )
            )
        )
    new = [
        {
            "subject_id": sid,
            "name": name,
            "normalised": normalise(name),
            "pinyin_key": pinyin_key(name),
            "valid_from": on,
            "valid_to": None,
        }
        for (sid, name), on in first.items()
        if (sid, name) not in existing and name
    ]
    if new:
        conn.execute(insert(subject_names), new)


def _add_relations(conn: Connection, subj: _Subjects, rows: list[tuple[_Row, int]]) -> None:
    wanted: list[tuple[_Row, int, str, Identifier, str]] = []
    for row, entity in rows:
        for role, (code_field, name_field) in RELATION_FIELDS.items():
            ident = _identify(row.fields.get(code_field))
            if ident is not None:
                wanted.append((row, entity, role, ident, str(row.fields.get(name_field) or "")))
    if not wanted:
        return
    people = subj.resolve([(ident, None) for *_, ident, _ in wanted])
    conn.execute(
        insert(subject_relations),
        [
            {
                "from_subject_id": entity,
                "to_subject_id": person,
                "role": role,
                "valid_from": row.decided_on,
                "valid_to": None,
                "record_id": row.id,
            }
            for (row, entity, role, _, _), person in zip(wanted, people, strict=True)
        ],
    )
    _add_names(
        conn,
        [
            (p, name, row.decided_on)
            for (row, _, _, _, name), p in zip(wanted, people, strict=True)
            if name
        ],
    )


def candidates(conn: Connection, name: str, *, limit: int = MAX_LEADS) -> list[tuple[int, float]]:
    """Subjects whose names resemble ``name``, best first, with a 0–1 confidence."""
    norm, key = normalise(name), pinyin_key(name)
    if not norm:
        return []
    prefix = norm[:2]
    query = (
        select(subject_names.c.subject_id, subject_names.c.name)
        .where(
            or_(
                subject_names.c.normalised == norm,
                subject_names.c.pinyin_key == key,
                subject_names.c.normalised.startswith(prefix, autoescape=True),
            )
        )
        .limit(500)
    )
    best: dict[int, float] = {}
    for sid, other in conn.execute(query):
        score = similarity(name, other)
        if score >= LEAD_THRESHOLD and score > best.get(sid, 0.0):
            best[sid] = score
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _add_leads(conn: Connection, row: _Row) -> None:
    found = candidates(conn, row.name)
    if found:
        conn.execute(
            insert(link_leads),
            [
                {
                    "record_id": row.id,
                    "subject_id": sid,
                    "confidence": score,
                    "method": "name",
                    "state": "open",
                }
                for sid, score in found
            ],
        )
