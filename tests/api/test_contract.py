"""The API against its own OpenAPI document (schemathesis): no request, however malformed,
produces a 5xx. Runs in-process on a small demo database, a few examples per operation, so the
whole run stays within seconds (CI has 30 minutes for everything)."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from xinyong.api.app import create_app
from xinyong.catalog import default_catalog
from xinyong.demo import build_demo
from xinyong.store.engine import opened
from xinyong.store.schema import upgrade


def _database(tmp: Path) -> str:
    url = f"sqlite:///{tmp / 'contract.db'}"
    with opened(url) as engine:
        upgrade(engine)
        build_demo(engine, subjects=200, catalog=default_catalog())
    return url


_TMP = Path(__import__("tempfile").mkdtemp(prefix="xinyong-contract-"))
app = create_app(_database(_TMP), rate_limit=1_000_000)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_produces_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400:
        content_type = response.headers.get("content-type") or [""]
        assert str(content_type[0]).startswith("application/problem+json"), content_type


def test_the_document_lists_the_public_routes() -> None:
    paths = app.openapi()["paths"]
    for path in ("/api/v1/subjects", "/api/v1/subjects/{subject_id}", "/api/v1/lists"):
        assert path in paths, path
