"""The API docs page (``/api/v1/docs``): Swagger UI from the package, nothing from elsewhere.

The page loads ``swagger-ui.css``, ``swagger-ui-bundle.js`` (swagger-ui-dist, vendored in
``api/static``, see ``VENDORED.txt``) and its own start-up script ``api-docs.js`` from
``/api/static/``, each with a Subresource Integrity hash (SHA-384) computed from the packaged
file when the app is made; it has no inline script. Its ``Content-Security-Policy`` allows
scripts, styles, images and requests from our own origin only (images also as ``data:``, for
Swagger UI's icons), nothing inline, so no third-party script can run on the site's origin
through it (``tests/web/test_browser.py`` renders the page in Chromium under this policy).
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the packaged assets are served.
STATIC = "/api/static"
#: The page's policy: our origin only, nothing inline, no framing, no form posts.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "api-docs.js")


def integrity(data: bytes) -> str:
    """The Subresource Integrity value of ``data`` (SHA-384)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def install_docs(app: FastAPI, *, docs_url: str, openapi_url: str, title: str) -> None:
    """Serve the packaged assets under ``STATIC`` and the docs page at ``docs_url``."""
    folder = resources.files("xinyong.api").joinpath("static")
    app.mount(STATIC, StaticFiles(directory=str(folder)), name="api-static")
    sri = {name: integrity(folder.joinpath(name).read_bytes()) for name in ASSETS}
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{STATIC}/swagger-ui.css" integrity="{sri["swagger-ui.css"]}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{STATIC}/swagger-ui-bundle.js" integrity="{sri["swagger-ui-bundle.js"]}"></script>
<script src="{STATIC}/api-docs.js" integrity="{sri["api-docs.js"]}"></script>
</body>
</html>
"""

    @app.get(docs_url, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP})
