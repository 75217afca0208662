"""``/api/v1/batches``: a department submits a file and reads its rejects back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from xinyong.api.app import create_app
from xinyong.catalog import default_catalog
from xinyong.measures.clients import create_client
from xinyong.store.engine import connect
from xinyong.store.schema import upgrade

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BAD_ROWS = EXAMPLES / "judgment_defaulter_bad_rows.csv"


@pytest.fixture()
def engine(db_url: str) -> Iterator[Engine]:
    opened = connect(db_url)
    upgrade(opened)
    yield opened
    opened.dispose()


@pytest.fixture()
def api(db_url: str, engine: Engine) -> Iterator[TestClient]:
    app = create_app(db_url)
    with TestClient(app) as client:
        yield client
    if app.state.engine is not None:
        app.state.engine.dispose()


def _key(engine: Engine, authority: str, role: str) -> dict[str, str]:
    with engine.begin() as conn:
        _, key = create_client(conn, default_catalog(), authority=authority, role=role)
    return {"Authorization": f"Bearer {key}"}


def _submit(api: TestClient, headers: dict[str, str], path: Path, **form: str) -> dict[str, object]:
    with path.open("rb") as handle:
        answer = api.post(
            "/api/v1/batches",
            headers=headers,
            data={"record_type": "judgment_defaulter", **form},
            files={"file": (path.name, handle, "text/csv")},
        )
    assert answer.headers["content-type"].startswith("application/")
    return {"status": answer.status_code, **answer.json()}


def test_department_submits_and_reads_rejects_idempotently(api: TestClient, engine: Engine) -> None:
    spc = _key(engine, "spc", "department")
    first = _submit(api, spc, BAD_ROWS)
    assert first["status"] == 201
    assert isinstance(first["accepted"], int) and first["accepted"] > 0
    assert isinstance(first["rejected"], int) and first["rejected"] > 0
    shown = api.get(str(first["url"]), headers=spc).json()
    assert shown["source"] == "spc" and shown["state"] == "done"
    assert len(shown["rejects"]) == first["rejected"]
    assert all(r["row"] >= 2 and r["reason"] for r in shown["rejects"])
    again = _submit(api, spc, BAD_ROWS)
    assert again["accepted"] == 0 and again["duplicates"] == first["accepted"]
    listed = api.get("/api/v1/batches", headers=spc).json()
    assert [b["batch"] for b in listed] == [again["batch"], first["batch"]]


def test_another_department_cannot_see_or_submit_as_another(
    api: TestClient, engine: Engine
) -> None:
    spc = _key(engine, "spc", "department")
    samr = _key(engine, "samr", "department")
    batch = _submit(api, spc, BAD_ROWS)
    assert api.get(f"/api/v1/batches/{batch['batch']}", headers=samr).status_code == 404
    assert api.get("/api/v1/batches", headers=samr).json() == []
    forged = _submit(api, samr, BAD_ROWS, source="spc")
    assert forged["status"] == 403


def test_agencies_and_anonymous_callers_are_refused(api: TestClient, engine: Engine) -> None:
    caac = _key(engine, "caac", "agency")
    assert _submit(api, caac, BAD_ROWS)["status"] == 403
    assert api.get("/api/v1/batches").status_code == 401


@pytest.mark.parametrize(
    ("name", "content", "form", "status"),
    [
        ("rows.pdf", b"%PDF-1.4", {}, 400),
        ("rows.csv", b"", {}, 400),
        ("rows.csv", b"\xff\xfe\x00junk\x00", {}, 400),
        ("rows.csv", "被执行人姓名/名称\n张三\n".encode(), {"record_type": "no_such_type"}, 400),
        ("rows.csv", "案号\n（2024）浙0106执1号\n".encode(), {}, 400),
    ],
)
def test_unusable_files_are_problems_and_load_nothing(
    api: TestClient,
    engine: Engine,
    tmp_path: Path,
    name: str,
    content: bytes,
    form: dict[str, str],
    status: int,
) -> None:
    spc = _key(engine, "spc", "department")
    path = tmp_path / name
    path.write_bytes(content)
    answer = _submit(api, spc, path, **form)
    assert answer["status"] == status
    assert answer["type"] and answer["detail"]
    assert api.get("/api/v1/batches", headers=spc).json() == []


def test_operator_must_name_the_source(api: TestClient, engine: Engine) -> None:
    operator = _key(engine, "ndrc", "operator")
    assert _submit(api, operator, BAD_ROWS)["status"] == 400
    named = _submit(api, operator, BAD_ROWS, source="spc")
    assert named["status"] == 201
