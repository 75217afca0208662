"""API calls with a key skip the portal's middleware: cookie sessions and the per-address limit.

``install_api_key_fast_path(app)`` adds one pure ASGI middleware, outermost among the app's own.
A request under ``/api/`` that carries ``X-API-Key`` or ``Authorization: Bearer …`` goes
straight to FastAPI's stack without the app's ``@app.middleware`` layers (each of which costs a
task and a body relay per request): the portal's sessions never apply to the API anyway, and an
agency's key is its identity, so the per-address rate limit (meant for the portal's anonymous
visitors and log-ins) does not count its checks. Error handling (problem details) is the same
on both paths. Every other request takes the full stack.

The busiest routes may also name an ``answer`` (``answers={path: answer}``): for a keyed
``GET`` of that path, ``await answer(app, scope, key)`` is tried first, before FastAPI's
routing and dependency solving; it returns the response, or None to leave the request to the
route (``api/routers/check.py``'s ``fast_check``: the route answers every refusal). What it
raises is answered by the app's own exception handlers, as from the route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.api.auth import key_from_headers
from xinyong.api.problems import problem
from xinyong.errors import XinyongError

#: ``answer(app, scope, key)``: the response to a keyed GET, or None (the route answers).
Answer = Callable[[Starlette, Scope, str], Awaitable[Response | None]]


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _has_key(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"x-api-key" or (name == b"authorization" and value[:7].lower() == b"bearer "):
            return True
    return False


def _key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key as ``auth.client`` reads it: ``X-API-Key``, else ``Authorization: Bearer``."""
    x_api_key = authorization = None
    for name, value in headers:
        if name == b"x-api-key" and x_api_key is None:
            x_api_key = value.decode("latin-1")
        elif name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
    return key_from_headers(authorization, x_api_key)


@dataclass(frozen=True, slots=True)
class _Matched:
    """What ``monitoring.RequestLog`` reads of a matched route: its path template."""

    path: str


class ApiKeyFastPath:
    """Pure ASGI: keyed API requests to FastAPI's own stack, everything else to ``app``."""

    def __init__(
        self, app: ASGIApp, *, owner: FastAPI, answers: Mapping[str, Answer] | None = None
    ) -> None:
        self.app = app
        self.owner = owner
        self.fast: ASGIApp | None = None
        self.answers = dict(answers or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/api/")
            and _has_key(scope["headers"])
        ):
            answer = self.answers.get(scope["path"]) if scope["method"] == "GET" else None
            key = _key(scope["headers"]) if answer is not None else None
            if answer is not None and key is not None:
                try:
                    response = await answer(self.owner, scope, key)
                except (XinyongError, HTTPException) as error:
                    response = await self._handled(scope, receive, error)
                if response is not None:
                    scope["route"] = _Matched(scope["path"])
                    await response(scope, receive, send)
                    return
            if self.fast is None:
                self.fast = self._build()
            await self.fast(scope, receive, self._refused_keys_count(scope, send))
            return
        await self.app(scope, receive, send)

    def _refused_keys_count(self, scope: Scope, send: Send) -> Send:
        """``send``, except that a request whose key was not accepted (made up, revoked, or a
        route that never looked at it) counts against the address's limit like any anonymous
        request, and past it the answer is 429: only a valid key skips the per-address limit."""
        limiter = getattr(self.owner.state, "rate_limiter", None)
        client = scope.get("client")
        address = client[0] if client else "unknown"
        swallowing = False

        async def counted(message: Message) -> None:
            nonlocal swallowing
            authenticated = "api_client" in (scope.get("state") or {})
            if message["type"] == "http.response.start" and not authenticated:
                wait = limiter.hit(address) if limiter is not None else None
                if wait is not None:
                    swallowing = True
                    response = problem(
                        429,
                        slug="http-429",
                        title="请求过多 / Too many requests",
                        detail="请求过多，请稍后再试 / too many requests, try again later",
                        instance=scope.get("path", ""),
                        headers={"Retry-After": str(wait)},
                    )
                    await response(scope, _no_body, send)
                    return
            if not swallowing:
                await send(message)

        return counted

    async def _handled(self, scope: Scope, receive: Receive, error: Exception) -> Response:
        """The app's own exception handler's answer to ``error`` (problem details)."""
        for cls in type(error).__mro__:
            handler = self.owner.exception_handlers.get(cls)
            if handler is not None:
                response = await handler(Request(scope, receive), error)  # type: ignore[misc]
                assert isinstance(response, Response)
                return response
        raise error

    def _build(self) -> ASGIApp:
        """FastAPI's stack (errors, exception handlers, router) without the app's middleware."""
        saved = self.owner.user_middleware
        self.owner.user_middleware = []
        try:
            return self.owner.build_middleware_stack()
        finally:
            self.owner.user_middleware = saved


def install_api_key_fast_path(app: FastAPI, answers: Mapping[str, Answer] | None = None) -> None:
    """Add the fast path (with ``answers``: path → answer); call after every other middleware
    is added."""
    app.add_middleware(ApiKeyFastPath, owner=app, answers=answers)
