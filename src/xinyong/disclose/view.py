"""A subject's file as one audience may see it on one date; every non-public read is audited.

``subject_view(conn, catalog, code, audience=…, at=…, actor=…, purpose=…)`` returns a plain
JSON-ready dict (the credit report's content, and what the API and portal show):

``identity`` · ``records`` (by category, with status, source, publication end, legal basis) ·
``lists`` (entries in force, with their measures, legal bases and end dates) · ``score`` ·
``objections`` and ``repairs`` · ``queries`` (who read this file, for the subject and operator).

The policy itself lives in :mod:`xinyong.disclose.policy`; this module only applies it.
"""

from __future__ import annotations

import importlib
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from xinyong import audit
from xinyong.catalog.model import Catalog
from xinyong.codes.identifiers import identify
from xinyong.disclose import labels
from xinyong.disclose.masking import mask_ric, public_fields
from xinyong.disclose.periods import period_open, publication_ends
from xinyong.disclose.policy import AUDITED, UNMASKED, check_audience, may_see
from xinyong.errors import InvalidCode, NotFound, UnusableInput
from xinyong.process.objections import list_objections
from xinyong.process.repair import list_repairs
from xinyong.store.queries import StoredRecord, records_for, subject_by_code
from xinyong.store.tables import subject_names, subjects


def find_subject(conn: Connection, code: str) -> tuple[int, str, str]:
    """(subject id, kind, primary code) for a code; ``UnusableInput`` / ``NotFound``."""
    try:
        ident = identify(code)
    except InvalidCode as error:
        raise UnusableInput(f"{code!r}: {error.bilingual()}") from error
    sid = subject_by_code(conn, ident.scheme, ident.value)
    if sid is None and ident.scheme == "uscc" and ident.orgcode:
        sid = subject_by_code(conn, "orgcode", ident.orgcode)
    if sid is None:
        raise NotFound(f"信用主体 {ident.value} 不存在 / no subject {ident.value}")
    row = conn.execute(
        select(subjects.c.kind, subjects.c.primary_code).where(subjects.c.id == sid)
    ).one()
    return sid, row.kind, row.primary_code or ident.value


def subject_view(
    conn: Connection,
    catalog: Catalog,
    code: str,
    *,
    audience: str,
    at: date | None = None,
    actor: str | None = None,
    purpose: str | None = None,
    source: str | None = None,
    action: str = "disclose.read",
) -> dict[str, Any]:
    """The file of the subject with ``code`` as ``audience`` sees it on ``at``.

    Audiences other than ``public`` need ``actor`` and ``purpose`` (the read is audited);
    ``source`` needs the authority id whose own records it may see in full.
    """
    audience = check_audience(audience)
    today = at or date.today()
    if audience in AUDITED and not ((actor or "").strip() and (purpose or "").strip()):
        raise UnusableInput(
            "非公开信息的查询须说明查询人和目的 / a non-public read needs an actor and a purpose"
        )
    if audience == "source" and (source is None or source not in catalog.authorities):
        raise UnusableInput(f"来源部门未知 / unknown source authority {source!r}")
    sid, kind, primary = find_subject(conn, code)
    individual = kind == "individual"
    masked = audience not in UNMASKED
    shown: list[dict[str, Any]] = []
    visible_ids: set[int] = set()
    for rec in records_for(conn, sid, include_withdrawn=True):
        start = rec.valid_from or rec.decided_on
        if start is not None and start > today:
            continue
        rtype = catalog.record_types.get(rec.record_type)
        if rtype is None:
            continue
        if not may_see(
            audience,
            disclosure=rtype.disclosure,
            record_type=rec.record_type,
            status=rec.status,
            subject_kind=kind,
            period_open=period_open(rtype, rec.fields, today),
            own_record=source is not None and rec.source == source,
        ):
            continue
        visible_ids.add(rec.id)
        shown.append(_record(catalog, rec, masked=masked, individual=individual, at=today))
    view: dict[str, Any] = {
        "audience": audience,
        "audience_label": list(labels.AUDIENCES[audience]),
        "as_of": today.isoformat(),
        "catalog_version": catalog.version,
        "identity": _identity(conn, sid, kind, primary, masked=masked and individual),
        "records": shown,
        "categories": _categories(catalog, shown),
        "lists": _lists(conn, catalog, sid, today, visible_ids, audience),
        "score": _score(conn, catalog, sid, kind, today)
        if audience != "public"
        else _unavailable("评分不向社会公开", "scores are not published"),
    }
    if audience == "public":
        view["objections"] = []
        view["repairs"] = []
    else:
        view["objections"] = [o.as_json(today) for o in list_objections(conn, subject_code=primary)]
        view["repairs"] = [r.as_json(today) for r in list_repairs(conn, subject_code=primary)]
    if audience in AUDITED:
        assert actor is not None and purpose is not None
        audit.record(
            conn,
            actor=actor,
            role=audience,
            purpose=purpose,
            subject=primary,
            action=action,
            resource=f"subject:{sid}",
            outcome=f"{len(shown)} records",
            detail={"at": today.isoformat(), "source": source},
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
            for e in audit.events_for_subject(conn, primary)
        ]
    else:
        view["queries"] = None
    return view


