"""API keys as FastAPI dependencies: who is calling, and may they do this.

- ``client`` — ``Depends(client)``: the caller's :class:`~xinyong.measures.clients.Client`, from
  ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; a missing, unknown or revoked key is
  a 401 problem.
- ``require_roles("agency", "operator")`` — a dependency that also refuses other roles (403).
- ``key_from_headers``, ``cached_client``, ``refresh_if_due``, ``count_key`` — the same steps
  without FastAPI's dependency machinery, for the check's fast path (``api/routers/check.py``:
  ``fast_check``).
- ``may_check(client, action, catalog)`` — an implementing agency may check only the actions of
  the measures it implements (403 ``Forbidden`` otherwise); an operator may check any action.

Every request with an accepted key counts against that key's own rate limit
(``api.ratelimit``: the client's ``rate_limit``, else the app's default per key); past it the
answer is 429 with ``Retry-After``.

Keys are looked up by their SHA-256; a found client is remembered for ``CACHE_SECONDS`` so that
a busy check endpoint does not read the table on every request (a revocation takes effect
within that time). A key in use is read again in the background once its entry is half that
old (``refresh_if_due``, one read per key at a time): under steady traffic the entry never runs
out, so the requests of a busy key never all miss at once and queue on the store together,
and a revocation found by that read ends the entry at once. Whatever the re-read does, an entry
is never used past ``CACHE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from xinyong.api.ratelimit import RateLimiter
from xinyong.catalog.model import Catalog
from xinyong.dependencies import app_engine, engine
from xinyong.errors import Forbidden
from xinyong.measures.clients import Client, client_for_key, key_hash, require_may_check

CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, Client]] = {}
_cache_lock = threading.Lock()
_refreshing: set[str] = set()  # digests being read again in the background
_tasks: set[asyncio.Task[None]] = set()  # held until done (the loop keeps only weak references)
log = logging.getLogger(__name__)


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def key_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    """The API key a request carries: ``X-API-Key``, else ``Authorization: Bearer …``."""
    key = x_api_key
    if key is None and authorization:
        scheme, _, value = authorization.partition(" ")
        key = value.strip() if scheme.lower() == "bearer" else None
    return key or None


def cached_client(key: str) -> Client | None:
    """The client of ``key`` if it was found in the store less than ``CACHE_SECONDS`` ago."""
    with _cache_lock:
        hit = _cache.get(key_hash(key))
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    return None


def refresh_if_due(app: Starlette, key: str) -> None:
    """From the event loop, for a key just answered from the cache: if its entry is more than
    half ``CACHE_SECONDS`` old and nobody is reading it yet, read it again in the background
    (the entry renewed, or dropped if the key is gone or revoked)."""
    digest = key_hash(key)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(digest)
        if hit is None or now - hit[0] < CACHE_SECONDS / 2 or digest in _refreshing:
            return
        _refreshing.add(digest)
    task = asyncio.get_running_loop().create_task(_refresh(app, key, digest, now))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _refresh(app: Starlette, key: str, digest: str, began: float) -> None:
    """Read ``key`` again; the entry renewed as of ``began`` (the read started then, so a
    revocation after it still ends the entry within ``CACHE_SECONDS``), or dropped."""
    try:
        try:
            found = await run_in_threadpool(_client_in_store, app, key)
        except Exception as error:  # the entry runs out as it would have; a request re-reads it
            log.warning("API key re-read failed, the cached entry runs out: %s", error)
            return
        with _cache_lock:
            if found is None:
                _cache.pop(digest, None)
            else:
                _cache[digest] = (began, found)
    finally:  # also when cancelled (the loop closing): a later request may refresh again
        with _cache_lock:
            _refreshing.discard(digest)


async def client(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Client:
    """The calling client; 401 without a live key. Async, and no database on a cache hit: a
    check pays neither a thread hop nor a query to be authenticated."""
    key = key_from_headers(authorization, x_api_key)
    if not key:
        raise _unauthorised("缺少 API 密钥 / missing API key (Authorization: Bearer …)")
    hit = cached_client(key)
    if hit is not None:
        request.state.api_client = hit  # read by fastpath.py: a valid key skips the limit
        count_key(request.app, hit)
        refresh_if_due(request.app, key)
        return hit
    digest = key_hash(key)
    now = time.monotonic()
    found = await run_in_threadpool(_client_from_store, request, key)
    if found is None:
        with _cache_lock:
            _cache.pop(digest, None)
        raise _unauthorised("API 密钥无效或已吊销 / unknown or revoked API key")
    with _cache_lock:
        _cache[digest] = (now, found)
    request.state.api_client = found
    count_key(request.app, found)
    return found


def count_key(app: Starlette, caller: Client) -> None:
    """Count the request against the key's budget; 429 with ``Retry-After`` past it."""
    limiter: RateLimiter | None = getattr(app.state, "rate_limiter", None)
    if limiter is None:
        return
    wait = limiter.hit(f"key:{caller.id}", "key", limit=caller.rate_limit)
    if wait is not None:
        raise HTTPException(
            status_code=429,
            detail=f"此密钥请求过多，请稍后再试 / too many requests for this key ({caller.name})",
            headers={"Retry-After": str(wait)},
        )


def _client_from_store(request: Request, key: str) -> Client | None:
    with engine(request).connect() as conn:
        return client_for_key(conn, key)


def _client_in_store(app: Starlette, key: str) -> Client | None:
    with app_engine(app).connect() as conn:
        return client_for_key(conn, key)


def require_roles(*roles: str) -> Callable[[Client], Awaitable[Client]]:
    """A dependency: the client, if its role is one of ``roles``; else 403."""

    async def dependency(caller: Annotated[Client, Depends(client)]) -> Client:
        if caller.role not in roles:
            raise Forbidden(
                f"角色 {caller.role} 无权调用 / role {caller.role} may not call this "
                f"(needs {', '.join(roles)})"
            )
        return caller

    return dependency


def may_check(caller: Client, action: str, catalog: Catalog) -> None:
    """Refuse (``Forbidden``) an agency checking an action none of its measures governs."""
    require_may_check(catalog, caller.role, caller.authority, action)
