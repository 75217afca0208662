"""The application as ``xinyong serve`` runs it in each worker process.

``uvicorn xinyong.api.server:app_from_environment --factory`` builds the app from the settings
(:mod:`xinyong.settings`): ``xinyong serve`` puts its options (``--db``, ``--catalog``,
``--demo-logins``, ``--log-format``) into the environment before it starts the workers, so every
worker builds the same app. An operator may run this line under another process manager too.

Once the app is built, the worker's heap is collected and frozen (``freeze_startup_heap``): the
~340,000 objects of the modules, the catalog and the app live as long as the process, and a full
collection that walks them took 230–480 ms on the development machine (once per worker in its
first seconds of serving, in the middle of requests: docs/performance.md). Frozen, the
collector leaves them out of every later collection.
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

from xinyong.api.app import create_app
from xinyong.settings import load as load_settings


def app_from_environment() -> FastAPI:
    settings = load_settings()
    app = create_app(settings.db, demo_logins=settings.demo_logins, settings=settings)
    freeze_startup_heap()
    return app


def freeze_startup_heap() -> None:
    """Collect what start-up left behind, then move everything still alive out of the cyclic
    collector's reach (``gc.freeze``): later collections walk only what serving creates."""
    gc.collect()
    gc.freeze()
