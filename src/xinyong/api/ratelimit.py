"""Rate limits: fixed one-minute windows, in memory, one process.

- Per address: every request without an accepted API key counts against its address's budget
  (``RATE_LIMIT``); log-in attempts also count in a much smaller budget of their own
  (``LOGIN_LIMIT``), so a password cannot be guessed at the general rate.
- Per key: every request with an accepted key counts against that key's budget instead: the
  client's own ``rate_limit`` (``xinyong apikey create --rate-limit``), else ``KEY_RATE_LIMIT``.
  One key's flood never uses up another key's budget, nor an address's (``api.auth.client``).

Past a budget the answer is 429 with ``Retry-After`` (the seconds to the window's end; problem
details in the API, a page in the portal). The counts live in the process: behind N server
processes a client may get up to N times its budget, so put a shared limit in the proxy too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException

RATE_LIMIT = 600
"""Requests per client per minute."""
LOGIN_LIMIT = 10
"""Log-in attempts per client per minute."""
KEY_RATE_LIMIT = 6000
"""Requests per API key per minute (100 a second), unless the key names its own limit."""
WINDOW = 60.0


class RateLimiter:
    """Counts per (client, bucket) in fixed one-minute windows. Buckets: ``all`` (per address),
    ``login`` (log-in attempts per address), ``key`` (per API key)."""

    def __init__(
        self,
        limit: int = RATE_LIMIT,
        login_limit: int = LOGIN_LIMIT,
        key_limit: int = KEY_RATE_LIMIT,
    ) -> None:
        self.limits = {"all": limit, "login": login_limit, "key": key_limit}
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(
        self, client: str, bucket: str = "all", now: float | None = None, limit: int | None = None
    ) -> int | None:
        """Count one request; None if allowed, else the seconds until the window ends.
        ``limit`` overrides the bucket's (a key's own limit)."""
        now = time.monotonic() if now is None else now
        window = int(now // WINDOW)
        with self._lock:
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            seen_window, count = self._counts.get((client, bucket), (window, 0))
            if seen_window != window:
                count = 0
            count += 1
            self._counts[(client, bucket)] = (window, count)
        if count > (limit if limit is not None else self.limits[bucket]):
            return max(1, int(WINDOW - now % WINDOW))
        return None


def install_rate_limit(app: FastAPI, limiter: RateLimiter) -> None:
    """Count every request; log-in posts also count in the log-in bucket."""
    app.state.rate_limiter = limiter

    @app.middleware("http")
    async def _limit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        client = request.client.host if request.client else "unknown"
        wait = limiter.hit(client)
        if wait is None and request.method == "POST" and request.url.path == "/login":
            wait = limiter.hit(client, "login")
        if wait is not None:
            # Raised inside the middleware, so render it with the app's own handler.
            handler = app.exception_handlers[HTTPException]
            exc = HTTPException(
                429,
                detail="请求过多，请稍后再试 / too many requests, try again later",
                headers={"Retry-After": str(wait)},
            )
            result = handler(request, exc)
            return await result if isinstance(result, Awaitable) else result
        return await call_next(request)
