"""Who may read a score, and the audit event a non-public read writes (CLI and API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.score.conftest import code_with, run

from xinyong.api.app import create_app
from xinyong.audit import AuditEvent, list_events
from xinyong.audit.tables import audit_events
from xinyong.catalog import default_catalog
from xinyong.catalog.loader import load_catalog
from xinyong.catalog.model import Catalog
from xinyong.measures.clients import create_client
from xinyong.score.access import public_model
from xinyong.store.engine import opened

#: An operator's model that is public: not an example, reading only public record types.
OPEN_MODEL = """\
scoring_models:
  open_grade:
    name_zh: 公开等级
    name_en: open grade
    authority: ndrc
    legal_basis: [{instrument: rongcheng_credit_points_measures}]
    subject_kinds: [enterprise, individual]
    spec:
      kind: points
      base: 100
      rules:
        - id: defaulter
          record_type: judgment_defaulter
          points: -40
          legal_basis: [{instrument: rongcheng_credit_points_measures}]
          reason_zh: 失信被执行人
          reason_en: judgment defaulter
      bands:
        - {grade: A, min: 90, label_zh: 好, label_en: good}
        - {grade: B, label_zh: 差, label_en: poor}
"""


def events(db_url: str) -> list[AuditEvent]:
    with opened(db_url) as engine, engine.connect() as conn:
        return list_events(conn)


def key(db_url: str, role: str, authority: str = "pboc") -> str:
    with opened(db_url) as engine, engine.begin() as conn:
        return create_client(conn, default_catalog(), authority=authority, role=role)[1]


@pytest.fixture()
def api(loaded: str) -> Iterator[TestClient]:
    app = create_app(loaded)
    with TestClient(app) as client:
        yield client
    if app.state.engine is not None:
        app.state.engine.dispose()


@pytest.fixture()
def open_catalog(tmp_path: Path) -> Catalog:
    directory = tmp_path / "catalog"
    directory.mkdir()
    (directory / "open.yaml").write_text(OPEN_MODEL, encoding="utf-8")
    return load_catalog([directory])


def test_no_shipped_model_is_public_an_open_one_is(open_catalog: Catalog) -> None:
    catalog = default_catalog()
    # Both are examples, and both read tax_credit_rating (shared among agencies only).
    assert not any(public_model(m, catalog) for m in catalog.scoring_models.values())
    assert public_model(open_catalog.scoring_models["open_grade"], open_catalog)
    not_example = catalog.scoring_models["tax_credit_grade"].model_copy(update={"example": False})
    assert not public_model(not_example, catalog)  # still reads a shared record type


def test_cli_read_is_audited_with_its_purpose(loaded: str) -> None:
    person, _ = code_with(loaded, "judgment_defaulter", "individual")
    code, _, err = run("score", person, "--db", loaded, "--purpose", "  ")
    assert code == 2 and "purpose" in err and len(err.strip().splitlines()) == 1
    assert events(loaded) == []
    # The contract: `xinyong score SUBJECT --model ID --json` needs no more; the read is
    # still audited, with the command line's default purpose.
    code, out, err = run("score", person, "--model", "rongcheng_points", "--db", loaded, "--json")
    assert code == 0, err
    assert json.loads(out)["model"] == "rongcheng_points"
    (default,) = events(loaded)
    assert (default.action, default.subject, default.purpose) == (
        "score.read",
        person,
        "命令行查询 / command-line query",
    )
    code, out, err = run(
        "score", person, "--db", loaded, "--purpose", "授信审查", "--by", "张科员", "--json"
    )
    assert code == 0, err
    assert [s["model"] for s in json.loads(out)] == ["rongcheng_points", "tax_credit_grade"]
    _, event = events(loaded)
    assert (event.action, event.subject, event.actor, event.role, event.purpose) == (
        "score.read",
        person,
        "张科员",
        "operator",
        "授信审查",
    )
    assert event.resource == "rongcheng_points,tax_credit_grade" and event.outcome == "scored"
    # The subject's query history shows it (查询记录).
    with opened(loaded) as engine, engine.connect() as conn:
        mine = conn.execute(select(audit_events).where(audit_events.c.subject == person)).all()
    assert len(mine) == 2


def test_cli_batch_writes_one_event_with_its_purpose(loaded: str, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    args = ["score", "--all", "--model", "rongcheng_points", "--out", str(out), "--db", loaded]
    code, _, err = run(*args, "--purpose", "")
    assert code == 2 and "purpose" in err and not out.exists()
    code, _, err = run(*args, "--purpose", "年度评价", "--by", "ops")
    assert code == 0, err
    (event,) = events(loaded)
    assert event.subject is None and event.resource == "rongcheng_points"
    assert event.actor == "ops" and event.outcome is not None and "subjects" in event.outcome


def test_api_roles(api: TestClient, loaded: str) -> None:
    person, _ = code_with(loaded, "judgment_defaulter", "individual")
    url = f"/api/v1/subjects/{person}/score"
    params = {"model": "rongcheng_points", "purpose": "授信审查"}
    public = api.get(url, params=params)  # no key: the public
    assert public.status_code == 403
    assert public.headers["content-type"].startswith("application/problem")
    bad = api.get(url, params=params, headers={"X-API-Key": "xy_nope"})
    assert bad.status_code == 401
    department = api.get(url, params=params, headers={"X-API-Key": key(loaded, "department")})
    assert department.status_code == 403
    assert events(loaded) == []
    agency = key(loaded, "agency")
    no_purpose = api.get(url, params={"model": "rongcheng_points"}, headers={"X-API-Key": agency})
    assert no_purpose.status_code == 400 and "purpose" in no_purpose.text
    assert events(loaded) == []
    for role, k in (("agency", agency), ("operator", key(loaded, "operator", "ndrc"))):
        got = api.get(url, params=params, headers={"Authorization": f"Bearer {k}"})
        assert got.status_code == 200, got.text
        assert got.json()["subject"] == person
        event = events(loaded)[-1]
        assert (event.action, event.subject, event.role, event.purpose) == (
            "score.read",
            person,
            role,
            "授信审查",
        )
        assert event.resource == "rongcheng_points"
    assert len(events(loaded)) == 2


@pytest.fixture()
def open_api(loaded: str, open_catalog: Catalog) -> Iterator[TestClient]:
    """The API serving the operator's catalog with the public model (``create_app(catalog=…)``)."""
    app = create_app(loaded, catalog=open_catalog)
    with TestClient(app) as client:
        yield client
    if app.state.engine is not None:
        app.state.engine.dispose()


