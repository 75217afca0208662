"""Errors as RFC 9457 problem details, one shape for every endpoint.

Routers never build error bodies: they raise our exceptions (or let FastAPI raise its own for
bad requests), and the handlers here turn each into ``application/problem+json``. The HTTP status
comes from ``type(exc)`` through one table, most specific class first.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyong.errors import (
    CatalogError,
    CatalogMismatch,
    ConfigurationError,
    Conflict,
    Forbidden,
    InvalidCode,
    InvalidRecord,
    LogUnavailable,
    NotFound,
    UnusableInput,
    XinyongError,
)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://xinyong.dev/problems/"

# Exception class → (HTTP status, problem type slug). Looked up along the class's MRO.
STATUS: dict[type[XinyongError], tuple[int, str]] = {
    InvalidCode: (422, "invalid-code"),
    InvalidRecord: (422, "invalid-record"),
    UnusableInput: (400, "unusable-input"),
    NotFound: (404, "not-found"),
    Forbidden: (403, "forbidden"),
    Conflict: (409, "conflict"),
    LogUnavailable: (503, "log-unavailable"),
    CatalogMismatch: (409, "catalog-mismatch"),
    CatalogError: (500, "catalog-error"),
    ConfigurationError: (500, "configuration-error"),
    XinyongError: (400, "error"),
}

HTTP_TITLES: dict[int, str] = {
    400: "请求无效 / Bad request",
    401: "未认证 / Unauthorized",
    403: "无权访问 / Forbidden",
    404: "未找到 / Not found",
    405: "方法不允许 / Method not allowed",
    409: "冲突 / Conflict",
    413: "内容过大 / Content too large",
    415: "不支持的媒体类型 / Unsupported media type",
    422: "无法处理的内容 / Unprocessable content",
    429: "请求过多 / Too many requests",
    500: "服务器内部错误 / Internal server error",
    503: "服务暂不可用 / Service unavailable",
}


def status_for(exc: XinyongError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500, "error"


def problem(
    status: int,
    *,
    slug: str,
    title: str,
    detail: str | None,
    instance: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _xinyong_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, XinyongError)
    status, slug = status_for(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidCode):
        extra["reason"] = exc.reason
    if isinstance(exc, InvalidRecord) and exc.errors:
        extra["errors"] = exc.errors
    return problem(
        status,
        slug=slug,
        title=f"{exc.message_zh} / {exc.message_en}",
        detail=exc.detail,
        instance=request.url.path,
        extra=extra,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTP_TITLES.get(exc.status_code, str(exc.status_code))
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem(
        exc.status_code,
        slug=f"http-{exc.status_code}",
        title=title,
        detail=detail,
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))}
        for err in exc.errors()
    ]
    return problem(
        422,
        slug="invalid-request",
        title=HTTP_TITLES[422],
        detail="请求参数无效 / the request's parameters are invalid",
        instance=request.url.path,
        extra={"errors": errors},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return problem(
        500,
        slug="internal",
        title=HTTP_TITLES[500],
        detail=None,
        instance=request.url.path,
    )


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(XinyongError, _xinyong_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
