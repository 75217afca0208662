"""What the public reads from the store: search, public files, published lists, aggregates.

Read-only and shared by the portal pages (:mod:`xinyong.web`) and the public API routers
(:mod:`xinyong.api`), so it lives below both. Public views follow the
disclosure policy of :mod:`xinyong.disclose.policy` (one policy for the portal, the API and the
credit report): record types whose ``disclosure`` is ``public``, in the statuses the public may
see, within their disclosure period, and for individuals only the types whose instruments
publish people by name; citizen ID numbers are masked and an individual's address and phone
dropped by :mod:`xinyong.disclose.masking`. Region aggregates come from the region code every
subject code carries (USCC positions 3–8, citizen ID positions 1–6); nothing here places a
person on a map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, String, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from xinyong.catalog import Catalog, ListDef
from xinyong.codes import normalise, regions
from xinyong.disclose.masking import mask_code, mask_ric, masked_parts, public_fields
from xinyong.disclose.periods import period_open
from xinyong.disclose.policy import DISCLOSURE_FOR, PUBLIC_FOR_INDIVIDUALS, STATUSES_FOR, may_see
from xinyong.link.names import normalise as normalise_name
from xinyong.link.names import pinyin_key
from xinyong.lists.tables import list_entries
from xinyong.process.tables import objections, repairs
from xinyong.store.queries import StoredRecord, records_for
from xinyong.store.tables import (
    records,
    subject_identifiers,
    subject_names,
    subjects,
)

PAGE_SIZE = 50
SEARCH_LIMIT = 50
#: Statuses under which a record is still shown to the public (the disclosure policy's).
PUBLIC_STATUSES = tuple(sorted(STATUSES_FOR["public"]))


def public_types(catalog: Catalog) -> list[str]:
    shown = DISCLOSURE_FOR["public"]
    return sorted(t.id for t in catalog.record_types.values() if t.disclosure in shown)


def current_public(catalog: Catalog, at: date) -> ColumnElement[bool]:
    """Current versions of public record types, still within their valid time on ``at``."""
    return and_(
        records.c.superseded_at.is_(None),
        records.c.record_type.in_(public_types(catalog)),
        records.c.status.in_(PUBLIC_STATUSES),
        or_(records.c.valid_to.is_(None), records.c.valid_to >= at),
    )


def region_of(column: Any, kind: Any) -> Any:
    """SQL: the six-digit region code inside a subject code (USCC 3–8, citizen ID 1–6)."""
    return case(
        (kind == "individual", func.substr(column, 1, 6)),
        else_=func.substr(column, 3, 6),
    )


@dataclass(frozen=True)
class Hit:
    subject_id: int
    kind: str
    name: str
    code: str | None
    """As the public may see it: masked for individuals."""
    how: str
    """exact_code, masked_code, name, pinyin, similar"""


def _subject_row(conn: Connection, subject_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    if not subject_ids:
        return {}
    rows = conn.execute(
        select(subjects.c.id, subjects.c.kind, subjects.c.primary_code).where(
            subjects.c.id.in_(subject_ids)
        )
    )
    return {r.id: (r.kind, r.primary_code) for r in rows}


def display_names(conn: Connection, subject_ids: list[int]) -> dict[int, str]:
    """The latest name of each subject."""
    if not subject_ids:
        return {}
    out: dict[int, str] = {}
    for r in conn.execute(
        select(subject_names.c.subject_id, subject_names.c.name)
        .where(subject_names.c.subject_id.in_(subject_ids))
        .order_by(subject_names.c.subject_id, subject_names.c.id)
    ):
        out[r.subject_id] = r.name
    return out


def _publicly_visible(conn: Connection, catalog: Catalog, at: date, ids: list[int]) -> set[int]:
    """Individuals appear in public search only while some public record names them."""
    if not ids:
        return set()
    rows = conn.execute(
        select(records.c.subject_id)
        .where(
            records.c.subject_id.in_(ids),
            current_public(catalog, at),
            records.c.record_type.in_(sorted(PUBLIC_FOR_INDIVIDUALS)),
        )
        .distinct()
    )
    return {r.subject_id for r in rows}


def search(conn: Connection, catalog: Catalog, query: str, *, at: date) -> list[Hit]:
    """Subjects by code (USCC, citizen ID, organisation code), masked ID, name, pinyin.

    Names match after normalisation (traditional → simplified, full-width, company forms), so
    繁體 and simplified spellings find the same subject; Latin letters match the pinyin key.
    """
    text = query.strip()
    if not text or len(text) > 100:
        return []
    found: list[tuple[int, str]] = []
    compact = normalise.compact(text) if text.isascii() else ""
    if compact and len(compact) in (9, 15, 18) and any(c.isdigit() for c in compact):
        for r in conn.execute(
            select(subject_identifiers.c.subject_id).where(
                subject_identifiers.c.value == compact.upper()
            )
        ):
            found.append((r.subject_id, "exact_code"))
    parts = masked_parts(text) if not found else None
    if parts is not None:
        head, tail, length = parts
        for r in conn.execute(
            select(subject_identifiers.c.subject_id)
            .where(
                subject_identifiers.c.scheme == "ric",
                subject_identifiers.c.value.like(f"{head}%{tail}"),
                func.length(subject_identifiers.c.value) == length,
            )
            .limit(SEARCH_LIMIT * 4)
        ):
            found.append((r.subject_id, "masked_code"))
    if not found:
        norm = normalise_name(text)
        latin = text.replace(" ", "").lower()
        conditions = []
        if norm:
            conditions.append(subject_names.c.normalised == norm)
            conditions.append(subject_names.c.normalised.contains(norm, autoescape=True))
        if latin.isascii() and latin.isalpha():
            conditions.append(subject_names.c.pinyin_key.startswith(latin, autoescape=True))
        elif norm:
            conditions.append(subject_names.c.pinyin_key == pinyin_key(text))
        if conditions:
            key = pinyin_key(text) if norm else ""
            for r in conn.execute(
                select(
                    subject_names.c.subject_id,
                    subject_names.c.normalised,
                    subject_names.c.pinyin_key,
                )
                .where(or_(*conditions))
                .order_by(func.length(subject_names.c.normalised), subject_names.c.id)
                .limit(SEARCH_LIMIT * 4)
            ):
                if r.normalised == norm:
                    how = "name"
                elif (key and r.pinyin_key == key) or (latin.isascii() and latin.isalpha()):
                    how = "pinyin"
                else:
                    how = "similar"
                found.append((r.subject_id, how))
    seen: dict[int, str] = {}
    for sid, how in found:
        seen.setdefault(sid, how)
    ids = list(seen)
    heads = _subject_row(conn, ids)
    people = [sid for sid in ids if heads.get(sid, ("", None))[0] == "individual"]
    visible = _publicly_visible(conn, catalog, at, people)
    names = display_names(conn, ids)
    hits = []
    for sid in ids:
        kind, code = heads.get(sid, ("individual", None))
        if kind == "individual" and sid not in visible:
            continue
        hits.append(
            Hit(
                subject_id=sid,
                kind=kind,
                name=names.get(sid, ""),
                code=public_code(code, kind),
                how=seen[sid],
            )
        )
    order = {"exact_code": 0, "masked_code": 0, "name": 1, "pinyin": 2, "similar": 3}
    hits.sort(key=lambda h: (order[h.how], len(h.name), h.subject_id))
    return hits[:SEARCH_LIMIT]


@dataclass
class PublicFile:
    """A subject's page as the public (or the subject) sees it."""

    subject_id: int
    kind: str
    name: str
    code: str | None
    region: str | None
    records: dict[str, list[StoredRecord]] = field(default_factory=dict)
    relations: list[dict[str, Any]] = field(default_factory=list)
    hidden: int = 0
    """Records that exist but are not shown to this audience."""
    lists: set[str] = field(default_factory=set)
    """Lists the subject is on today (``xinyong.lists`` entries)."""


