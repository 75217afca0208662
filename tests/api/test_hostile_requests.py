"""Hostile requests: bodies over the cap (declared or streamed) get 413 problem details, and
ids or offsets beyond 64 bits get a 4xx, never a 500, on every route that takes one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from xinyong.api import problems
from xinyong.api.app import create_app
from xinyong.api.bodylimit import MAX_BODY, BodyLimit
from xinyong.catalog import default_catalog
from xinyong.errors import UnusableInput
from xinyong.measures.clients import create_client

HUGE = [str(2**63), str(2**64), "-1", "99999999999999999999999999999"]
#: Every route with an integer id or offset, as (method, path template, where the number goes).
ROUTES = [
    ("GET", "/api/v1/subjects/{n}"),
    ("POST", "/api/v1/objections/{n}/decision"),
    ("POST", "/api/v1/repairs/{n}/decision"),
    ("GET", "/api/v1/batches/{n}"),
    ("GET", "/api/v1/batches/1?offset={n}"),
    ("GET", "/api/v1/lists/judgment_defaulters?page={n}"),
    ("GET", "/subjects/{n}"),
    ("GET", "/department/batches/{n}"),
]


@pytest.fixture()
def api(db_url: str, engine: Engine) -> Iterator[tuple[TestClient, str]]:
    with engine.begin() as conn:
        _, key = create_client(conn, default_catalog(), authority="ndrc", role="operator")
    app = create_app(db_url)
    with TestClient(app) as client:
        yield client, key
    if app.state.engine is not None:
        app.state.engine.dispose()


def test_a_declared_body_over_the_cap_is_413_problem(api: tuple[TestClient, str]) -> None:
    client, key = api
    for path in ("/api/v1/reports/verify", "/api/v1/batches", "/login"):
        response = client.post(
            path,
            content=b"x",
            headers={"Content-Length": str(MAX_BODY + 1), "X-API-Key": key},
        )
        assert response.status_code == 413, path
        assert response.headers["content-type"].startswith(problems.PROBLEM_JSON)
        assert response.json()["status"] == 413


def test_a_streamed_body_over_the_cap_is_cut_off_with_413() -> None:
    inner = FastAPI()
    problems.install(inner)

    @inner.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app = BodyLimit(inner, max_bytes=1000)

    def chunks(n: int) -> Iterator[bytes]:
        for _ in range(n):
            yield b"y" * 300

    with TestClient(app) as client:
        assert client.post("/echo", content=chunks(3)).json() == {"bytes": 900}
        response = client.post("/echo", content=chunks(4))
    assert response.status_code == 413
    assert response.json()["type"].endswith("http-413")


@pytest.mark.parametrize(("method", "template"), ROUTES)
def test_ids_beyond_64_bits_are_4xx_never_500(
    api: tuple[TestClient, str], method: str, template: str
) -> None:
    client, key = api
    for number in [*HUGE, "²"]:
        for headers in ({"X-API-Key": key}, {}):
            response = client.request(
                method, template.format(n=number), headers=headers, follow_redirects=False
            )
            # The API answers 4xx; a portal page may send the anonymous visitor to log in.
            low = 400 if template.startswith("/api/") else 300
            assert low <= response.status_code < 500, (template, number, response.text[:200])


def test_a_made_up_key_does_not_escape_the_per_address_limit(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        _, key = create_client(conn, default_catalog(), authority="caac", role="agency")
    app = create_app(db_url, rate_limit=2)
    made_up = {"X-API-Key": "xy_made-up"}
    try:
        with TestClient(app) as client:
            health = [client.get("/api/v1/health", headers=made_up) for _ in range(3)]
            assert [r.status_code for r in health] == [200, 200, 429]
            refused = client.get("/api/v1/batches", headers=made_up)
            assert refused.status_code == 429 and "Retry-After" in refused.headers
            valid = [client.get("/api/v1/batches", headers={"X-API-Key": key}) for _ in range(3)]
            assert all(r.status_code != 429 for r in valid)
    finally:
        if app.state.engine is not None:
            app.state.engine.dispose()


def test_each_key_has_its_own_limit(db_url: str, engine: Engine) -> None:
    """A key past its own limit gets 429 with Retry-After; another key, and the same address
    without a key, are not throttled by its flood; a key may name its own limit."""
    catalog = default_catalog()
    with engine.begin() as conn:
        _, flood = create_client(conn, catalog, authority="caac", role="agency")
        _, other = create_client(conn, catalog, authority="china_railway", role="agency")
        big, roomy = create_client(conn, catalog, authority="ndrc", role="operator", rate_limit=5)
    assert big.rate_limit == 5
    with engine.begin() as conn, pytest.raises(UnusableInput):
        create_client(conn, catalog, authority="caac", role="agency", rate_limit=0)
    app = create_app(db_url, rate_limit=100, key_rate_limit=3)
    path = "/api/v1/objections"
    try:
        with TestClient(app) as client:
            flooded = [client.get(path, headers={"X-API-Key": flood}) for _ in range(4)]
            assert [r.status_code for r in flooded] == [200, 200, 200, 429]
            assert int(flooded[-1].headers["Retry-After"]) >= 1
            assert flooded[-1].headers["content-type"].startswith(problems.PROBLEM_JSON)
            assert [
                client.get(path, headers={"X-API-Key": other}).status_code for _ in range(3)
            ] == [200] * 3
            assert client.get("/api/v1/health").status_code == 200
            own = [client.get(path, headers={"X-API-Key": roomy}).status_code for _ in range(6)]
            assert own == [200] * 5 + [429]
    finally:
        if app.state.engine is not None:
            app.state.engine.dispose()
