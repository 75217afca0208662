"""Rate limits: a fixed window per client address, in memory, one process.

Every request counts against its client's budget for the current minute; past the budget the
answer is 429 with ``Retry-After`` (a problem details body for the API, a page for the portal).
Log-in attempts have a much smaller budget of their own (``LOGIN_LIMIT``), so a password cannot
be guessed at the general rate. Behind several processes, put the limit in the proxy instead.
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
WINDOW = 60.0


class RateLimiter:
    """Counts per (client, bucket) in fixed one-minute windows."""

    def __init__(self, limit: int = RATE_LIMIT, login_limit: int = LOGIN_LIMIT) -> None:
        self.limits = {"all": limit, "login": login_limit}
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str, bucket: str = "all", now: float | None = None) -> int | None:
        """Count one request; None if allowed, else the seconds until the window ends."""
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
        if count > self.limits[bucket]:
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
