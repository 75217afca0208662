"""``GET /api/v1/check``: one decision for an implementing agency, audited.

The hot path of the API: an ``async`` endpoint (no thread hop) whose dependencies are async
too; on SQLite the indexed lookup runs inline (microseconds, on the process's own read
connection), on PostgreSQL in a thread of the check's own executor (``_LOOKUPS``). The decision
and its audit event are handed to the engine's ``DecisionWriter``, which commits them in groups;
the request awaits its group's commit without blocking the loop and answers only then (fail
closed: 503 problem details, ``LogUnavailable``, when the log cannot be written). The body is
serialised once, straight to JSON (no re-encoding pass).
"""

from __future__ import annotations

import asyncio
import functools
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic_core import to_json
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Scope

from xinyong.api.auth import cached_client, count_key, may_check, refresh_if_due, require_roles
from xinyong.catalog.model import Catalog
from xinyong.dependencies import CatalogDep, engine
from xinyong.errors import XinyongError
from xinyong.measures.checker import checker_for
from xinyong.measures.clients import Client
from xinyong.measures.decisions import Decision, require_action
from xinyong.measures.writer import wait_async
from xinyong.metrics import count_check

router = APIRouter(tags=["decisions"])

#: PostgreSQL: the threads a check's lookup waits on the server in (each keeps its own read
#: connection, ``Checker``), started as requests need them. A plain executor, not Starlette's
#: thread pool: anyio's ``to_thread`` (its capacity limiter, its per-call bookkeeping) cost
#: ~80 µs more CPU per request (docs/performance.md).
_LOOKUPS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="xinyong-check")

PATH = "/check"
_agency_or_operator = require_roles("agency", "operator")
_ROLES = ("agency", "operator")


@router.get(PATH, summary="查询决定 / a decision with its legal basis and way out")
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
    require_action(catalog, action)
    may_check(caller, action, catalog)
    decision = await _decided_and_logged(
        db, catalog, caller, subject, action, at, known_at, purpose
    )
    return _DecisionJSON(decision.as_json())


class _DecisionJSON(JSONResponse):
    """``JSONResponse``, encoded by pydantic-core: the same bytes as Starlette's ``json.dumps``
    (compact, UTF-8; a decision holds only strings, integers, booleans, lists and None) in a
    fifth of the time for a decision with reasons."""

    def render(self, content: Any) -> bytes:
        return to_json(content)


async def _decided_and_logged(
    db: Engine,
    catalog: Catalog,
    caller: Client,
    subject: str,
    action: str,
    at: date | None,
    known_at: date | None,
    purpose: str,
) -> Decision:
    """The decision, answered only once it and its audit event are committed."""
    checker = checker_for(db, catalog)
    audit = {
        "actor": caller.name,
        "role": caller.role,
        "purpose": purpose or "check",
        "action": f"check:{action}",
        "detail": {"authority": caller.authority, "at": (at or date.today()).isoformat()},
    }
    actor = f"api:{caller.name}"
    if checker.writer.sync:  # tests and single-user tools: decided and committed in a thread
        return await run_in_threadpool(
            lambda: checker.check(subject, action, at, known_at, actor=actor, audit=audit)
        )
    if db.dialect.name == "sqlite":
        decision = checker.decide(subject, action, at, known_at)
    else:
        # the lookup in a worker thread (it waits on the server); not the commit: a thread
        # blocked until its group commits costs more (GIL hand-offs among 16+ threads) than the
        # loop awaiting the writer's future (measured: docs/performance.md)
        decision = await asyncio.get_running_loop().run_in_executor(
            _LOOKUPS, functools.partial(checker.decide, subject, action, at, known_at)
        )
    # no answer before its log is committed: 503 (LogUnavailable) if it cannot be
    await wait_async(checker.log(decision, actor=actor, audit=audit))
    count_check(action, decision.outcome)  # as Checker.check counts its own
    return decision


# The fast path (api/fastpath.py): the same check without FastAPI's routing, dependency
# solving and parameter validation, for the requests that need none of it.
_PARAMS = frozenset({"subject", "action", "at", "known_at", "purpose"})
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: str | None) -> date | None:
    """``YYYY-MM-DD`` as a date; ``ValueError`` for anything else (left to FastAPI)."""
    if value is None:
        return None
    if not _ISO_DAY.fullmatch(value):
        raise ValueError(value)
    return date.fromisoformat(value)


async def fast_check(app: Starlette, scope: Scope, key: str) -> Response | None:
    """The answer to a keyed ``GET`` of the check, or None when FastAPI's route must answer it.

    Only the plain case is answered here: a cached live key of an agency or operator that may
    check the action, well-formed parameters given once each. Everything else (a missing or
    malformed parameter, an unknown or uncached key, a refused role or action) goes to the
    route, whose dependencies answer it exactly as documented (401, 403, 422, 400 problem
    details). Nothing is counted or written before that choice is made. A refusal after it
    (429 past the key's budget, 422 for a code that is not valid, 503 when the log cannot be
    committed) is raised, and answered by the app's exception handlers like the route's."""
    db: Engine | None = app.state.engine
    caller = cached_client(key)
    if db is None or caller is None or caller.role not in _ROLES:
        return None
    params: dict[str, str] = {}
    for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if name in params:
            return None  # a repeated parameter: the route's rules decide which one counts
        params[name] = value
    subject, action = params.get("subject"), params.get("action")
    if subject is None or action is None:
        return None
    catalog: Catalog = app.state.catalog
    try:
        at, known_at = _day(params.get("at")), _day(params.get("known_at"))
        require_action(catalog, action)
        may_check(caller, action, catalog)
    except (ValueError, XinyongError):
        return None
    scope.setdefault("state", {})["api_client"] = caller
    count_key(app, caller)
    refresh_if_due(app, key)
    decision = await _decided_and_logged(
        db, catalog, caller, subject, action, at, known_at, params.get("purpose", "check")
    )
    return _DecisionJSON(decision.as_json())
