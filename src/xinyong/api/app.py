"""``create_app()``: the FastAPI application, its routers and its error handlers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from xinyong import __version__
from xinyong.api import problems

API_PREFIX = "/api/v1"

meta = APIRouter(tags=["meta"])


@meta.get("/health", summary="健康检查 / health")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


def create_app() -> FastAPI:
    app = FastAPI(
        title="xinyong 信用 API",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    problems.install(app)
    app.include_router(meta, prefix=API_PREFIX)
    return app
