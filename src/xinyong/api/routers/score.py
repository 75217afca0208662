"""``/api/v1/subjects/{code}/score``: a subject's scores, each with its explanation.

The same JSON as ``xinyong score SUBJECT --json``: one object with ``model``, a list of one per
model without it. Errors through ``xinyong.errors`` only: an invalid code is 400
(``UnusableInput``), an unknown subject or model 404 (``NotFound``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Engine

from xinyong.api.database import engine
from xinyong.catalog import default_catalog
from xinyong.score import find_subject, score_subject
from xinyong.score.models import engine_for, model_ids

router = APIRouter(prefix="/subjects", tags=["score"])


@router.get("/{code}/score", summary="主体评分 / a subject's scores with contributions")
def subject_score(
    db: Annotated[Engine, Depends(engine)],
    code: Annotated[str, Path(min_length=1, max_length=40, description="主体代码 / code")],
    model: Annotated[str | None, Query(max_length=100, description="评分模型 / model")] = None,
    at: Annotated[date | None, Query(description="评分日期 / as of")] = None,
    known_at: Annotated[datetime | None, Query(description="按当时已知 / as known at")] = None,
) -> Any:
    catalog = default_catalog()
    ids = [model] if model else model_ids(catalog)
    for model_id in ids:
        engine_for(model_id, catalog)
    with db.connect() as conn:
        ref = find_subject(conn, code)
        scores = [
            score_subject(conn, ref, m, at or date.today(), known_at, catalog=catalog).as_json()
            for m in ids
        ]
    return scores[0] if model else scores
