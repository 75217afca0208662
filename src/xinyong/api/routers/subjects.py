"""``/api/v1/subjects``: public search and the public view of one subject.

A subject is the read model's public view (:func:`xinyong.disclose.view.subject_view`), the same
file the portal's subject page and the public credit report show: records the policy lets the
public see, individuals' ID numbers masked, never a person's address or phone.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy import Engine

from xinyong.api.routers.reports import public_report
from xinyong.dependencies import CatalogDep, engine
from xinyong.disclose import queries
from xinyong.disclose.view import subject_view

router = APIRouter(prefix="/subjects", tags=["subjects"])


class SubjectHit(BaseModel):
    id: int
    kind: str
    name: str
    code: str | None
    matched_by: str


class SearchResult(BaseModel):
    query: str
    count: int
    items: list[SubjectHit]


class PublicRecord(BaseModel):
    id: int
    record_type: str
    source: str
    document_no: str | None
    decided_on: date | None
    valid_from: date | None
    valid_to: date | None
    status: str
    fields: dict[str, Any]


class PublicSubject(BaseModel):
    id: int
    kind: str
    name: str
    code: str | None
    region: str | None
    records: list[PublicRecord]
    relations: list[dict[str, Any]]
    not_shown: int


@router.get("", summary="按名称或代码查询 / search subjects by name or code")
def search(
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="名称、代码 / name, code")],
) -> SearchResult:
    with db.connect() as conn:
        hits = queries.search(conn, catalog, q, at=date.today())
    return SearchResult(
        query=q,
        count=len(hits),
        items=[
            SubjectHit(id=h.subject_id, kind=h.kind, name=h.name, code=h.code, matched_by=h.how)
            for h in hits
        ],
    )


@router.get("/{subject_id}", summary="主体公开信息 / a subject's public page")
def subject(
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
    subject_id: Annotated[int, Path(ge=1, le=2**53)],
) -> PublicSubject:
    with db.connect() as conn:
        view = subject_view(conn, catalog, subject_id, audience="public")
    identity = view["identity"]
    return PublicSubject(
        id=identity["id"],
        kind=identity["kind"],
        name=identity["name"] or "",
        code=identity["code"],
        region=identity["region"],
        records=[PublicRecord.model_validate(rec) for rec in view["records"]],
        relations=view["relations"],
        not_shown=view["hidden"],
    )


@router.get("/{subject_id}/report", summary="主体公共信用报告 / a subject's public credit report")
def subject_report(
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
    subject_id: Annotated[int, Path(ge=1, le=2**53)],
    fmt: Annotated[Literal["json", "html", "pdf"], Query(alias="format")] = "json",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    at: Annotated[date | None, Query()] = None,
) -> Response:
    """The public credit report by subject id: how a person's is asked for (by number it would
    confirm the number); the same report as ``/api/v1/reports/{code}`` gives an organisation."""
    return public_report(db, catalog, subject_id, fmt=fmt, lang=lang, at=at)
