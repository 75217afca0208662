"""``/api/v1/objections``: file (operator intake or a department on a person's behalf), list,
and decide (the source department only). Thin: :mod:`xinyong.process.objections` does the work.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from xinyong.api.auth import require_roles
from xinyong.dependencies import CatalogDep, engine
from xinyong.measures.clients import Client
from xinyong.process.objections import decide_objection, file_objection, list_objections

router = APIRouter(prefix="/objections", tags=["objections"])
Any_ = Depends(require_roles("agency", "department", "operator"))
Source = Depends(require_roles("department"))


class ObjectionIn(BaseModel):
    subject_code: str
    reason: str = Field(min_length=1)
    filed_by: str = Field(min_length=1)
    filer_role: Literal["subject", "wrongly_matched", "agent"] = "subject"
    record_id: int | None = None
    list_id: str | None = None
    at: date | None = None


class DecisionIn(BaseModel):
    upheld: bool
    reason: str = Field(min_length=1)
    #: Accepted for compatibility and ignored: who decides is the authenticated caller.
    decided_by: str | None = None
    remedy: Literal["withdraw", "correct"] | None = None
    corrections: dict[str, str] | None = None
    at: date | None = None


@router.post("", status_code=201, summary="提出异议 / file an objection")
def create(
    body: ObjectionIn,
    caller: Annotated[Client, Any_],
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
) -> dict[str, Any]:
    with db.begin() as conn:
        found = file_objection(conn, catalog=catalog, **body.model_dump())
    return found.as_json(body.at or date.today())


@router.get("", summary="列出异议 / list objections (--overdue: past due)")
def index(
    caller: Annotated[Client, Any_],
    db: Annotated[Engine, Depends(engine)],
    state: Annotated[str | None, Query()] = None,
    subject_code: Annotated[str | None, Query()] = None,
    overdue: Annotated[bool, Query()] = False,
    at: Annotated[date | None, Query()] = None,
) -> list[dict[str, Any]]:
    today = at or date.today()
    authority = None if caller.role == "operator" else caller.authority  # the deciding one
    with db.connect() as conn:
        found = list_objections(
            conn,
            state=state,
            subject_code=subject_code,
            authority=authority,
            overdue_on=today if overdue else None,
        )
    return [o.as_json(today) for o in found]


@router.post("/{objection_id}/decision", summary="决定异议 / the source department decides")
def decide(
    objection_id: Annotated[int, Path(ge=1, le=2**53)],
    body: DecisionIn,
    caller: Annotated[Client, Source],
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
) -> dict[str, Any]:
    with db.begin() as conn:
        found = decide_objection(
            conn,
            objection_id,
            catalog=catalog,
            authority=caller.authority,
            **body.model_dump(exclude={"decided_by"}),
            decided_by=f"api:{caller.name}",
        )
    return found.as_json(body.at or date.today())
