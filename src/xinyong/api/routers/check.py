"""``GET /api/v1/check``: one decision for an implementing agency, audited.

The hot path of the API: an ``async`` endpoint (no thread hop) whose dependencies are async
too; on SQLite the two indexed lookups run inline (microseconds, on the process's own read
connection), on PostgreSQL in the thread pool. The decision and its audit event are handed to
the engine's ``DecisionWriter``, which commits them in groups; the request awaits its group's
commit without blocking the loop and answers only then (fail closed: 503 problem details,
``LogUnavailable``, when the log cannot be written). The body is serialised once,
straight to JSON (no re-encoding pass).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from xinyong.api.auth import may_check, require_roles
from xinyong.dependencies import CatalogDep, engine
from xinyong.measures.checker import checker_for
from xinyong.measures.clients import Client
from xinyong.measures.decisions import require_action
from xinyong.measures.writer import wait_async
from xinyong.metrics import count_check

router = APIRouter(tags=["decisions"])

_agency_or_operator = require_roles("agency", "operator")


@router.get("/check", summary="查询决定 / a decision with its legal basis and way out")
async def check_endpoint(
    request: Request,
    caller: Annotated[Client, Depends(_agency_or_operator)],
    catalog: CatalogDep,
    subject: Annotated[str, Query(description="主体代码 / subject code")],
    action: Annotated[str, Query(description="行为 / action id")],
    at: Annotated[date | None, Query(description="决定日期 / as of")] = None,
    known_at: Annotated[date | None, Query(description="以该日所知 / as known on")] = None,
    purpose: Annotated[str, Query(description="用途 / purpose of the check")] = "check",
) -> JSONResponse:
    db = request.app.state.engine or await run_in_threadpool(engine, request)
    checker = checker_for(db, catalog)
    require_action(catalog, action)
    may_check(caller, action, catalog)
    audit = {
        "actor": caller.name,
        "role": caller.role,
        "purpose": purpose or "check",
        "action": f"check:{action}",
        "detail": {"authority": caller.authority, "at": (at or date.today()).isoformat()},
    }
    actor = f"api:{caller.name}"
    if db.dialect.name == "sqlite" and not checker.writer.sync:
        decision = checker.decide(subject, action, at, known_at)
        # no answer before its log is committed: 503 (LogUnavailable) if it cannot be
        await wait_async(checker.log(decision, actor=actor, audit=audit))
        count_check(action, decision.outcome)  # as Checker.check counts its own
    else:  # one hop to a worker thread, which decides and commits its group (or waits for it)
        decision = await run_in_threadpool(
            lambda: checker.check(subject, action, at, known_at, actor=actor, audit=audit)
        )
    return JSONResponse(decision.as_json())
