"""Deeply nested JSON is refused with 4xx problem details on every route that takes a JSON body
(and on report verification, which takes the report as its body), never a 500 or a
``RecursionError``; the meter counts nesting, not brackets inside strings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from xinyong.api import problems
from xinyong.api.app import create_app
from xinyong.catalog import default_catalog
from xinyong.json_nesting import MAX_DEPTH, NestingMeter
from xinyong.measures.clients import create_client

APP = create_app("sqlite://")
#: Every API route whose body is JSON, read from the app's OpenAPI document (a new one is
#: covered too), with its path parameters set to 1.
JSON_ROUTES = sorted(
    (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
    for path, operations in APP.openapi()["paths"].items()
    for method, operation in operations.items()
    if "application/json" in operation.get("requestBody", {}).get("content", {})
)
#: Routes that read the raw body as a document (a JSON report is verified).
RAW_ROUTES = [("POST", "/api/v1/reports/verify")]
DEEP = [MAX_DEPTH + 1, 1000, 100_000]


def test_the_json_routes_are_found() -> None:
    assert ("POST", "/api/v1/objections") in JSON_ROUTES
    assert ("POST", "/api/v1/repairs/1/decision") in JSON_ROUTES
    assert all(path.startswith("/api/v1/") for _, path in JSON_ROUTES)


@pytest.fixture()
def api(db_url: str, engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with engine.begin() as conn:
        _, key = create_client(conn, default_catalog(), authority="court", role="department")
    app = create_app(db_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, {"X-API-Key": key}
    if app.state.engine is not None:
        app.state.engine.dispose()


def _bodies(depth: int) -> list[bytes]:
    return [
        b"[" * depth + b"]" * depth,
        b'{"a":' * depth + b"1" + b"}" * depth,
        b'{"subject":"x","reason":' + b"[" * depth + b"]" * depth + b"}",
    ]


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES + RAW_ROUTES)
def test_deeply_nested_json_bodies_are_4xx_problems(
    api: tuple[TestClient, dict[str, str]], method: str, path: str
) -> None:
    client, key = api
    types = ["application/json", "application/problem+json"]
    if (method, path) in RAW_ROUTES:
        types.append("application/octet-stream")
    for depth in DEEP:
        for body in _bodies(depth):
            for content_type in types:
                response = client.request(
                    method, path, content=body, headers={**key, "Content-Type": content_type}
                )
                assert response.status_code == 400, (path, depth, response.text[:200])
                assert response.headers["content-type"].startswith(problems.PROBLEM_JSON)
                assert "嵌套过深" in response.json()["detail"]


def test_shallow_json_is_still_parsed(api: tuple[TestClient, dict[str, str]]) -> None:
    client, key = api
    nested = {"subject": "[[[[", "note": '\\"[[[', "x": [[[[1]]]]}
    response = client.post("/api/v1/objections", json=nested, headers=key)
    assert response.status_code == 422  # reached validation: not refused as too deep


json_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(json_values, st.integers(min_value=1, max_value=7))
def test_the_meter_counts_nesting_across_chunks(value: object, size: int) -> None:
    data = json.dumps(value).encode()
    depth = _depth(value)
    for limit in (max(depth - 1, 0), depth):
        meter = NestingMeter(limit)
        ok = all(meter.feed(data[i : i + size]) for i in range(0, len(data), size))
        assert ok is (depth <= limit), (data, limit)
