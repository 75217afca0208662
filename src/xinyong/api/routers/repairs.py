"""``/api/v1/repairs``: apply (intake), list, decide (the deciding department only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from xinyong.api.auth import require_roles
from xinyong.dependencies import CatalogDep, engine
from xinyong.measures.clients import Client
from xinyong.process.repair import apply_repair, decide_repair, list_repairs

router = APIRouter(prefix="/repairs", tags=["repairs"])
Any_ = Depends(require_roles("agency", "department", "operator"))
Decider = Depends(require_roles("department"))


class RepairIn(BaseModel):
    subject_code: str
    record_id: int
    applied_by: str = Field(min_length=1)
    statement: str = Field(min_length=1)
    conditions_met: list[str]
    commitment_id: int | None = None
    at: date | None = None


class DecisionIn(BaseModel):
    granted: bool
    reason: str = Field(min_length=1)
    #: Accepted for compatibility and ignored: who decides is the authenticated caller.
    decided_by: str | None = None
    at: date | None = None


@router.post("", status_code=201, summary="申请信用修复 / apply for repair")
def create(
    body: RepairIn,
    caller: Annotated[Client, Any_],
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
) -> dict[str, Any]:
    with db.begin() as conn:
        found = apply_repair(conn, catalog=catalog, **body.model_dump())
    return found.as_json(body.at or date.today())


@router.get("", summary="列出修复申请 / list repair applications")
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
        found = list_repairs(
            conn,
            state=state,
            subject_code=subject_code,
            authority=authority,
            overdue_on=today if overdue else None,
        )
    return [r.as_json(today) for r in found]


@router.post("/{repair_id}/decision", summary="决定信用修复 / decide a repair application")
def decide(
    repair_id: Annotated[int, Path(ge=1, le=2**53)],
    body: DecisionIn,
    caller: Annotated[Client, Decider],
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
) -> dict[str, Any]:
    with db.begin() as conn:
        found = decide_repair(
            conn, repair_id, catalog=catalog, authority=caller.authority,
            **body.model_dump(exclude={"decided_by"}), decided_by=f"api:{caller.name}",
        )  # fmt: skip
    return found.as_json(body.at or date.today())
