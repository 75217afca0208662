"""What an operator's monitoring reads: liveness, readiness, Prometheus metrics, request logs.

::

    GET /api/v1/health    200 while the process answers (liveness; touches nothing)
    GET /api/v1/ready     200 when the database answers, its schema is current and the catalog
                          is loaded; 503 with the reasons otherwise (readiness)
    GET /metrics          Prometheus text: xinyong_* instruments (xinyong.metrics), summed over
                          the server's workers (multiprocess mode), plus ingest rows and feed
                          lag read from the database at scrape time
    install_request_log(app)   every request timed into the latency histogram and logged on
                          ``xinyong.access`` (one JSON object a line with --log-format json)

Who may read ``/metrics``: a client on the loopback address (a Prometheus on the same host, or
the proxy's own health checks — a request through a proxy counts as the client the proxy names
when the proxy is trusted, ``--forwarded-allow-ips``) or anyone sending
``Authorization: Bearer $XINYONG_METRICS_KEY``; everyone else gets 404, as if it were not there.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong import __version__
from xinyong.dependencies import app_engine
from xinyong.errors import XinyongError
from xinyong.feed.tables import feed_events
from xinyong.metrics import observe_request
from xinyong.settings import Settings
from xinyong.store.engine import connect
from xinyong.store.schema import require_current
from xinyong.store.tables import batches

__all__ = ["JsonLogFormatter", "install_request_log", "metrics_router", "router"]

access_log = logging.getLogger("xinyong.access")
log = logging.getLogger(__name__)
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})

router = APIRouter(tags=["meta"])
metrics_router = APIRouter(include_in_schema=False)


@router.get("/health", summary="存活检查 / liveness")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/ready",
    summary="就绪检查 / readiness: database, schema, catalog",
    responses={503: {"description": "not ready, with the reasons"}},
)
def ready(request: Request) -> JSONResponse:
    reasons = list(_not_ready(request))
    body: dict[str, Any] = {"status": "ready" if not reasons else "not ready"}
    if reasons:
        body["reasons"] = reasons
    return JSONResponse(body, status_code=503 if reasons else 200)


def _not_ready(request: Request) -> Iterator[str]:
    state = request.app.state
    catalog = getattr(state, "catalog", None)
    if catalog is None or not catalog.record_types:
        yield "目录未加载 / catalog not loaded"
    try:
        engine: Engine = state.engine or connect(state.db_url, create=False)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is a reason, not a 500
        log.warning("not ready: database unreachable: %s", error)
        yield "数据库不可达 / database unreachable"
        return
    try:
        require_current(engine)
    except XinyongError as error:
        log.warning("not ready: %s", error)
        yield "数据库结构不是最新，请运行 xinyong init / schema not current: run `xinyong init`"
        return
    if state.engine is None:
        state.engine = engine  # the same engine the routes would open (dependencies.engine)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """A worker that stops takes its live gauges (the audit queue) out of the shared folder."""
    yield
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _may_read_metrics(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    if settings.metrics_key is not None:
        sent = request.headers.get("authorization", "")
        want = f"Bearer {settings.metrics_key.get_secret_value()}"
        if hmac.compare_digest(sent.encode(), want.encode()):
            return True
    return request.client is not None and request.client.host in LOOPBACK


@metrics_router.get("/metrics")
def metrics(request: Request) -> Response:
    if not _may_read_metrics(request):
        raise HTTPException(404)
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    store = CollectorRegistry()
    store.register(_StoreCollector(request.app))
    body = generate_latest(registry) + generate_latest(store)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


class _StoreCollector:
    """Ingest rows and feed lag, read from the database when scraped (shared by all workers)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        # Opened here if this worker has not touched the database yet: a scrape reaches any one
        # of the workers, and the store's figures are the same from each of them.
        try:
            engine = app_engine(self.app)
        except (XinyongError, SQLAlchemyError) as error:
            log.warning("metrics: the store's figures are left out: %s", error)
            return
        with engine.connect() as conn:
            accepted, rejected = conn.execute(
                select(
                    func.coalesce(func.sum(batches.c.accepted), 0),
                    func.coalesce(func.sum(batches.c.rejected), 0),
                )
            ).one()
            oldest, waiting = conn.execute(
                select(func.min(feed_events.c.occurred_at), func.count()).where(
                    feed_events.c.published_at.is_(None)
                )
            ).one()
        rows = CounterMetricFamily(
            "xinyong_ingest_rows", "Rows of departments' batches, by result", labels=["result"]
        )
        rows.add_metric(["accepted"], float(accepted))
        rows.add_metric(["rejected"], float(rejected))
        yield rows
        lag = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            lag = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        yield GaugeMetricFamily(
            "xinyong_feed_lag_seconds", "Age of the oldest feed event not yet published", lag
        )
        yield GaugeMetricFamily(
            "xinyong_feed_unpublished", "Feed events not yet published", float(waiting)
        )


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and a request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "request", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _route_template(scope: Mapping[str, Any]) -> str:
    """The matched route's path template with its router's prefix (``/api/v1/subjects/{…}``),
    so one histogram series per route, never per subject; ``unmatched`` for a 404."""
    fastapi_scope = scope.get("fastapi")
    effective = fastapi_scope.get("effective_route_context") if fastapi_scope else None
    path = getattr(effective, "path_format", None) or getattr(scope.get("route"), "path", None)
    return str(path) if path else "unmatched"


class RequestLog:
    """Pure ASGI middleware (no ``BaseHTTPMiddleware``: it would wrap ``receive`` and turn the
    body limit's refusals into FastAPI's "error parsing the body", and it costs a task per
    request): times the request into the latency histogram and logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            seconds = time.perf_counter() - began
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            observe_request(method, route, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                fields = {
                    "method": method,
                    "path": scope.get("path", ""),
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 2),
                    "client": client[0] if client else None,
                }
                access_log.info(
                    "%s %s %s %.1fms",
                    method,
                    scope.get("path", ""),
                    status,
                    seconds * 1000,
                    extra={"request": fields},
                )


def install_request_log(app: FastAPI) -> None:
    """Time every request into ``xinyong_http_request_duration_seconds`` and log it."""
    app.add_middleware(RequestLog)


def log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: our access log at INFO, uvicorn's own messages, in one format
    (uvicorn's access log is off: ``xinyong.access`` says the same with the route and time)."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonLogFormatter"}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "xinyong": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
