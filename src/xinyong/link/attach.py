"""Attach records to subjects: by code exactly, or not at all (then leads for a person).

Order for a record that carries a code:
1. the code's identifier (a 15-digit citizen number is looked up in its 18-digit form);
2. for a USCC not yet known, the organisation code inside it (a subject first known by its
   organisation code gains the USCC);
3. otherwise a new subject, its kind read from the code (or fixed by the record type).

A record without a valid code stays unlinked (``subject_id`` NULL) and gets ranked candidate
subjects in ``link_leads``. An individual is never linked on a name, however close the match.

Officer records (a registration record type whose rows carry ``person_code``, ``person_name`` and
``role``, such as ``enterprise_officer``: one row per person and post) create relations from the
enterprise to the person, by the person's citizen number, valid from ``decided_on`` (appointed)
to ``ended_on``. Only the roles a measure may ever reach (``xinyong.catalog.ROLES``: legal
representative, principal, actual controller) become relations; a director, supervisor or
manager stays what it is, a record on the enterprise's file (``subject show`` of the enterprise
lists it with the person's name and post), and so can never carry a measure to that person. A
person named without a valid code gets no relation and no subject. A corrected record replaces
the relations of the version it supersedes (none left when the correction names nobody).

A record that names its subject's legal representative with a citizen ID number
(``legal_representative_code``, as the double-publicity layouts do) makes the same relation,
valid on the record's decision date only (what the record attests); without a valid number,
none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from xinyong.catalog.model import ROLES, Catalog, Category
from xinyong.codes.identifiers import Identifier, identify
from xinyong.errors import InvalidCode
from xinyong.link.bulk import among, db_value, insert_rows, reserve_ids
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

#: Officer posts that become relations: exactly the roles a measure may reach.
RELATION_POSTS: frozenset[str] = frozenset(ROLES)
#: The field in which a record gives its subject's legal representative's ID number.
REPRESENTATIVE_CODE = "legal_representative_code"


def relation_types(catalog: Catalog) -> set[str]:
    """Record types whose rows may make relations (``registration_types`` of ``link_records``):
    the registration types (officer rows) and any type with a ``legal_representative_code``
    field. The one list: linking makes relations from these records, and the index re-derives
    every row of their subjects (``xinyong.measures.index.relations_changed``)."""
    return {
        rt_id
        for rt_id, rt in catalog.record_types.items()
        if rt.category is Category.REGISTRATION
        or any(f.name == REPRESENTATIVE_CODE for f in rt.fields)
    }


#: Leads below this confidence are not worth a person's time.
LEAD_THRESHOLD = 0.6
MAX_LEADS = 5
#: Ids per ``IN (…)`` query.
FETCH_ROWS = 5000


@dataclass(frozen=True)
class LinkRow:
    """What linking reads of a record (``fields`` only matter for registration types)."""

    id: int
    record_type: str
    subject_id: int | None
    code: str | None
    name: str
    decided_on: date | None
    supersedes: int | None
    fields: dict[str, Any]
    record_key: str


_Row = LinkRow
#: ``Connection.info`` key: records a writer has just inserted on this connection, by id.
WRITTEN = "xinyong.link.written"


def remember(conn: Connection, rows: Iterable[LinkRow]) -> None:
    """Hand rows just inserted on ``conn`` to the next ``link_records`` call, so linking need not
    read them back. The caller must ``forget`` them when its pipeline run ends, however it ends
    (``Connection.info`` outlives the transaction)."""
    conn.info.setdefault(WRITTEN, {}).update((row.id, row) for row in rows)


def forget(conn: Connection) -> None:
    """Drop whatever ``remember`` handed over and linking did not take."""
    conn.info.pop(WRITTEN, None)


def _take_written(conn: Connection, record_ids: Sequence[int]) -> tuple[list[LinkRow], list[int]]:
    """The remembered rows among ``record_ids`` (taken out), and the ids to read."""
    written: dict[int, LinkRow] | None = conn.info.get(WRITTEN)
    if not written:
        return [], list(record_ids)
    known: list[LinkRow] = []
    rest: list[int] = []
    for rid in record_ids:
        row = written.pop(rid, None)
        if row is None:
            rest.append(rid)
        else:
            known.append(row)
    return known, rest


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
            (subject_identifiers.c.scheme == scheme)
            & among(self.conn, subject_identifiers.c.value, sorted(values))
            for scheme, values in wanted.items()
        ]
        if not clauses:
            return
        query = select(
            subject_identifiers.c.scheme,
            subject_identifiers.c.value,
            subject_identifiers.c.subject_id,
        ).where(or_(*clauses))
        for scheme, value, subject_id in self.conn.execute(query).all():
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
            created = db_value(self.conn, subjects.c.created_at, utcnow())
            ids = reserve_ids(self.conn, subjects, len(new))
            insert_rows(
                self.conn,
                subjects,
                ("id", "kind", "primary_code", "created_at"),
                [(sid, k, i.code, created) for sid, (i, k) in zip(ids, new.values(), strict=True)],
            )
            id_rows: list[tuple[int, str, str]] = []
            for (ident, _kind), sid in zip(new.values(), ids, strict=True):
                self.created.append(sid)
                self.known[(ident.scheme, ident.value)] = sid
                id_rows.append((sid, ident.scheme, ident.value))
                org = ident.orgcode
                if ident.scheme == "uscc" and org and ("orgcode", org) not in self.known:
                    self.known[("orgcode", org)] = sid
                    id_rows.append((sid, "orgcode", org))
            insert_rows(self.conn, subject_identifiers, ("subject_id", "scheme", "value"), id_rows)
        out = []
        for (ident, _), sid in zip(idents, found, strict=True):
            out.append(sid if sid is not None else self.known[(ident.scheme, ident.value)])
        return out


@lru_cache(maxsize=65536)
def _identify(code: str | None) -> Identifier | None:
    """The identifier of a code, None for no code or an invalid one (cached: codes repeat)."""
    if not code:
        return None
    try:
        return identify(code)
    except InvalidCode:
        return None


def resolve_codes(
    conn: Connection,
    codes: Sequence[str | None],
    *,
    kind: str | None = None,
    kinds: Sequence[str | None] | None = None,
) -> list[int | None]:
    """Subject ids for ``codes``, in order: None for a missing or invalid code; a new subject
    (of the code's entry in ``kinds``, else ``kind``, else the kind the code names) for a valid
    code not yet known. A subject already known keeps its kind.

    Ingest calls this for a chunk before inserting, so records are born linked.
    """
    idents = [_identify(code) for code in codes]
    wanted = kinds if kinds is not None else [None] * len(idents)
    pairs = [(i, k or kind) for i, k in zip(idents, wanted, strict=True) if i is not None]
    sids = iter(_Subjects(conn).resolve(pairs))
    return [next(sids) if i is not None else None for i in idents]


def link_records(
    conn: Connection,
    record_ids: Sequence[int],
    *,
    kind_for: Mapping[str, str] | None = None,
    registration_types: Iterable[str] = (),
) -> LinkResult:
    """Link the records among ``record_ids``; returns who they are about.

    A record already linked (ingest resolves codes before it inserts) counts as linked as it is;
    the others are linked by code here or get leads. Names and relations are added once, so
    running the same records through again changes nothing. Records a writer ``remember``-ed on
    this connection are taken as handed over instead of read back.

    ``kind_for``: record type → subject kind, where a record type fixes the kind of the subjects
    it creates. ``registration_types``: record types whose rows may name officers (relations).
    """
    kind_for = kind_for or {}
    registration = set(registration_types)
    known, rest = _take_written(conn, record_ids)
    rows = known + _fetch(conn, rest, registration) if known else _fetch(conn, rest, registration)
    subj = _Subjects(conn)
    linked: dict[int, int] = {r.id: r.subject_id for r in rows if r.subject_id is not None}
    coded: list[tuple[_Row, Identifier]] = []
    unlinked: list[_Row] = []
    for row in rows:
        if row.subject_id is not None:
            continue
        ident = _identify(row.code)
        if ident is None:
            unlinked.append(row)
        else:
            coded.append((row, ident))
    sids = subj.resolve([(ident, kind_for.get(row.record_type)) for row, ident in coded])
    fresh = {row.id: sid for (row, _), sid in zip(coded, sids, strict=True)}
    if fresh:
        conn.execute(
            update(records)
            .where(records.c.id == bindparam("rid"))
            .values(subject_id=bindparam("sid")),
            [{"rid": rid, "sid": sid} for rid, sid in fresh.items()],
        )
        linked.update(fresh)
    add_names(conn, [(linked[r.id], r.name, r.decided_on) for r in rows if r.id in linked])
    # A corrected record's relations are those it makes itself: the version it supersedes
    # attests nothing any more, even when the correction names no officer (a code removed).
    superseded = [
        r.supersedes for r in rows if r.supersedes is not None and r.record_type in registration
    ]
    if superseded:
        conn.execute(
            delete(subject_relations).where(among(conn, subject_relations.c.record_id, superseded))
        )
    officers = [
        (r, linked[r.id])
        for r in rows
        if r.id in linked
        and r.record_type in registration
        and ("role" in r.fields or r.fields.get(REPRESENTATIVE_CODE))
    ]
    if officers:
        _add_relations(conn, subj, officers)
    _add_leads(conn, unlinked)
    return LinkResult(
        linked=linked, unlinked=[r.id for r in unlinked], created_subjects=subj.created
    )


def _fetch(conn: Connection, record_ids: Sequence[int], registration: set[str]) -> list[_Row]:
    """The records, without their fields except for registration records (the officers)."""
    out: list[_Row] = []
    for start in range(0, len(record_ids), FETCH_ROWS):
        chunk = list(record_ids[start : start + FETCH_ROWS])
        query = (
            select(
                records.c.id,
                records.c.record_type,
                records.c.subject_id,
                records.c.subject_code,
                records.c.subject_name,
                records.c.decided_on,
                records.c.supersedes,
                records.c.record_key,
            )
            .where(among(conn, records.c.id, chunk))
            .order_by(records.c.id)
        )
        found = conn.execute(query).all()
        fields: dict[int, dict[str, Any]] = {}
        wanted = [r.id for r in found if r.record_type in registration]
        if wanted:
            fields = {
                r.id: dict(r.fields or {})
                for r in conn.execute(
                    select(records.c.id, records.c.fields).where(among(conn, records.c.id, wanted))
                )
            }
        out.extend(
            _Row(
                r.id,
                r.record_type,
                r.subject_id,
                r.subject_code,
                r.subject_name,
                r.decided_on,
                r.supersedes,
                fields.get(r.id, {}),
                r.record_key,
            )
            for r in found
        )
    return out


def add_names(conn: Connection, names: Sequence[tuple[int, str, date | None]]) -> None:
    """Record each (subject, name) pair once; the earliest decision date opens its valid time."""
    first: dict[tuple[int, str], date | None] = {}
    for sid, name, on in names:
        key = (sid, name.strip())
        if key[1] and key not in first:
            first[key] = on
    if not first:
        return
    sids = sorted({sid for sid, _ in first})
    existing: set[tuple[int, str]] = set()
    for start in range(0, len(sids), FETCH_ROWS):
        existing.update(
            (r.subject_id, r.name)
            for r in conn.execute(
                select(subject_names.c.subject_id, subject_names.c.name).where(
                    among(conn, subject_names.c.subject_id, sids[start : start + FETCH_ROWS])
                )
            ).all()
        )
    new = [
        (sid, name, normalise(name), pinyin_key(name), on.isoformat() if on else None)
        for (sid, name), on in first.items()
        if (sid, name) not in existing
    ]
    columns = ("subject_id", "name", "normalised", "pinyin_key", "valid_from")
    insert_rows(conn, subject_names, columns, new)


def _add_relations(conn: Connection, subj: _Subjects, rows: list[tuple[_Row, int]]) -> None:
    """Relations from officer rows: enterprise → person, by the person's code, for one post."""
    wanted: list[tuple[_Row, int, str, Identifier]] = []
    for row, entity in rows:
        role, code, _name, _until = _post(row)
        ident = _identify(code)
        if role in RELATION_POSTS and ident is not None and ident.scheme == "ric":
            wanted.append((row, entity, role, ident))
    if not wanted:
        return
    people = subj.resolve([(ident, "individual") for *_, ident in wanted])
    have = {
        (r.from_subject_id, r.to_subject_id, r.role, r.record_id)
        for r in conn.execute(
            select(subject_relations).where(
                subject_relations.c.record_id.in_(sorted({row.id for row, *_ in wanted}))
            )
        )
    }
    new = [
        {
            "from_subject_id": entity,
            "to_subject_id": person,
            "role": role,
            "valid_from": row.decided_on,
            "valid_to": _post(row)[3],
            "record_id": row.id,
            "record_key": row.record_key,
        }
        for (row, entity, role, _), person in zip(wanted, people, strict=True)
        if (entity, person, role, row.id) not in have
    ]
    if new:
        conn.execute(insert(subject_relations), new)
    add_names(
        conn,
        [
            (person, _post(row)[2], row.decided_on)
            for (row, *_), person in zip(wanted, people, strict=True)
        ],
    )


def _post(row: _Row) -> tuple[str, Any, str, date | None]:
    """(role, the person's code, their name, valid to) a record names.

    An officer row names them itself (``role``, ``person_code``, ``person_name``, ``ended_on``).
    A record that gives its subject's legal representative with an ID number
    (``legal_representative_code``, e.g. a double-publicity penalty) attests the post on its
    decision date only: the relation runs from that day to that day.
    """
    fields = row.fields
    if "role" in fields:
        return (
            str(fields.get("role") or ""),
            fields.get("person_code"),
            str(fields.get("person_name") or ""),
            _date(fields.get("ended_on")),
        )
    return (
        "legal_representative",
        fields.get(REPRESENTATIVE_CODE),
        str(fields.get("legal_representative_name") or ""),
        row.decided_on,
    )


def _date(value: Any) -> date | None:
    """A date from record fields (stored as ISO text)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


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


def _add_leads(conn: Connection, rows: Sequence[_Row]) -> None:
    """Candidate subjects for unlinked records, once per record (a record re-run keeps its own)."""
    if not rows:
        return
    has = set(
        conn.execute(
            select(link_leads.c.record_id)
            .where(among(conn, link_leads.c.record_id, [r.id for r in rows]))
            .distinct()
        ).scalars()
    )
    new = [
        {
            "record_id": row.id,
            "record_key": row.record_key,
            "subject_id": sid,
            "confidence": score,
            "method": "name",
            "state": "open",
        }
        for row in rows
        if row.id not in has
        for sid, score in candidates(conn, row.name)
    ]
    if new:
        conn.execute(insert(link_leads), new)
