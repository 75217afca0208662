"""The subject read model: a subject's file as one audience may see it on one date. The portal
(public subject page, the subject's own ``/me``), the API (``/api/v1/subjects/{id}``) and the
credit report all render from :func:`subject_view`; every non-public read is audited.

``subject_view(conn, catalog, subject, audience=…, at=…, actor=…, purpose=…)`` returns a plain
JSON-ready dict:

``identity`` (id, name, code, kind, region) · ``records`` (with status, source, valid time,
publication end, legal basis) and ``categories`` · ``hidden`` (how many records this audience
does not see) · ``relations`` (as registration records state them) · ``lists`` (entries in
force, with their measures, legal bases and end dates) · ``score`` · ``objections`` and
``repairs`` · ``queries`` (who read this file, for the subject and operator: ``who_looked``).

Every decision of what shows is :mod:`xinyong.disclose.policy`'s; this module only applies it.
``publicly_known(conn, catalog, ids, at)`` answers, with the same policy, which subjects the
public may find at all (search).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from xinyong import audit
from xinyong.catalog.model import Catalog, FieldType
from xinyong.catalog.periods import disclosure
from xinyong.codes import normalise, regions
from xinyong.codes.identifiers import identify
from xinyong.disclose import labels
from xinyong.disclose.masking import (
    city_of,
    is_citizen_number,
    mask_code,
    mask_ric,
    public_fields,
)
from xinyong.disclose.policy import (
    AUDITED,
    TODAY_BOUND,
    UNMASKED,
    check_audience,
    file_exists,
    may_see_entry,
    shows_record,
)
from xinyong.errors import SubjectNotFound, UnusableInput
from xinyong.lists import entries_as_of
from xinyong.process.objections import list_objections
from xinyong.process.repair import list_repairs
from xinyong.score import score_subject
from xinyong.store.queries import (
    StoredRecord,
    SubjectRef,
    current_records,
    find_subject,
    records_for,
    subject_by_id,
)
from xinyong.store.tables import subject_identifiers, subject_names


def subject_view(
    conn: Connection,
    catalog: Catalog,
    subject: str | int | SubjectRef,
    *,
    audience: str,
    at: date | None = None,
    today: date | None = None,
    actor: str | None = None,
    purpose: str | None = None,
    source: str | None = None,
    action: str = "disclose.read",
) -> dict[str, Any]:
    """The file of ``subject`` (a code, a subject id, or a subject already found) as
    ``audience`` sees it on ``at``, read on ``today`` (default: ``at``; the public routes pass
    the real date, so that a past ``at`` never re-publishes what the public may not see today).

    Audiences other than ``public`` need ``actor`` and ``purpose`` (the read is audited as
    ``action``); ``source`` needs the authority id whose own records it may see in full.
    ``SubjectNotFound`` where the file does not exist for the audience (a person the public
    knows no record of): for the public exactly the error an unknown code or id gets, after
    the same statements (:func:`_located`).
    """
    audience = check_audience(audience)
    day = at or date.today()
    days = {day, today or day} if audience in TODAY_BOUND else {day}
    if audience in AUDITED and not ((actor or "").strip() and (purpose or "").strip()):
        raise UnusableInput(
            "非公开信息的查询须说明查询人和目的 / a non-public read needs an actor and a purpose"
        )
    if audience == "source" and (source is None or source not in catalog.authorities):
        raise UnusableInput(f"来源部门未知 / unknown source authority {source!r}")
    found, unknown = _located(conn, subject)
    stored = records_for(conn, found.id if found else NO_SUBJECT, include_withdrawn=True)
    if found is None:
        raise unknown
    ref = found
    individual = ref.kind == "individual"
    masked = audience not in UNMASKED
    seen = [
        rec
        for rec in stored
        if all(
            shows_record(audience, catalog, rec, subject_kind=ref.kind, at=d, source=source)
            for d in days
        )
    ]
    if not file_exists(audience, subject_kind=ref.kind, records_shown=len(seen)):
        raise unknown
    shown = [_record(catalog, rec, masked=masked, individual=individual, at=day) for rec in seen]
    view: dict[str, Any] = {
        "audience": audience,
        "audience_label": list(labels.AUDIENCES[audience]),
        "as_of": day.isoformat(),
        "catalog_version": catalog.version,
        "identity": _identity(conn, ref, masked=masked),
        "records": shown,
        "hidden": len(stored) - len(shown),
        "categories": _categories(catalog, shown),
        "relations": _relations(shown, masked=masked),
        "lists": _lists(conn, catalog, ref, days, stored, audience),
        "score": _score(conn, catalog, ref, day)
        if audience != "public"
        else _unavailable("评分不向社会公开", "scores are not published"),
    }
    if audience == "public":
        view["objections"] = []
        view["repairs"] = []
    else:
        view["objections"] = [o.as_json(day) for o in list_objections(conn, subject_code=ref.code)]
        view["repairs"] = [r.as_json(day) for r in list_repairs(conn, subject_code=ref.code)]
    if audience in AUDITED:
        assert actor is not None and purpose is not None
        audit.record(
            conn,
            actor=actor,
            role=audience,
            purpose=purpose,
            subject=ref.code,
            action=action,
            resource=f"subject:{ref.id}",
            outcome=f"{len(shown)} records",
            detail={"at": day.isoformat(), "source": source},
        )
    if audience in ("subject", "operator"):
        view["queries"] = [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "role": e.role,
                "purpose": e.purpose,
                "action": e.action,
            }
            for e in who_looked(conn, ref)
        ]
    else:
        view["queries"] = None
    return view


def who_looked(conn: Connection, ref: SubjectRef) -> list[audit.AuditEvent]:
    """The subject's 查询记录, oldest first: the events under any of its codes — a check or a
    screen names the code it was given (an organisation code, a registration number), not
    always the primary one."""
    codes = {ref.code}
    codes.update(
        conn.execute(
            select(subject_identifiers.c.value).where(subject_identifiers.c.subject_id == ref.id)
        ).scalars()
    )
    found = {e.id: e for code in sorted(codes) for e in audit.events_for_subject(conn, code)}
    return [found[i] for i in sorted(found)]


#: An id no subject has (ids start at 1): what an unknown subject's records are read by.
NO_SUBJECT = 0


def _located(
    conn: Connection, subject: str | int | SubjectRef
) -> tuple[SubjectRef | None, SubjectNotFound]:
    """The subject asked for (None if the store holds none), and the answer for one the reader
    may not know of — which depends only on what was asked, never on what the store holds.

    The same statements run whether or not the subject exists (its row by id, then its records
    in :func:`subject_view`), so a person in the store the public may not see and an unknown
    code differ neither in status, body nor work done (``tests/disclose/test_rebuild_attack.py``).
    """
    if isinstance(subject, SubjectRef):
        return subject, SubjectNotFound(f"id {subject.id}")
    if isinstance(subject, int):
        asked = _by_id(conn, subject)
        return asked, SubjectNotFound(f"id {subject}")
    try:
        ref: SubjectRef | None = find_subject(conn, subject)
    except SubjectNotFound:
        ref = _by_id(conn, NO_SUBJECT)
    # The code as asked, masked as the public sees codes: an answer never spells a number out.
    return ref, SubjectNotFound(mask_code(identify(subject).value))


def _by_id(conn: Connection, subject_id: int) -> SubjectRef | None:
    try:
        return subject_by_id(conn, subject_id)
    except SubjectNotFound:
        return None


def refuse_citizen_number(code: str) -> None:
    """The public asks for a person's file by subject id (search → page → report), never by a
    citizen number: an answer by number would confirm which of the thousands of numbers behind
    a masked one is the person's, one request each. ``SubjectNotFound`` for any citizen number,
    decided from what was asked alone, before the store is looked at (issue 16)."""
    compact = normalise.compact(code)
    if is_citizen_number(compact):
        raise SubjectNotFound(
            f"{mask_ric(compact)}（个人的公共信用报告按主体编号查询 / a person's public report "
            "is asked for by subject id: GET /api/v1/subjects/{id}/report）"
        )


def publicly_known(
    conn: Connection, catalog: Catalog, subjects: list[SubjectRef], at: date
) -> set[int]:
    """The ids of these subjects whose file exists for the public on ``at`` (search hits)."""
    people = [ref for ref in subjects if ref.kind == "individual"]
    # Read even for nobody, so that finding a hidden person costs what finding none does.
    stored = current_records(conn, [ref.id for ref in people], always=True)
    known = {ref.id for ref in subjects if ref.kind != "individual"}
    for ref in people:
        shown = sum(
            shows_record("public", catalog, rec, subject_kind=ref.kind, at=at)
            for rec in stored[ref.id]
        )
        if file_exists("public", subject_kind=ref.kind, records_shown=shown):
            known.add(ref.id)
    return known


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
        region = regions.lookup(city_of(code[0:6]) if coarse else code[0:6])
    else:
        region = regions.lookup(code[2:8])
    return region.full_name if region else None


def _identity(conn: Connection, ref: SubjectRef, *, masked: bool) -> dict[str, Any]:
    name = conn.execute(
        select(subject_names.c.name)
        .where(subject_names.c.subject_id == ref.id)
        .order_by(subject_names.c.valid_from.desc(), subject_names.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return {
        "id": ref.id,
        "name": name,
        "code": public_code(ref.code, ref.kind) if masked else ref.code,
        "kind": ref.kind,
        "kind_zh": labels.label(labels.KINDS, ref.kind, "zh"),
        "kind_en": labels.label(labels.KINDS, ref.kind, "en"),
        "region": region_name(ref.code, ref.kind, coarse=masked),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _record(
    catalog: Catalog, rec: StoredRecord, *, masked: bool, individual: bool, at: date
) -> dict[str, Any]:
    rtype = catalog.record_types[rec.record_type]
    regions_named = (f.name for f in rtype.fields if f.type is FieldType.REGION)
    fields = (
        public_fields(rec.fields, individual=individual, region_fields=regions_named)
        if masked
        else dict(rec.fields)
    )
    kind = "individual" if individual else "organisation"
    code = public_code(rec.subject_code, kind) if masked else rec.subject_code
    authority = catalog.authorities.get(rec.source)
    ends = disclosure(rtype, rec, at).last_shown
    return {
        "id": rec.id,
        "record_type": rec.record_type,
        "name_zh": rtype.name_zh,
        "name_en": rtype.name_en,
        "category": rtype.category.value,
        "source": rec.source,
        "source_zh": authority.name_zh if authority else rec.source,
        "source_en": authority.name_en if authority else rec.source,
        "document_no": rec.document_no,
        "decided_on": _iso(rec.decided_on),
        "valid_from": _iso(rec.valid_from),
        "valid_to": _iso(rec.valid_to),
        "subject_code": code,
        "status": rec.status,
        "status_zh": labels.label(labels.STATUSES, rec.status, "zh"),
        "status_en": labels.label(labels.STATUSES, rec.status, "en"),
        "publication_ends": _iso(ends),
        "publication_over": ends is not None and at > ends,
        "legal_basis": [catalog.cite(ref) for ref in rtype.legal_basis],
        "fields": fields,
    }


def _relations(shown: list[dict[str, Any]], *, masked: bool) -> list[dict[str, Any]]:
    """Legal representative, officers, shareholders and branches as the shown registration
    records state them; an officer's ID number only where fields are not masked."""
    out: list[dict[str, Any]] = []
    for rec in shown:
        fields = rec["fields"]
        if rec["record_type"] == "enterprise_registration" and fields.get(
            "legal_representative_name"
        ):
            out.append(
                {
                    "role": "legal_representative",
                    "name": fields["legal_representative_name"],
                    "code": None,
                    "since": fields.get("established_on"),
                    "until": None,
                    "document_no": rec["document_no"],
                }
            )
        elif rec["record_type"] == "enterprise_officer" and fields.get("person_name"):
            out.append(
                {
                    "role": fields.get("role") or "officer",
                    "name": fields["person_name"],
                    "code": None if masked else fields.get("person_code"),
                    "since": rec["decided_on"],
                    "until": fields.get("ended_on"),
                    "document_no": rec["document_no"],
                }
            )
    return out


