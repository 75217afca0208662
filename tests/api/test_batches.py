"""``/api/v1/batches``: a department submits a file and reads its rejects back."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from xinyong.api.app import create_app
from xinyong.catalog import default_catalog
from xinyong.codes import uscc
from xinyong.measures.clients import create_client
from xinyong.store.tables import records

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BAD_ROWS = EXAMPLES / "judgment_defaulter_bad_rows.csv"


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


def test_a_market_regulator_cannot_submit_court_defaulters(api: TestClient, engine: Engine) -> None:
    """The catalog's ``sources`` name who may submit a record type; the key's authority is the
    source, so samr's key uploading court defaulters is refused and nothing is stored."""
    samr = _key(engine, "samr", "department")
    refused = _submit(api, samr, BAD_ROWS)
    assert refused["status"] == 403
    assert "court, spc" in str(refused["detail"])
    operator = _key(engine, "ndrc", "operator")
    assert _submit(api, operator, BAD_ROWS, source="samr")["status"] == 403
    assert api.get("/api/v1/batches", headers=operator).json() == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar_one() == 0


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


def test_a_department_uploads_its_mapping_with_the_file(
    api: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """The ``mapping`` upload field is ``xinyong ingest --map``: headers, constants, wordings;
    a bad mapping is refused with its file and line, and nothing is loaded."""
    firm = uscc.generate(random.Random(7), authority="9", category="1")
    data = tmp_path / "own.csv"
    data.write_text(
        f"当事人,信用代码,文号,处罚日期\n某某科技有限公司,{firm},龙市监罚〔2026〕1号,2026/3/10\n"
    )
    mapping = tmp_path / "own.yaml"
    mapping.write_text(
        "columns:\n  信用代码: subject_code\n  文号: document_no\n  处罚日期: decided_on\n"
        "constants:\n  penalising_authority: 深圳市龙岗区市场监督管理局\n",
        encoding="utf-8",
    )
    samr = _key(engine, "samr", "department")

    def submit(mapping_text: bytes) -> tuple[int, dict[str, object]]:
        with data.open("rb") as handle:
            answer = api.post(
                "/api/v1/batches",
                headers=samr,
                data={"record_type": "admin_penalty"},
                files={
                    "file": (data.name, handle, "text/csv"),
                    "mapping": ("own.yaml", mapping_text, "application/yaml"),
                },
            )
        return answer.status_code, answer.json()

    status, body = submit(mapping.read_bytes())
    assert status == 201, body
    assert (body["accepted"], body["unlinked"], body["unmapped_columns"]) == (1, 0, [])
    status, body = submit(b"columns:\n  \xe6\x96\x87\xe5\x8f\xb7: doc_number\n")
    assert status == 400
    assert "own.yaml:2" in str(body) and "doc_number" in str(body)
