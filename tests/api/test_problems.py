"""Every error the API returns has one shape: RFC 9457 problem details."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from xinyong.api import create_app
from xinyong.errors import Forbidden, InvalidChecksum, NotFound

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


@pytest.fixture()
def client() -> TestClient:
    app = create_app()
    router = APIRouter()

    @router.get("/raise/{kind}")
    def raise_(kind: str) -> None:
        match kind:
            case "notfound":
                raise NotFound("subject 91350100M000100Y43")
            case "forbidden":
                raise Forbidden()
            case "code":
                raise InvalidChecksum()
            case _:
                raise RuntimeError("boom")

    @router.get("/typed")
    def typed(n: int) -> dict[str, int]:
        return {"n": n}

    app.include_router(router, prefix="/api/v1/test")
    return TestClient(app, raise_server_exceptions=False)


def test_health(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_document_is_served(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"].startswith("xinyong")


@pytest.mark.parametrize(
    ("path", "status", "slug"),
    [
        ("/api/v1/test/raise/notfound", 404, "not-found"),
        ("/api/v1/test/raise/forbidden", 403, "forbidden"),
        ("/api/v1/test/raise/code", 422, "invalid-code"),
        ("/api/v1/test/raise/other", 500, "internal"),
        ("/api/v1/test/typed?n=abc", 422, "invalid-request"),
        ("/api/v1/no/such/route", 404, "http-404"),
    ],
)
def test_errors_are_problem_details(client: TestClient, path: str, status: int, slug: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"].endswith("/" + slug)
    assert body["instance"] == path.split("?")[0]


def test_invalid_code_problem_carries_reason(client: TestClient) -> None:
    body = client.get("/api/v1/test/raise/code").json()
    assert body["reason"] == "checksum"
    assert "校验码" in body["title"]


def test_internal_error_hides_the_exception(client: TestClient) -> None:
    body = client.get("/api/v1/test/raise/other").json()
    assert "boom" not in str(body)
