"""An operator's catalog folder, end to end: the golf example of docs/catalog.md.

Set in ``XINYONG_CATALOG`` (or given as ``--catalog``), the operator's measure is in force for
every command and route: ingest derives it, ``check`` denies by it, deciding an objection keeps
it. Running the pipeline without the folder is refused (exit 2 / HTTP 409) before anything is
written, naming the measure and the catalog version that derived it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from xinyong.all_tables import full_metadata
from xinyong.api.app import create_app
from xinyong.catalog import catalog_in_force, default_catalog
from xinyong.cli import app
from xinyong.measures.clients import create_client
from xinyong.store.engine import opened
from xinyong.store.footprint import catalog_footprint
from xinyong.store.schema import upgrade

DOCS = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"
PERSON = "310106199201017931"
ORDER = (
    "subject_name,subject_code,court,document_no,decided_on,published_on\n"
    f"刘洋,{PERSON},成都市武侯区人民法院,（2024）川0107执{{n}}号,2024-02-20,2024-02-22\n"
)
runner = CliRunner()


def docs_example() -> str:
    """The YAML of docs/catalog.md's "an operator's file", as written there."""
    section = DOCS.read_text(encoding="utf-8").split("## Example: an operator's file", 1)[1]
    found = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert found is not None, "docs/catalog.md lost its operator's file example"
    return found.group(1)


@pytest.fixture()
def golf(tmp_path: Path) -> Path:
    folder = tmp_path / "operator-catalog"
    folder.mkdir()
    (folder / "village.yaml").write_text(docs_example(), encoding="utf-8")
    return folder


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'xinyong.db'}"
    with opened(url) as engine:
        upgrade(engine)
    yield url


def order_file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"order-{n}.csv"
    path.write_text(ORDER.format(n=n), encoding="utf-8")
    return path


def xinyong(*args: str) -> Result:
    return runner.invoke(app, list(args))


def row_counts(db: str) -> dict[str, int]:
    with opened(db, create=False) as engine, engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in full_metadata().sorted_tables
        }


def golf_reasons(db: str, *extra: str) -> tuple[str, list[str]]:
    done = xinyong("check", PERSON, "buy_golf_membership", "--json", "--db", db, *extra)
    assert done.exit_code == 0, done.output
    decision = json.loads(done.stdout)
    return decision["outcome"], [r["measure"] for r in decision["reasons"]]


def test_golf_measure_through_xinyong_catalog_for_every_command(
    golf: Path, db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_CATALOG", str(golf))
    loaded = xinyong(
        "ingest", str(order_file(tmp_path, 455)), "--type", "consumption_restriction_order",
        "--source", "court", "--db", db, "--json",
    )  # fmt: skip
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout)["accepted"] == 1
    assert golf_reasons(db) == ("deny", ["defaulter_golf_ban"])

    filed = xinyong(
        "objection", "file", PERSON, "--record", "1", "--reason", "非本人", "--at", "2024-03-01",
        "--db", db, "--json",
    )  # fmt: skip
    assert filed.exit_code == 0, filed.output
    objection = json.loads(filed.stdout)["id"]
    decided = xinyong(
        "objection", "decide", str(objection), "--reject", "--authority", "court",
        "--reason", "身份核实无误", "--at", "2024-03-05", "--db", db, "--json",
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.stdout)["state"] == "rejected"
    assert golf_reasons(db) == ("deny", ["defaulter_golf_ban"])  # still in force

    with opened(db, create=False) as engine, engine.connect() as conn:
        held = {
            (r.kind, r.entity_id): r.catalog_version
            for r in conn.execute(select(catalog_footprint))
        }
    version = catalog_in_force().version
    assert held[("measure", "defaulter_golf_ban")] == version
    assert held[("action", "buy_golf_membership")] == version
    assert held[("run", "")] == version

    # Without the folder: the pipeline is refused, nothing written, whatever the command.
    monkeypatch.delenv("XINYONG_CATALOG")
    before = row_counts(db)
    refused = [
        xinyong(
            "objection",
            "file",
            PERSON,
            "--record",
            "1",
            "--reason",
            "再议",
            "--at",
            "2024-03-08",
            "--db",
            db,
        ),
        xinyong(
            "ingest",
            str(order_file(tmp_path, 456)),
            "--type",
            "consumption_restriction_order",
            "--source",
            "court",
            "--db",
            db,
        ),
        xinyong(
            "batch", "derive", "--out", str(tmp_path / "derived"), "--purpose", "核对", "--db", db
        ),
    ]
    for result in refused:
        assert result.exit_code == 2, result.output
        message = result.stderr.strip()
        assert "\n" not in message and "Traceback" not in message
        assert "measure defaulter_golf_ban" in message and "action buy_golf_membership" in message
        assert version in message
        assert "拒绝运行" in message and "lacks" in message
    assert row_counts(db) == before
    assert not (tmp_path / "order-456.csv.rejects.csv").exists()
    assert golf_reasons(db, "--catalog", str(golf)) == ("deny", ["defaulter_golf_ban"])

    # The folder as --catalog works as the variable does.
    again = xinyong(
        "objection", "file", PERSON, "--record", "1", "--reason", "再议", "--at", "2024-03-08",
        "--db", db, "--catalog", str(golf),
    )  # fmt: skip
    assert again.exit_code == 0, again.output


