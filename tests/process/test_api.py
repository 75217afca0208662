"""The objection, repair and report routes: thin over the library, errors as problem details."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.process.conftest import PERSON, defaulter, make_loader

from xinyong.api.app import create_app
from xinyong.catalog import default_catalog
from xinyong.measures.clients import create_client
from xinyong.store.tables import records


def test_objection_filed_listed_and_decided_over_http(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    make_loader(sqlite_engine, tmp_path)(
        "judgment_defaulter", [defaulter(PERSON, "王伟", "（2024）闽0102执9号")], source="court"
    )
    with sqlite_engine.begin() as conn:
        rid = conn.execute(select(records.c.id)).scalar_one()
        sid = conn.execute(select(records.c.subject_id)).scalar_one()
        _, court_key = create_client(
            conn, default_catalog(), name="鼓楼法院", authority="court", role="department"
        )
        _, samr_key = create_client(
            conn, default_catalog(), name="市场监管", authority="samr", role="department"
        )
    client = TestClient(create_app(str(sqlite_engine.url)))
    # A person's public report is asked for by subject id; by number it is never found.
    report = client.get(f"/api/v1/subjects/{sid}/report?format=json")
    assert report.status_code == 200 and len(report.json()["records"]) == 1
    assert client.get(f"/api/v1/reports/{PERSON}?format=json").status_code == 404
    court = {"Authorization": f"Bearer {court_key}"}
    body = {
        "subject_code": PERSON, "record_id": rid, "reason": "同名他人", "filed_by": "王伟",
        "filer_role": "wrongly_matched", "at": "2024-09-20",
    }  # fmt: skip
    assert client.post("/api/v1/objections", json=body).status_code == 401
    created = client.post("/api/v1/objections", json=body, headers=court)
    assert created.status_code == 201, created.text
    oid = created.json()["id"]
    assert created.json()["due_on"] == "2024-10-08"
    late = client.get("/api/v1/objections?overdue=true&at=2024-10-09", headers=court).json()
    assert [o["id"] for o in late] == [oid]
    decision = {"upheld": True, "remedy": "withdraw", "reason": "错配", "decided_by": "执行局"}
    wrong = client.post(
        f"/api/v1/objections/{oid}/decision", json=decision,
        headers={"Authorization": f"Bearer {samr_key}"},
    )  # fmt: skip
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    done = client.post(f"/api/v1/objections/{oid}/decision", json=decision, headers=court)
    assert done.status_code == 200 and done.json()["state"] == "upheld"
    again = client.post(f"/api/v1/objections/{oid}/decision", json=decision, headers=court)
    assert again.status_code == 409
    # The withdrawn record was the only one the public knew about the person: no public file.
    gone = client.get(f"/api/v1/subjects/{sid}/report?format=json")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert PERSON not in gone.json()["detail"]
    verified = client.post("/api/v1/reports/verify", content=report.content)
    assert verified.json()["genuine"] is True
    not_a_code = client.get("/api/v1/reports/123")
    assert not_a_code.status_code == 400
    assert not_a_code.headers["content-type"] == "application/problem+json"
    assert "the code has the wrong length" in not_a_code.json()["detail"]
    assert client.post("/api/v1/reports/verify", content=b"junk").status_code == 400


def test_objections_stay_with_the_deciding_authority_and_its_caller(
    engine: Engine, tmp_path: Path
) -> None:
    """An agency or another department lists none of the court's objections; who decides is
    the key's client, not the body's ``decided_by``; a decision dated in the future or before
    the filing is refused."""
    make_loader(engine, tmp_path)(
        "judgment_defaulter", [defaulter(PERSON, "王伟", "（2024）闽0102执8号")], source="court"
    )
    keys = {}
    with engine.begin() as conn:
        rid = conn.execute(select(records.c.id)).scalar_one()
        for name, authority, role in (
            ("鼓楼法院", "court", "department"),
            ("市场监管", "samr", "department"),
            ("航空公司", "caac", "agency"),
        ):
            _, key = create_client(
                conn, default_catalog(), name=name, authority=authority, role=role
            )
            keys[authority] = {"Authorization": f"Bearer {key}"}
    app = create_app(str(engine.url))
    client = TestClient(app)
    body = {
        "subject_code": PERSON, "record_id": rid, "reason": "同名他人", "filed_by": "王伟",
        "filer_role": "wrongly_matched", "at": "2024-09-20",
    }  # fmt: skip
    oid = client.post("/api/v1/objections", json=body, headers=keys["court"]).json()["id"]
    for other in ("samr", "caac"):
        assert client.get("/api/v1/objections", headers=keys[other]).json() == [], other
        assert client.get("/api/v1/repairs", headers=keys[other]).json() == [], other
    assert [o["id"] for o in client.get("/api/v1/objections", headers=keys["court"]).json()] == [
        oid
    ]
    url = f"/api/v1/objections/{oid}/decision"
    decision = {"upheld": False, "reason": "核实无误", "decided_by": "最高法院院长"}
    for when in ("2999-01-01", "2024-09-19"):
        refused = client.post(url, json={**decision, "at": when}, headers=keys["court"])
        assert refused.status_code == 400, when
    done = client.post(url, json={**decision, "at": "2024-09-25"}, headers=keys["court"])
    assert done.status_code == 200, done.text
    assert done.json()["decided_by"] == "api:鼓楼法院"
    if app.state.engine is not None:
        app.state.engine.dispose()
