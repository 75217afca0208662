"""The API against its own OpenAPI document (schemathesis): no request, however malformed,
produces a 5xx. Runs in-process on a small demo database, a few examples per operation, so the
whole run stays within seconds.

Each operation is a test of its own, once with requests that fit the document and once with
requests that do not, named by its method, path and mode: schemathesis's own
``schema.parametrize()`` gives every operation the same test id under pytest 9, and pytest-xdist
(which the suite runs under) keeps one item per id, so it ran one operation of the 21."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation

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
Operation = APIOperation[Any, Any, Any, Any]


def _operations() -> list[Operation]:
    """Every operation of the document; one the document describes wrongly fails collection."""
    made: list[Operation] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        made.append(result.ok())
    return made


OPERATIONS = _operations()
#: Each operation with requests that fit the document, and each that takes anything (a
#: parameter or a body) with requests that do not: one that takes nothing has no wrong request.
CASES = [
    pytest.param(operation, mode, id=f"{operation.label} {mode}")
    for operation in OPERATIONS
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or list(operation.iter_parameters()) or operation.body
]


@pytest.mark.parametrize(("operation", "mode"), CASES)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@given(data=st.data())
def test_no_request_produces_a_server_error(
    operation: Operation, mode: GenerationMode, data: st.DataObject
) -> None:
    case = data.draw(operation.as_strategy(generation_mode=mode))
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400:
        content_type = response.headers.get("content-type") or [""]
        assert str(content_type[0]).startswith("application/problem+json"), content_type


def test_the_document_lists_the_public_routes() -> None:
    assert len({operation.label for operation in OPERATIONS}) == len(OPERATIONS) > 15
    assert len(CASES) > len(OPERATIONS) + 15
    paths = app.openapi()["paths"]
    for path in ("/api/v1/subjects", "/api/v1/subjects/{subject_id}", "/api/v1/lists"):
        assert path in paths, path
