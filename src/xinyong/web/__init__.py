"""The portal: server-rendered pages, Chinese first, English by one click.

``install_portal(app)`` mounts everything on a FastAPI app (``xinyong.api.app.create_app`` calls
it): the public pages (:mod:`.public`), the pages behind a log-in (:mod:`.consoles`), the
static files, the session cookie (:mod:`.sessions`) and error pages for every path outside
``/api`` (the API keeps its RFC 9457 problem details).

::

    /  /search?q=  /subjects/{id}  /lists  /lists/{list_id}[?format=csv]  /catalog  /dashboard
    /login  /logout  /lang?to=en
    /login/oidc  /login/oidc/callback  /logout/oidc   the identity provider (:mod:`.oidc`)
    /me                     a subject's own file, decisions, who looked     (role subject)
    /agency                 check a subject, screen a file, history          (role agency)
    /department             upload a batch, its rejects, objections          (role department)
    /operator               batches, overdue items, audit verification       (role operator)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from xinyong.dependencies import app_engine
from xinyong.errors import NotFound, XinyongError
from xinyong.web import i18n
from xinyong.web.rendering import error_page, lang_of, log, one_line
from xinyong.web.sessions import COOKIE, LIFETIME, Revoked, Session, decode, encode

__all__ = ["install_portal"]

Handler = Callable[[Request, Any], Any]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _messages(request: Request, status: int) -> str:
    _ = i18n.translator(lang_of(request))
    return {
        400: _("请求无效。"),
        403: _("无权访问。"),
        404: _("页面不存在。"),
        405: _("请求无效。"),
        422: _("请求无效。"),
        429: _("请求过多，请稍后再试。"),
    }.get(status, _("服务器内部错误，已记录。") if status >= 500 else _("请求无效。"))


def _portal_errors(app: FastAPI) -> None:
    """Outside /api, errors become pages; inside, the problem-details handlers stay."""
    api_handlers: dict[Any, Handler] = dict(app.exception_handlers)

    async def _delegate(request: Request, exc: Exception, key: Any) -> Any:
        handler = api_handlers[key]
        result = handler(request, exc)
        return await result if isinstance(result, Awaitable) else result

    async def on_http(request: Request, exc: Exception) -> Any:
        if _is_api(request):
            return await _delegate(request, exc, HTTPException)
        assert isinstance(exc, HTTPException)
        response = error_page(request, exc.status_code, _messages(request, exc.status_code))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def on_validation(request: Request, exc: Exception) -> Any:
        if _is_api(request):
            return await _delegate(request, exc, RequestValidationError)
        return error_page(request, 400, _messages(request, 400))

    async def on_ours(request: Request, exc: Exception) -> Any:
        if _is_api(request):
            return await _delegate(request, exc, XinyongError)
        assert isinstance(exc, XinyongError)
        status = 404 if isinstance(exc, NotFound) else 400
        return error_page(request, status, _messages(request, status), one_line(exc))

    async def on_unexpected(request: Request, exc: Exception) -> Any:
        log.error("unexpected error on %s", request.url.path, exc_info=exc)
        if _is_api(request):
            return await _delegate(request, exc, Exception)
        return error_page(request, 500, _messages(request, 500))

    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(XinyongError, on_ours)
    app.add_exception_handler(Exception, on_unexpected)


def _sessions(app: FastAPI) -> None:
    app.state.revoked_sessions = Revoked(lambda: app_engine(app))

    @app.middleware("http")
    async def _session(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if _is_api(request) or request.url.path.startswith("/static/"):
            return await call_next(request)
        secret: bytes = request.app.state.secret
        session = decode(request.cookies.get(COOKIE), secret)
        revoked: Revoked = request.app.state.revoked_sessions
        if session.logged_in and await run_in_threadpool(revoked.__contains__, session):
            session = Session()  # logged out: the old cookie is worth nothing
        request.state.session = session
        response = await call_next(request)
        new = getattr(request.state, "new_session", None)
        out = new if isinstance(new, Session) else session.renewed()
        response.set_cookie(
            COOKIE,
            encode(out, secret),
            max_age=LIFETIME * 4,
            httponly=True,
            samesite="lax",
            # https as the server sees it (uvicorn applies X-Forwarded-Proto from the
            # proxies it trusts, --forwarded-allow-ips), or XINYONG_HTTPS=1 behind any proxy.
            secure=request.url.scheme == "https" or bool(request.app.state.secure_cookies),
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def install_portal(app: FastAPI) -> None:
    from xinyong.web import consoles, oidc, public

    static = resources.files("xinyong.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(public.router)
    app.include_router(consoles.router)
    oidc.install(app)
    _portal_errors(app)
    _sessions(app)