def public_code(code: str | None, kind: str) -> str | None:
    """A subject's code as the public sees it: an individual's always masked, an organisation's
    whole unless it is itself a citizen number (by value, not by length)."""
    if code is None:
        return None
    return mask_ric(code) if kind == "individual" else mask_code(code)


def region_name(code: str | None, kind: str, *, coarse: bool = False) -> str | None:
    """The region a code names. ``coarse``: an individual's only to the city, as far as the
    four digits the masked number shows."""
    if not code or len(code) != 18:
        return None
    if kind == "individual":
        region = regions.lookup(code[0:4] + "00" if coarse else code[0:6])
        if region is None and coarse:
            region = regions.lookup(code[0:2] + "0000")
    else:
        region = regions.lookup(code[2:8])
    return region.full_name if region else None


def subject_view(
    conn: Connection, catalog: Catalog, subject_id: int, *, at: date, audience: str = "public"
) -> PublicFile | None:
    """The subject's file for ``audience``: ``public`` (what the disclosure policy lets the
    public see on ``at``, masked) or ``subject`` (everything the store holds about them).

    Which records show is decided by :func:`xinyong.disclose.policy.may_see`, the same rule the
    credit report follows; public fields pass through :func:`~xinyong.disclose.masking.
    public_fields`.
    """
    head = conn.execute(select(subjects).where(subjects.c.id == subject_id)).first()
    if head is None:
        return None
    names = display_names(conn, [subject_id])
    public = audience == "public"
    shown: dict[str, list[StoredRecord]] = {}
    hidden = 0
    for rec in records_for(conn, subject_id, include_withdrawn=not public):
        rtype = catalog.record_types.get(rec.record_type)
        visible = rtype is not None and may_see(
            audience,
            disclosure=rtype.disclosure,
            record_type=rec.record_type,
            status=rec.status,
            subject_kind=head.kind,
            period_open=period_open(rtype, rec.fields, at),
        )
        if not visible:
            hidden += 1
            continue
        if public:
            rec = replace(
                rec,
                fields=public_fields(rec.fields, individual=head.kind == "individual"),
                subject_code=public_code(rec.subject_code, head.kind),
            )
        shown.setdefault(rec.record_type, []).append(rec)
    if public and head.kind == "individual" and not shown:
        return None
    code = head.primary_code
    view = PublicFile(
        subject_id=head.id,
        kind=head.kind,
        name=names.get(subject_id, ""),
        code=public_code(code, head.kind) if public else code,
        region=region_name(code, head.kind, coarse=public),
        records=shown,
        hidden=hidden,
    )
    view.relations = relations_of(shown, audience=audience)
    view.lists = {
        r.list_id
        for r in conn.execute(
            select(list_entries.c.list_id).where(
                list_entries.c.subject_id == subject_id,
                list_entries.c.state == "listed",
                list_entries.c.superseded_at.is_(None),
                or_(list_entries.c.valid_from.is_(None), list_entries.c.valid_from <= at),
                or_(list_entries.c.valid_to.is_(None), list_entries.c.valid_to >= at),
            )
        )
    }
    return view


