"""Every request body is capped, API and portal alike: a ``Content-Length`` over the cap is
refused before anything is read, and a body streamed without one (chunked) is cut off as soon
as it passes the cap. Either way the answer is ``413`` problem details (``problems.py``).

A JSON body (``application/json`` or any ``…+json`` / ``…json`` type) is also metered as it
arrives (``xinyong.json_nesting``): nested deeper than ``MAX_DEPTH`` it is refused with ``400``
problem details before any parser sees it, never a ``RecursionError``.

The cap is the portal's upload limit plus room for the form around the file, so that every
upload the portal accepts also passes here (report verification and batch uploads included).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.api.problems import problem
from xinyong.ingest.readers import MAX_UPLOAD
from xinyong.json_nesting import TOO_DEEP, NestingMeter

#: The largest request body, in bytes.
MAX_BODY = MAX_UPLOAD + 1024 * 1024
_DETAIL = f"请求体过大 / request body too large (over {MAX_BODY} bytes)"


class _Refused(HTTPException):
    """Raised from the metered ``receive``; an ``HTTPException`` so that FastAPI's body parsing
    lets it through rather than turning it into its own 400."""


class BodyLimit:
    """Pure ASGI middleware: a body over ``max_bytes`` gets 413, however it is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = chunked = content_type = None
        for name, value in scope.get("headers") or ():
            if name == b"content-length" and length is None:
                length = value
            elif name == b"transfer-encoding":
                chunked = value
            elif name == b"content-type" and content_type is None:
                content_type = value
        if length is None and chunked is None:
            # No body at all (HTTP/1.1: neither header, nothing follows): nothing to meter, and
            # the busiest requests (GETs) skip the relays below.
            await self.app(scope, receive, send)
            return
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False
        meter = (
            NestingMeter() if content_type is not None and b"json" in content_type.lower() else None
        )

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > self.max_bytes:
                    raise _Refused(413, detail=_DETAIL)
                if meter is not None and not meter.feed(body):
                    raise _Refused(400, detail=TOO_DEEP)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except _Refused as exc:
            if started:
                raise
            await self._refuse(scope, receive, send, exc.status_code, exc.detail)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int = 413,
        detail: str = _DETAIL,
    ) -> None:
        title = "内容过大 / Content too large" if status == 413 else "请求无效 / Bad request"
        response = problem(
            status,
            slug=f"http-{status}",
            title=title,
            detail=detail,
            instance=scope.get("path", ""),
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
