"""``/api/v1/lists``: the published red and black lists, paged, with filters."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy import Engine

from xinyong.dependencies import CatalogDep, engine
from xinyong.disclose import queries
from xinyong.errors import NotFound

router = APIRouter(prefix="/lists", tags=["lists"])


class ListSummary(BaseModel):
    id: str
    name_zh: str
    name_en: str
    polarity: str
    authority: str
    legal_basis: list[str]
    entries: int


class ListEntry(BaseModel):
    subject_id: int | None
    kind: str
    name: str
    code: str | None
    region: str | None
    record_type: str
    document_no: str | None
    decided_on: date | None
    authority: str | None


class ListEntries(BaseModel):
    list_id: str
    total: int
    page: int
    pages: int
    page_size: int
    items: list[ListEntry]


@router.get("", summary="全部名单 / every list, with its legal basis and entry count")
def all_lists(db: Annotated[Engine, Depends(engine)], catalog: CatalogDep) -> list[ListSummary]:
    with db.connect() as conn:
        numbers = queries.list_counts(conn, catalog, at=date.today())
    return [
        ListSummary(
            id=lst.id,
            name_zh=lst.name_zh,
            name_en=lst.name_en,
            polarity=lst.polarity,
            authority=lst.authority,
            legal_basis=[catalog.cite(ref) for ref in lst.legal_basis],
            entries=numbers[lst.id],
        )
        for lst in sorted(catalog.lists.values(), key=lambda x: x.id)
    ]


@router.get("/{list_id}", summary="名单公示条目 / a list's published entries")
def entries(
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
    list_id: Annotated[str, Path(max_length=64)],
    province: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
    year: Annotated[int | None, Query(ge=1949, le=2100)] = None,
    kind: Literal["individual", "organisation"] | None = None,
    name: Annotated[str | None, Query(max_length=50)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = queries.PAGE_SIZE,
) -> ListEntries:
    list_def = catalog.lists.get(list_id)
    if list_def is None:
        raise NotFound(f"名单 / list {list_id}")
    with db.connect() as conn:
        result = queries.list_rows(
            conn,
            catalog,
            list_def,
            at=date.today(),
            province=province,
            year=year,
            kind=kind,
            name=name,
            page=page,
            page_size=page_size,
        )
    return ListEntries(
        list_id=list_id,
        total=result.total,
        page=result.page,
        pages=result.pages,
        page_size=page_size,
        items=[ListEntry(**row.__dict__) for row in result.rows],
    )
