"""The app's database engine and catalog as FastAPI dependencies: ``Depends(engine)`` and
``catalog: CatalogDep`` (an ``Annotated`` alias), for routes and pages alike.

Below both the API (:mod:`xinyong.api`) and the portal (:mod:`xinyong.web`), which use it and
never import each other (``api.app.create_app`` mounts the portal, the one place they meet).

``create_app`` puts the URL on ``app.state.db_url``; the engine is opened and checked (schema
current) on first use and kept on ``app.state.engine``. A database that cannot be used becomes
``UnusableInput`` (a problem details answer in the API, an error page in the portal).
``create_app`` also puts the catalog in force on ``app.state.catalog``: every route and page of
the app uses that one catalog (``app_catalog``); none loads one of its own.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from starlette.applications import Starlette

from xinyong.catalog.model import Catalog
from xinyong.store.engine import connect
from xinyong.store.schema import require_current

_lock = threading.Lock()


def engine(request: Request) -> Engine:
    """The app's database engine, opened on first use."""
    return app_engine(request.app)


def app_engine(app: Starlette) -> Engine:
    """:func:`engine` for code that holds the app rather than a request (middleware)."""
    state = app.state
    if getattr(state, "engine", None) is None:
        with _lock:
            if getattr(state, "engine", None) is None:
                opened = connect(state.db_url, create=False)
                require_current(opened)
                state.engine = opened
    result: Engine = state.engine
    return result


def catalog_of(request: Request) -> Catalog:
    """The app's catalog: the one ``create_app`` was given (by default, the catalog in force)."""
    catalog: Catalog = request.app.state.catalog
    return catalog


async def app_catalog(request: Request) -> Catalog:
    """:func:`catalog_of` as a dependency; async, so it costs the hot path no thread hop."""
    return catalog_of(request)


CatalogDep = Annotated[Catalog, Depends(app_catalog)]