def test_the_public_reads_an_enterprise_under_a_public_model_only(
    open_api: TestClient, loaded: str
) -> None:
    api = open_api
    firm, _ = code_with(loaded, "judgment_defaulter", "enterprise")
    person, _ = code_with(loaded, "judgment_defaulter", "individual")
    got = api.get(f"/api/v1/subjects/{firm}/score", params={"model": "open_grade"})
    assert got.status_code == 200, got.text
    assert (got.json()["score"], got.json()["grade"]) == (60, "B")
    assert events(loaded) == []  # public data: no audit event
    # The same public model, but a natural person: refused.
    assert (
        api.get(f"/api/v1/subjects/{person}/score", params={"model": "open_grade"}).status_code
        == 403
    )
    # An example model of the enterprise, or every model at once: refused.
    assert (
        api.get(f"/api/v1/subjects/{firm}/score", params={"model": "rongcheng_points"}).status_code
        == 403
    )
    assert api.get(f"/api/v1/subjects/{firm}/score").status_code == 403
    # With a key the same public read is not audited either; a mixed one is, for its private part.
    agency = {"X-API-Key": key(loaded, "agency")}
    both = api.get(f"/api/v1/subjects/{firm}/score", params={"purpose": "核查"}, headers=agency)
    assert both.status_code == 200 and len(both.json()) == 3
    (event,) = events(loaded)
    assert event.resource == "rongcheng_points,tax_credit_grade"
