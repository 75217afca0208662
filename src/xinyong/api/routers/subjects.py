"""``/api/v1/subjects``: public search and the public view of one subject.

What the public sees is what the portal shows (:mod:`xinyong.disclose.queries`): public record types
only, current, individuals' ID numbers masked, never an address.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy import Engine

from xinyong.dependencies import CatalogDep, engine
from xinyong.disclose import queries
from xinyong.errors import NotFound

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


HIDDEN_FIELDS = ("subject_code", "person_code", "domicile", "address")


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
        view = queries.subject_view(conn, catalog, subject_id, at=date.today())
    if view is None:
        raise NotFound(f"主体 / subject {subject_id}")
    masked = view.kind == "individual"
    return PublicSubject(
        id=view.subject_id,
        kind=view.kind,
        name=view.name,
        code=view.code,
        region=view.region,
        records=[
            PublicRecord(
                id=r.id,
                record_type=r.record_type,
                source=r.source,
                document_no=r.document_no,
                decided_on=r.decided_on,
                valid_from=r.valid_from,
                valid_to=r.valid_to,
                status=r.status,
                fields={
                    k: v
                    for k, v in r.fields.items()
                    if not (masked and k in HIDDEN_FIELDS) and k not in ("domicile", "address")
                },
            )
            for recs in view.records.values()
            for r in recs
        ],
        relations=view.relations,
        not_shown=view.hidden,
    )