def _categories(catalog: Catalog, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for rtype_category in sorted({r["category"] for r in shown}):
        category = next(
            rt.category
            for rt in catalog.record_types.values()
            if rt.category.value == rtype_category
        )
        out.append(
            {
                "id": rtype_category,
                "label_zh": category.label_zh,
                "label_en": category.label_en,
                "records": [r["id"] for r in shown if r["category"] == rtype_category],
            }
        )
    return out


def _lists(
    conn: Connection,
    catalog: Catalog,
    ref: SubjectRef,
    days: set[date],
    stored: list[StoredRecord],
    audience: str,
) -> dict[str, Any]:
    """Entries in force on every one of ``days`` (the query date, and for the public today)."""
    behind = {rec.id: rec for rec in stored}
    items = []
    for entry in entries_as_of(conn, [ref.id]):
        if entry.state != "listed":
            continue
        if entry.valid_from is not None and entry.valid_from > min(days):
            continue
        if entry.valid_to is not None and entry.valid_to < max(days):
            continue
        record = behind.get(entry.record_id)
        definition = catalog.lists.get(entry.list_id)
        if definition is None or record is None:
            continue
        if not may_see_entry(
            audience, record_type=record.record_type, status=record.status, subject_kind=ref.kind
        ):
            continue
        items.append(
            {
                "list_id": entry.list_id,
                "name_zh": definition.name_zh,
                "name_en": definition.name_en,
                "polarity": definition.polarity,
                "record_id": entry.record_id,
                "valid_from": _iso(entry.valid_from),
                "valid_to": _iso(entry.valid_to),
                "until_event": entry.until_event,
                "legal_basis": [catalog.cite(ref) for ref in definition.legal_basis],
                "measures": [
                    {
                        "id": m.id,
                        "name_zh": m.name_zh,
                        "name_en": m.name_en,
                        "effect": m.effect,
                        "legal_basis": [catalog.cite(ref) for ref in m.legal_basis],
                    }
                    for m in catalog.measures_for(entry.list_id)
                ],
            }
        )
    return {"available": True, "entries": items}


def _score(conn: Connection, catalog: Catalog, ref: SubjectRef, at: date) -> dict[str, Any]:
    """The subject's score under each catalog model made for its kind, with the reasons."""
    models = [
        m
        for m in sorted(catalog.scoring_models.values(), key=lambda m: m.id)
        if ref.kind in m.subject_kinds
    ]
    if not models:
        return _unavailable("没有适用于该类主体的评分模型", "no scoring model fits this subject")
    out: list[dict[str, Any]] = []
    for model in models:
        try:
            result = score_subject(conn, ref, model.id, at, catalog=catalog)
        except Exception as error:  # a report must not fail because a model could not score
            out.append(
                {
                    "model": model.id,
                    "name_zh": model.name_zh,
                    "name_en": model.name_en,
                    "failed": type(error).__name__,
                }
            )
            continue
        out.append(
            {
                "model": model.id,
                "name_zh": model.name_zh,
                "name_en": model.name_en,
                "score": result.score,
                "grade": result.grade,
                "grade_label_zh": result.grade_label_zh,
                "grade_label_en": result.grade_label_en,
                "example": result.example,
                "applicable": result.applicable,
                "changes_on": _iso(result.changes_on),
                "reasons": [
                    {"zh": r["zh"], "en": r["en"], "points": r["points"]} for r in result.reasons()
                ],
            }
        )
    return {"available": True, "models": out}


def _unavailable(zh: str, en: str) -> dict[str, Any]:
    return {"available": False, "note": f"{zh} / {en}", "note_zh": zh, "note_en": en}
