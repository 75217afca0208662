"""``create_app()``: the FastAPI application, its routers, its error handlers and the portal.

::

    create_app(db=None, *, catalog=None, demo_logins=False, secret=None, rate_limit=RATE_LIMIT,
               key_rate_limit=KEY_RATE_LIMIT) -> FastAPI

    /api/v1/…        JSON API, one router per resource; errors as RFC 9457 problem details
    /                the server-rendered portal (xinyong.web), zh-CN first, English by one click
    /api/v1/docs     the API docs page (Swagger UI from /api/static/…, with SRI and a CSP)
    /static/…        the portal's CSS and vendored htmx
    /metrics         Prometheus text (xinyong.api.monitoring: who may read it)

The database URL comes from ``db``, else ``$XINYONG_DB``, else ``sqlite:///xinyong.db``; the
engine is opened on first use and kept on ``app.state.engine``. Routers reach it through the
``xinyong.dependencies.engine`` dependency (``Depends(engine)``). The catalog is ``catalog``,
else the catalog in force (``xinyong.catalog.catalog_in_force``: shipped + ``$XINYONG_CATALOG``),
kept on ``app.state.catalog``; routes and pages get it through ``CatalogDep``.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from xinyong import __version__
from xinyong.api import monitoring, problems
from xinyong.api.bodylimit import BodyLimit
from xinyong.api.docs_page import install_docs
from xinyong.api.fastpath import install_api_key_fast_path
from xinyong.api.ratelimit import KEY_RATE_LIMIT, RATE_LIMIT, RateLimiter, install_rate_limit
from xinyong.api.routers import batches as batches_router
from xinyong.api.routers import check as check_router
from xinyong.api.routers import lists as lists_router
from xinyong.api.routers import objections as objections_router
from xinyong.api.routers import repairs as repairs_router
from xinyong.api.routers import reports as reports_router
from xinyong.api.routers import score as score_router
from xinyong.api.routers import screen as screen_router
from xinyong.api.routers import subjects as subjects_router
from xinyong.catalog import Catalog, catalog_in_force
from xinyong.dependencies import engine
from xinyong.settings import Settings
from xinyong.settings import load as load_settings
from xinyong.store.engine import DEFAULT_URL
from xinyong.web import install_portal

API_PREFIX = "/api/v1"

__all__ = ["API_PREFIX", "create_app", "engine"]


def create_app(
    db: str | None = None,
    *,
    catalog: Catalog | None = None,
    demo_logins: bool = False,
    secret: bytes | None = None,
    rate_limit: int = RATE_LIMIT,
    key_rate_limit: int = KEY_RATE_LIMIT,
    settings: Settings | None = None,
) -> FastAPI:
    """The whole application, running with ``catalog`` (default: the catalog in force).
    ``demo_logins`` turns on the demo accounts (``xinyong demo``). ``rate_limit`` is requests per
    address per minute, ``key_rate_limit`` per API key that names no limit of its own."""
    app = FastAPI(
        title="xinyong 信用 API",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by docs_page: packaged assets, SRI, CSP
        redoc_url=None,
        lifespan=monitoring.lifespan,
    )
    config = settings if settings is not None else load_settings()
    app.state.settings = config
    app.state.db_url = db or config.db or DEFAULT_URL
    app.state.engine = None
    app.state.catalog = catalog if catalog is not None else catalog_in_force()
    app.state.demo_logins = demo_logins
    secret_env = config.secret.get_secret_value().encode() if config.secret else None
    app.state.secret = secret or secret_env or os.urandom(32)
    app.state.secure_cookies = config.https
    problems.install(app)
    install_docs(
        app, docs_url=f"{API_PREFIX}/docs", openapi_url=app.openapi_url or "", title=app.title
    )
    install_rate_limit(app, RateLimiter(rate_limit, key_limit=key_rate_limit))
    # Routers, one line each.
    app.include_router(monitoring.router, prefix=API_PREFIX)
    app.include_router(subjects_router.router, prefix=API_PREFIX)
    app.include_router(lists_router.router, prefix=API_PREFIX)
    app.include_router(score_router.router, prefix=API_PREFIX)
    app.include_router(check_router.router, prefix=API_PREFIX)
    app.include_router(screen_router.router, prefix=API_PREFIX)
    app.include_router(objections_router.router, prefix=API_PREFIX)
    app.include_router(repairs_router.router, prefix=API_PREFIX)
    app.include_router(reports_router.router, prefix=API_PREFIX)
    app.include_router(batches_router.router, prefix=API_PREFIX)
    # The portal last: its catch-all error pages must not shadow the API's problem details.
    install_portal(app)
    # Last: API calls with a key skip the portal's sessions and per-address limit (fastpath.py).
    install_api_key_fast_path(
        app, answers={f"{API_PREFIX}{check_router.PATH}": check_router.fast_check}
    )
    app.include_router(monitoring.metrics_router)
    # Every request timed and logged (monitoring.py), whatever answered it.
    monitoring.install_request_log(app)
    # Outermost: no body over the cap reaches anything else (bodylimit.py).
    app.add_middleware(BodyLimit)
    return app