def relations_of(shown: dict[str, list[StoredRecord]], *, audience: str) -> list[dict[str, Any]]:
    """Legal representative, officers, shareholders and branches as registration records state
    them. Names only for the public; officers' ID numbers only to the subject itself."""
    out: list[dict[str, Any]] = []
    for rec in shown.get("enterprise_registration", []):
        name = rec.fields.get("legal_representative_name")
        if name:
            out.append(
                {
                    "role": "legal_representative",
                    "name": name,
                    "code": None,
                    "since": rec.fields.get("established_on"),
                    "document_no": rec.document_no,
                }
            )
    for rec in shown.get("enterprise_officer", []):
        person = rec.fields.get("person_name")
        if not person:
            continue
        code = rec.fields.get("person_code")
        out.append(
            {
                "role": rec.fields.get("role") or "officer",
                "name": person,
                "code": code if audience == "subject" else None,
                "since": rec.decided_on.isoformat() if rec.decided_on else None,
                "until": rec.fields.get("ended_on"),
                "document_no": rec.document_no,
            }
        )
    return out


@dataclass(frozen=True)
class ListRow:
    subject_id: int | None
    kind: str
    name: str
    code: str | None
    record_type: str
    document_no: str | None
    decided_on: date | None
    authority: str | None
    region: str | None


