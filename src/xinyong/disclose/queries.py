"""What the public reads from the store besides a subject's file: search, published lists,
aggregates.

Read-only and shared by the portal pages (:mod:`xinyong.web`) and the public API routers
(:mod:`xinyong.api`), so it lives below both. A subject's file is the
read model's (:func:`xinyong.disclose.view.subject_view`); what the public may find and see
here is decided by the same policy (:mod:`xinyong.disclose.policy`): a search finds an
individual only while the public may see a record about them
(:func:`~xinyong.disclose.view.publicly_known`), a list page shows the entries
:func:`~xinyong.disclose.policy.entry_shown_sql` lets through, codes masked as the read model
masks them (:func:`~xinyong.disclose.view.public_code`). Region aggregates come from the region
code every subject code carries (USCC positions 3–8, citizen ID positions 1–6); nothing here
places a person on a map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, String, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from xinyong.catalog import Catalog, ListDef
from xinyong.codes import normalise
from xinyong.disclose.masking import is_citizen_number, mask_ric, masked_parts
from xinyong.disclose.policy import entry_shown_sql
from xinyong.disclose.view import public_code, publicly_known, region_name
from xinyong.link.names import normalise as normalise_name
from xinyong.link.names import pinyin_key
from xinyong.lists.tables import list_entries
from xinyong.process.tables import objections, repairs
from xinyong.store.queries import SubjectRef
from xinyong.store.tables import (
    records,
    subject_identifiers,
    subject_names,
    subjects,
)

PAGE_SIZE = 50
SEARCH_LIMIT = 50


def region_of(column: Any, kind: Any) -> Any:
    """SQL: the six-digit region code inside a subject code (USCC 3–8, citizen ID 1–6, 15 or 18
    digits); NULL for a code that carries no region (an organisation code). The Python twin is
    ``feed.events.region_of`` (docs/semantics.md)."""
    return case(
        (kind == "individual", func.substr(column, 1, 6)),
        (func.length(column) == 18, func.substr(column, 3, 6)),
        else_=None,
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


def _subject_refs(conn: Connection, subject_ids: list[int]) -> list[SubjectRef]:
    # No shortcut for an empty list: a search that finds nobody runs the same statements as one
    # that finds a person the public may not see (issue 16).
    rows = conn.execute(
        select(subjects.c.id, subjects.c.kind, subjects.c.primary_code).where(
            subjects.c.id.in_(subject_ids)
        )
    )
    return [SubjectRef(r.id, r.kind, r.primary_code or str(r.id)) for r in rows]


def display_names(conn: Connection, subject_ids: list[int]) -> dict[int, str]:
    """The latest name of each subject (a statement runs even for none, as in a search)."""
    out: dict[int, str] = {}
    for r in conn.execute(
        select(subject_names.c.subject_id, subject_names.c.name)
        .where(subject_names.c.subject_id.in_(subject_ids))
        .order_by(subject_names.c.subject_id, subject_names.c.id)
    ):
        out[r.subject_id] = r.name
    return out


def search(conn: Connection, catalog: Catalog, query: str, *, at: date) -> list[Hit]:
    """Subjects by code (USCC, organisation code), citizen ID (whole or masked, matched by its
    masked form only), name, pinyin.

    Names match after normalisation (traditional → simplified, full-width, company forms), so
    繁體 and simplified spellings find the same subject; Latin letters match the pinyin key.
    """
    text = query.strip()
    if not text or len(text) > 100:
        return []
    found: list[tuple[int, str]] = []
    compact = normalise.compact(text) if text.isascii() else ""
    citizen = bool(compact) and is_citizen_number(compact)
    if (
        compact
        and not citizen
        and len(compact) in (9, 15, 18)
        and any(c.isdigit() for c in compact)
    ):
        for r in conn.execute(
            select(subject_identifiers.c.subject_id).where(
                subject_identifiers.c.value == compact.upper()
            )
        ):
            found.append((r.subject_id, "exact_code"))
    # A citizen number, whole or masked, is looked up only by what the masked form shows (the
    # first four and last four characters): the answer to a full number is the answer to its
    # masked form, so it confirms nothing the public may not see — neither that the store holds
    # a person it does not publish, nor which of the candidates behind a masked number is the
    # right one. A six-digit head (as some lists print it) is cut to four for the same reason.
    parts = masked_parts(mask_ric(compact) if citizen else text) if not found else None
    if parts is not None:
        head, tail, length = parts
        head = head[:4]
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
    if not found and parts is None:  # a citizen number, whole or masked, is never a name
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
    refs = {ref.id: ref for ref in _subject_refs(conn, list(seen))}
    known = publicly_known(conn, catalog, list(refs.values()), at)
    names = display_names(conn, list(refs))
    hits = []
    for sid in seen:
        ref = refs.get(sid)
        if ref is None or sid not in known:
            continue
        hits.append(
            Hit(
                subject_id=sid,
                kind=ref.kind,
                name=names.get(sid, ""),
                code=public_code(ref.code, ref.kind),
                how=seen[sid],
            )
        )
    order = {"exact_code": 0, "masked_code": 0, "name": 1, "pinyin": 2, "similar": 3}
    hits.sort(key=lambda h: (order[h.how], len(h.name), h.subject_id))
    return hits[:SEARCH_LIMIT]


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
    """The current versions of records behind list entries, as the policy lets the public see
    an entry (:func:`~xinyong.disclose.policy.may_see_entry`)."""
    return and_(
        records.c.superseded_at.is_(None),
        entry_shown_sql(
            "public",
            record_type=records.c.record_type,
            status=records.c.status,
            individual=subjects.c.kind == "individual",
        ),
    )


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
    base = select(records, subjects.c.kind).join(subjects, subjects.c.id == records.c.subject_id)
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
                # An individual's region only to the city: the county would narrow the number.
                region=region_name(r.subject_code, r.kind, coarse=r.kind == "individual"),
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
                .select_from(records.join(subjects, subjects.c.id == records.c.subject_id))
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
