"""The API docs page runs no third-party script: Swagger UI comes from the package, each asset
with a Subresource Integrity hash that matches what is served, under a Content-Security-Policy
that names no other origin."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from xinyong.api.app import create_app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app("sqlite://")) as c:
        yield c


def test_the_docs_page_loads_only_our_own_assets_with_integrity(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.text
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html), "a foreign asset"
    assert "<script>" not in html.replace(" ", "")  # no inline script
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    assets = [t for t in tags if "src=" in t or 'rel="stylesheet"' in t]
    assert len(assets) == 3
    for tag in assets:
        url = re.search(r'(?:src|href)="([^"]+)"', tag)
        sri = re.search(r'integrity="sha384-([^"]+)"', tag)
        assert url and sri, tag
        assert url.group(1).startswith("/api/static/"), tag
        served = client.get(url.group(1))
        assert served.status_code == 200, url.group(1)
        digest = base64.b64encode(hashlib.sha384(served.content).digest()).decode()
        assert digest == sri.group(1), url.group(1)
    assert "SwaggerUIBundle" in client.get("/api/static/swagger-ui-bundle.js").text


def test_the_docs_page_has_a_policy_with_no_third_party_origin(client: TestClient) -> None:
    policy = client.get("/api/v1/docs").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no inline script, no other origin
    for sources in directives.values():
        for source in sources.split():
            assert source in {"'self'", "'none'", "data:"}, source


def test_the_start_up_script_turns_off_the_remote_validator(client: TestClient) -> None:
    script = client.get("/api/static/api-docs.js").text
    assert "validatorUrl: null" in script
    assert "http" not in script