@dataclass
class ListPage:
    rows: list[ListRow]
    total: int
    page: int
    pages: int


def _published() -> ColumnElement[bool]:
    """A list is published as a whole (its legal basis says so); its records' current versions
    are shown while not withdrawn, whatever the record type's own disclosure class."""
    return and_(records.c.superseded_at.is_(None), records.c.status.in_(PUBLIC_STATUSES))


def _criteria(list_def: ListDef, at: date) -> ColumnElement[bool]:
    """Records behind the list's current entries (``xinyong.lists`` derives them)."""
    return records.c.id.in_(
        select(list_entries.c.record_id).where(
            list_entries.c.list_id == list_def.id,
            list_entries.c.state == "listed",
            list_entries.c.superseded_at.is_(None),
            or_(list_entries.c.valid_from.is_(None), list_entries.c.valid_from <= at),
            or_(list_entries.c.valid_to.is_(None), list_entries.c.valid_to >= at),
        )
    )


def list_rows(
    conn: Connection,
    catalog: Catalog,
    list_def: ListDef,
    *,
    at: date,
    province: str | None = None,
    year: int | None = None,
    kind: str | None = None,
    name: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> ListPage:
    """The published entries of a list: its current entries, with their public records.

    Individuals are masked. ``page_size=0``: every row (the CSV export).
    """
    region = region_of(subjects.c.primary_code, subjects.c.kind)
    where = [_published(), _criteria(list_def, at)]
    if province and re.fullmatch(r"[0-9]{2}", province):
        where.append(func.substr(region, 1, 2) == province)
    if year is not None:
        where.append(records.c.decided_on >= date(year, 1, 1))
        where.append(records.c.decided_on <= date(year, 12, 31))
    if kind in ("individual", "organisation"):
        where.append(
            subjects.c.kind == "individual"
            if kind == "individual"
            else subjects.c.kind != "individual"
        )
    if name:
        where.append(records.c.subject_name.contains(name.strip()[:50], autoescape=True))
    base = select(records, subjects.c.kind, region.label("region")).join(
        subjects, subjects.c.id == records.c.subject_id
    )
    total = conn.execute(
        select(func.count()).select_from(base.where(*where).subquery())
    ).scalar_one()
    query = base.where(*where).order_by(records.c.decided_on.desc(), records.c.id.desc())
    pages = max(1, -(-total // page_size)) if page_size else 1
    page = min(max(1, page), pages)
    if page_size:
        query = query.limit(page_size).offset((page - 1) * page_size)
    rows = []
    for r in conn.execute(query):
        fields = dict(r.fields or {})
        authority = (
            fields.get("court")
            or fields.get("deciding_authority")
            or fields.get("penalising_authority")
            or fields.get("basis_issuer")
        )
        reg = regions.lookup(r.region) if r.region else None
        rows.append(
            ListRow(
                subject_id=r.subject_id,
                kind=r.kind,
                name=r.subject_name,
                code=public_code(r.subject_code, r.kind),
                record_type=r.record_type,
                document_no=r.document_no,
                decided_on=r.decided_on,
                authority=str(authority) if authority else None,
                region=reg.full_name if reg else None,
            )
        )
    return ListPage(rows=rows, total=int(total), page=page, pages=pages)


def list_counts(conn: Connection, catalog: Catalog, *, at: date) -> dict[str, int]:
    """Published entries per list."""
    out: dict[str, int] = {}
    for list_id, list_def in catalog.lists.items():
        out[list_id] = int(
            conn.execute(
                select(func.count())
                .select_from(records)
                .where(_published(), _criteria(list_def, at))
            ).scalar_one()
        )
    return out


@dataclass
class Dashboard:
    """Aggregates only: counts by province and by year, never a person."""

    provinces: dict[str, dict[str, int]]
    """province code (2 digits) → series → count"""
    years: dict[int, dict[str, int]]
    """year → series → count"""
    series: list[str]
    totals: dict[str, int]


#: Series on the dashboard: record types that are listings or measures.
LISTING_TYPES = (
    "judgment_defaulter",
    "serious_illegal_dishonest_enterprise",
    "major_tax_violation",
    "abnormal_operation",
    "railway_safety_violation",
    "aviation_safety_violation",
)
MEASURE_TYPES = ("consumption_restriction_order",)


def dashboard(conn: Connection, *, province: str | None = None) -> Dashboard:
    """Listings, restriction orders, objections and repairs by province and by year."""
    region = region_of(records.c.subject_code, subjects.c.kind)
    series = case(
        (records.c.record_type.in_(LISTING_TYPES), literal("listings")),
        (records.c.record_type.in_(MEASURE_TYPES), literal("measures")),
        else_=literal("other"),
    )
    prov = func.substr(region, 1, 2)
    year = func.substr(cast(records.c.decided_on, String), 1, 4)
    where: list[ColumnElement[bool]] = [
        records.c.superseded_at.is_(None),
        records.c.record_type.in_(LISTING_TYPES + MEASURE_TYPES),
        records.c.subject_code.is_not(None),
    ]
    if province and re.fullmatch(r"[0-9]{2}", province):
        where.append(prov == province)
    query = (
        select(prov.label("p"), year.label("y"), series.label("s"), func.count().label("n"))
        .select_from(records.join(subjects, subjects.c.id == records.c.subject_id))
        .where(*where)
        .group_by(prov, year, series)
    )
    provinces: dict[str, dict[str, int]] = {}
    years: dict[int, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for r in conn.execute(query):
        provinces.setdefault(r.p, {}).setdefault(r.s, 0)
        provinces[r.p][r.s] += r.n
        if r.y and str(r.y).isdigit():
            years.setdefault(int(r.y), {}).setdefault(r.s, 0)
            years[int(r.y)][r.s] += r.n
        totals[r.s] = totals.get(r.s, 0) + r.n
    for table, day, name in (
        (objections, objections.c.filed_on, "objections"),
        (repairs, repairs.c.applied_on, "repairs"),
    ):
        p_region = func.substr(region_of(table.c.subject_code, subjects.c.kind), 1, 2)
        p_year = func.substr(cast(day, String), 1, 4)
        q = (
            select(p_region.label("p"), p_year.label("y"), func.count().label("n"))
            .select_from(table.join(subjects, subjects.c.primary_code == table.c.subject_code))
            .group_by(p_region, p_year)
        )
        if province and re.fullmatch(r"[0-9]{2}", province):
            q = q.where(p_region == province)
        for r in conn.execute(q):
            provinces.setdefault(r.p, {}).setdefault(name, 0)
            provinces[r.p][name] += r.n
            if r.y and str(r.y).isdigit():
                years.setdefault(int(r.y), {}).setdefault(name, 0)
                years[int(r.y)][name] += r.n
            totals[name] = totals.get(name, 0) + r.n
    return Dashboard(
        provinces=provinces,
        years=dict(sorted(years.items())),
        series=["listings", "measures", "objections", "repairs"],
        totals=totals,
    )


def counts(conn: Connection) -> dict[str, int]:
    """Headline numbers for the home page."""
    n_subjects = conn.execute(select(func.count()).select_from(subjects)).scalar_one()
    n_records = conn.execute(
        select(func.count()).select_from(records).where(records.c.superseded_at.is_(None))
    ).scalar_one()
    return {"subjects": int(n_subjects), "records": int(n_records)}
