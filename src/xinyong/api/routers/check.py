"""``GET /api/v1/check``: one decision for an implementing agency, audited."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Engine

from xinyong import audit
from xinyong.api.auth import may_check, require_roles
from xinyong.api.database import engine
from xinyong.catalog import default_catalog
from xinyong.measures import check
from xinyong.measures.clients import Client
from xinyong.measures.decisions import require_action

router = APIRouter(tags=["decisions"])

#: SQLite has one writer: threads that queue here wait microseconds, where SQLite's own busy
#: handler would sleep for milliseconds between retries (each check writes its decision and an
#: audit event).
_sqlite_writes = threading.Lock()


def _writer(db: Engine) -> AbstractContextManager[object]:
    return _sqlite_writes if db.dialect.name == "sqlite" else nullcontext()


@router.get("/check", summary="查询决定 / a decision with its legal basis and way out")
def check_endpoint(
    caller: Annotated[Client, Depends(require_roles("agency", "operator"))],
    db: Annotated[Engine, Depends(engine)],
    subject: Annotated[str, Query(description="主体代码 / subject code")],
    action: Annotated[str, Query(description="行为 / action id")],
    at: Annotated[date | None, Query(description="决定日期 / as of")] = None,
    known_at: Annotated[date | None, Query(description="以该日所知 / as known on")] = None,
    purpose: Annotated[str, Query(description="用途 / purpose of the check")] = "check",
) -> dict[str, Any]:
    catalog = default_catalog()
    require_action(catalog, action)
    may_check(caller, action, catalog)
    with _writer(db), db.begin() as conn:
        decision = check(
            conn, subject, action, at, known_at, catalog=catalog, actor=f"api:{caller.name}"
        )
        audit.record(
            conn,
            actor=caller.name,
            role=caller.role,
            purpose=purpose or "check",
            subject=decision.subject,
            action=f"check:{action}",
            resource=decision.decision_id,
            outcome=decision.outcome,
            detail={"authority": caller.authority, "at": decision.at.isoformat()},
        )
    return decision.as_json()
