"""``/api/v1/subjects/{code}/score``: a subject's scores, each with its explanation.

The same JSON as ``xinyong score SUBJECT --json``: one object with ``model``, a list of one per
model without it. Who may read what (:mod:`xinyong.score.access`): without a key, the public
reads only public models' scores of subjects that are not natural persons (no shipped model is
public), else 403; an ``agency`` or ``operator`` key reads any score, states a ``purpose`` and
is audited (``score.read``); a ``department`` key is 403; a bad or revoked key 401. Errors
through ``xinyong.errors`` only: an invalid code or a missing purpose is 400
(``UnusableInput``), an unknown subject or model 404 (``NotFound``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from sqlalchemy import Engine

from xinyong.api.auth import client
from xinyong.dependencies import CatalogDep, engine
from xinyong.measures.clients import Client
from xinyong.score.access import PUBLIC, read_scores, refuse_public_ask
from xinyong.score.models import engine_for, model_ids
from xinyong.store.queries import find_subject

router = APIRouter(prefix="/subjects", tags=["score"])


async def caller_or_public(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Client | None:
    """The calling client when a key is sent (401 if it is bad), None for the public."""
    if not authorization and not x_api_key:
        return None
    return await client(request, authorization, x_api_key)


@router.get("/{code}/score", summary="主体评分 / a subject's scores with contributions")
def subject_score(
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
    caller: Annotated[Client | None, Depends(caller_or_public)],
    code: Annotated[str, Path(min_length=1, max_length=40, description="主体代码 / code")],
    model: Annotated[str | None, Query(max_length=100, description="评分模型 / model")] = None,
    at: Annotated[date | None, Query(description="评分日期 / as of")] = None,
    known_at: Annotated[datetime | None, Query(description="按当时已知 / as known at")] = None,
    purpose: Annotated[
        str | None, Query(max_length=200, description="查询目的（非公开评分必填）/ purpose")
    ] = None,
) -> Any:
    ids = [model] if model else model_ids(catalog)
    for model_id in ids:
        engine_for(model_id, catalog)
    if caller is None:
        refuse_public_ask(code, ids, catalog)
    with db.begin() as conn:
        ref = find_subject(conn, code)
        scores = read_scores(
            conn,
            ref,
            ids,
            at or date.today(),
            known_at,
            actor=caller.name if caller else PUBLIC,
            role=caller.role if caller else PUBLIC,
            purpose=purpose,
            catalog=catalog,
        )
    body = [s.as_json() for s in scores]
    return body[0] if model else body