def test_a_bad_catalog_folder_is_one_line_and_exit_2_for_every_command(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-folder"
    commands = [
        ["check", PERSON, "buy_flight_ticket", "--db", db],
        ["objection", "file", PERSON, "--record", "1", "--reason", "x", "--db", db],
        ["score", PERSON, "--db", db],
        ["report", "issue", PERSON, "--db", db, "--out", str(tmp_path / "r.json")],
        ["catalog", "show"],
    ]
    for args in commands:
        result = xinyong(*args, "--catalog", str(missing))
        assert result.exit_code == 2, (args, result.output)
        assert str(missing) in result.stderr and "--catalog" in result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
    monkeypatch.setenv("XINYONG_CATALOG", str(missing))
    for args in commands:
        result = xinyong(*args)
        assert result.exit_code == 2, (args, result.output)
        assert str(missing) in result.stderr and "XINYONG_CATALOG" in result.stderr


def test_golf_measure_through_the_api_and_a_refusal_is_409(
    golf: Path, db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_DECISION_LOG", "sync")  # every check logged before it answers
    operator_catalog = catalog_in_force([golf])
    with opened(db, create=False) as engine, engine.begin() as conn:
        _, court = create_client(
            conn, operator_catalog, name="武侯法院", authority="court", role="department"
        )
        _, operator = create_client(
            conn, operator_catalog, name="运营", authority="ndrc", role="operator"
        )
    as_court = {"Authorization": f"Bearer {court}"}
    as_operator = {"Authorization": f"Bearer {operator}"}

    def submit(client: TestClient, n: int) -> int:
        path = order_file(tmp_path, n)
        return client.post(
            "/api/v1/batches",
            files={"file": (path.name, path.read_bytes(), "text/csv")},
            data={"record_type": "consumption_restriction_order", "source": "court"},
            headers=as_court,
        ).status_code

    with TestClient(create_app(db, catalog=operator_catalog)) as api:
        assert submit(api, 455) == 201
        golf_check = api.get(
            f"/api/v1/check?subject={PERSON}&action=buy_golf_membership", headers=as_operator
        )
        assert golf_check.status_code == 200, golf_check.text
        assert golf_check.json()["outcome"] == "deny"
        assert [r["measure"] for r in golf_check.json()["reasons"]] == ["defaulter_golf_ban"]
        body = {
            "subject_code": PERSON, "record_id": 1, "reason": "非本人", "filed_by": "刘洋",
            "at": "2024-03-01",
        }  # fmt: skip
        filed = api.post("/api/v1/objections", json=body, headers=as_court)
        assert filed.status_code == 201, filed.text
        decision = {
            "upheld": False, "reason": "核实无误", "decided_by": "执行局", "at": "2024-03-05"
        }  # fmt: skip
        decided = api.post(
            f"/api/v1/objections/{filed.json()['id']}/decision", json=decision, headers=as_court
        )
        assert decided.status_code == 200, decided.text
        still = api.get(
            f"/api/v1/check?subject={PERSON}&action=buy_golf_membership", headers=as_operator
        )
        assert still.json()["outcome"] == "deny"

    before = row_counts(db)
    with TestClient(create_app(db, catalog=default_catalog())) as shipped:
        refused = shipped.post("/api/v1/objections", json=body, headers=as_court)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"].endswith("/catalog-mismatch")
        assert "defaulter_golf_ban" in problem["detail"]
        assert operator_catalog.version in problem["detail"]
        assert submit(shipped, 456) == 409
        unknown = shipped.get(
            f"/api/v1/check?subject={PERSON}&action=buy_golf_membership", headers=as_operator
        )
        assert unknown.status_code == 400  # not an action of this catalog
    assert row_counts(db) == before
