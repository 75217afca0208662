"""API calls with a key skip the portal's middleware: cookie sessions and the per-address limit.

``install_api_key_fast_path(app)`` adds one pure ASGI middleware, outermost among the app's own.
A request under ``/api/`` that carries ``X-API-Key`` or ``Authorization: Bearer …`` goes
straight to FastAPI's stack without the app's ``@app.middleware`` layers (each of which costs a
task and a body relay per request): the portal's sessions never apply to the API anyway, and an
agency's key is its identity, so the per-address rate limit (meant for the portal's anonymous
visitors and log-ins) does not count its checks. Error handling (problem details) is the same
on both paths. Every other request takes the full stack.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


def _has_key(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"x-api-key" or (name == b"authorization" and value[:7].lower() == b"bearer "):
            return True
    return False


class ApiKeyFastPath:
    """Pure ASGI: keyed API requests to FastAPI's own stack, everything else to ``app``."""

    def __init__(self, app: ASGIApp, *, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner
        self.fast: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/api/")
            and _has_key(scope["headers"])
        ):
            if self.fast is None:
                self.fast = self._build()
            await self.fast(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _build(self) -> ASGIApp:
        """FastAPI's stack (errors, exception handlers, router) without the app's middleware."""
        saved = self.owner.user_middleware
        self.owner.user_middleware = []
        try:
            return self.owner.build_middleware_stack()
        finally:
            self.owner.user_middleware = saved


def install_api_key_fast_path(app: FastAPI) -> None:
    """Add the fast path; call after every other middleware is added."""
    app.add_middleware(ApiKeyFastPath, owner=app)