def _identity(
    conn: Connection, sid: int, kind: str, primary: str, *, masked: bool
) -> dict[str, Any]:
    name = conn.execute(
        select(subject_names.c.name)
        .where(subject_names.c.subject_id == sid)
        .order_by(subject_names.c.valid_from.desc(), subject_names.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return {
        "name": name,
        "code": mask_ric(primary) if masked else primary,
        "kind": kind,
        "kind_zh": labels.label(labels.KINDS, kind, "zh"),
        "kind_en": labels.label(labels.KINDS, kind, "en"),
    }


def _record(
    catalog: Catalog, rec: StoredRecord, *, masked: bool, individual: bool, at: date
) -> dict[str, Any]:
    rtype = catalog.record_types[rec.record_type]
    fields = public_fields(rec.fields, individual=individual) if masked else dict(rec.fields)
    code = rec.subject_code
    if masked and individual and code:
        code = mask_ric(code)
    authority = catalog.authorities.get(rec.source)
    ends = publication_ends(rtype, rec.fields)
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
        "decided_on": rec.decided_on.isoformat() if rec.decided_on else None,
        "subject_code": code,
        "status": rec.status,
        "status_zh": labels.label(labels.STATUSES, rec.status, "zh"),
        "status_en": labels.label(labels.STATUSES, rec.status, "en"),
        "publication_ends": ends.isoformat() if ends else None,
        "publication_over": ends is not None and at > ends,
        "legal_basis": [catalog.cite(ref) for ref in rtype.legal_basis],
        "fields": fields,
    }


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
    sid: int,
    at: date,
    visible_ids: set[int],
    audience: str,
) -> dict[str, Any]:
    try:
        lists_module = importlib.import_module("xinyong.lists")
    except ImportError:
        return _unavailable("名单模块尚未安装", "the lists module is not available")
    entries_as_of = getattr(lists_module, "entries_as_of", None)
    if entries_as_of is None:
        return _unavailable("名单模块尚未提供查询", "the lists module offers no query")
    items = []
    for entry in entries_as_of(conn, [sid]):
        if entry.state != "listed":
            continue
        if entry.valid_from is not None and entry.valid_from > at:
            continue
        if entry.valid_to is not None and entry.valid_to < at:
            continue
        if audience == "public" and entry.record_id not in visible_ids:
            continue
        definition = catalog.lists.get(entry.list_id)
        if definition is None:
            continue
        items.append(
            {
                "list_id": entry.list_id,
                "name_zh": definition.name_zh,
                "name_en": definition.name_en,
                "polarity": definition.polarity,
                "record_id": entry.record_id,
                "valid_from": entry.valid_from.isoformat() if entry.valid_from else None,
                "valid_to": entry.valid_to.isoformat() if entry.valid_to else None,
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


def _score(conn: Connection, catalog: Catalog, sid: int, kind: str, at: date) -> dict[str, Any]:
    """The subject's score under each catalog model made for its kind, with the reasons."""
    try:
        score_module = importlib.import_module("xinyong.score")
    except ImportError:
        return _unavailable("评分模块尚未提供", "scoring is not available yet")
    scorer = getattr(score_module, "score_subject", None)
    if scorer is None:
        return _unavailable("评分模块尚未提供", "scoring is not available yet")
    models = [
        m
        for m in sorted(catalog.scoring_models.values(), key=lambda m: m.id)
        if kind in m.subject_kinds
    ]
    if not models:
        return _unavailable("没有适用于该类主体的评分模型", "no scoring model fits this subject")
    out: list[dict[str, Any]] = []
    for model in models:
        try:
            result = scorer(conn, sid, model.id, at, catalog=catalog)
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
                "changes_on": result.changes_on.isoformat() if result.changes_on else None,
                "reasons": [
                    {"zh": r["zh"], "en": r["en"], "points": r["points"]} for r in result.reasons()
                ],
            }
        )
    return {"available": True, "models": out}


def _unavailable(zh: str, en: str) -> dict[str, Any]:
    return {"available": False, "note": f"{zh} / {en}", "note_zh": zh, "note_en": en}
