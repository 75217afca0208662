"""The application as ``xinyong serve`` runs it in each worker process.

``uvicorn xinyong.api.server:app_from_environment --factory`` builds the app from the settings
(:mod:`xinyong.settings`): ``xinyong serve`` puts its options (``--db``, ``--catalog``,
``--demo-logins``, ``--log-format``) into the environment before it starts the workers, so every
worker builds the same app. An operator may run this line under another process manager too.
"""

from __future__ import annotations

from fastapi import FastAPI

from xinyong.api.app import create_app
from xinyong.settings import load as load_settings


def app_from_environment() -> FastAPI:
    settings = load_settings()
    return create_app(settings.db, demo_logins=settings.demo_logins, settings=settings)
