"""Leads: a name-only record is linked by a named person with a reason, never by the name alone."""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from xinyong.audit import list_events, verify
from xinyong.catalog import default_catalog
from xinyong.cli import app
from xinyong.codes import ric
from xinyong.errors import Conflict, Forbidden, NotFound, UnusableInput
from xinyong.ingest import ingest_file
from xinyong.link import confirm_lead, list_leads, reject_lead
from xinyong.store.tables import records

runner = CliRunner()
RNG = random.Random(4)
ACTION = "buy_flight_ticket"


def load(engine: Engine, path: Path, record_type: str, source: str, rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return ingest_file(engine, path, record_type, source, catalog=default_catalog())


def cli(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", db_url])
    return result.exit_code, result.stdout, result.stderr


def check(db_url: str, code: str) -> str:
    code_, out, err = cli(db_url, "check", code, ACTION, "--json")
    assert code_ == 0, err
    outcome: str = json.loads(out)["outcome"]
    return outcome


@pytest.fixture()
def two_wang_wei(engine: Engine, tmp_path: Path) -> tuple[str, str, int]:
    """Two people called 王伟, known by licences (no list), and a name-only defaulter record."""
    first, second = ric.generate(RNG), ric.generate(RNG)
    recent = (date.today() - timedelta(days=30)).isoformat()
    licences = [
        {
            "subject_name": "王伟",
            "subject_code": code,
            "document_no": f"京许〔2024〕{n}号",
            "decided_on": "2024-03-05",
            "licensing_authority": "北京市市场监督管理局",
        }
        for n, code in enumerate((first, second), start=1)
    ]
    load(engine, tmp_path / "licences.csv", "admin_license", "approval_agencies", licences)
    defaulter = {
        "subject_name": "王伟",
        "subject_code": "",
        "court": "河北省石家庄市长安区人民法院",
        "document_no": "（2024）冀0102执321号",
        "ground": "违反限制消费令的",
        "decided_on": recent,
        "published_on": recent,
    }
    load(engine, tmp_path / "defaulter.csv", "judgment_defaulter", "spc", [defaulter])
    with engine.connect() as conn:
        rid = conn.execute(
            select(records.c.id).where(records.c.record_type == "judgment_defaulter")
        ).scalar_one()
    return first, second, rid


def test_a_name_only_defaulter_restricts_nobody_until_a_person_confirms(
    engine: Engine, db_url: str, two_wang_wei: tuple[str, str, int]
) -> None:
    first, second, rid = two_wang_wei
    code, out, _ = cli(db_url, "subject", "leads", "--open", "--json")
    assert code == 0
    leads = json.loads(out)
    assert {lead["subject_code"] for lead in leads} == {first, second}
    assert {lead["record"] for lead in leads} == {rid}
    assert all(lead["state"] == "open" and lead["confidence"] == 1.0 for lead in leads)
    # On the name alone, neither 王伟 is restricted.
    assert check(db_url, first) == check(db_url, second) == "permit"

    chosen = next(lead for lead in leads if lead["subject_code"] == first)
    other = next(lead for lead in leads if lead["subject_code"] == second)
    code, out, err = cli(
        db_url,
        "subject",
        "confirm-lead",
        str(chosen["lead"]),
        "--actor",
        "李审核",
        "--reason",
        "判决书载明的身份证号码与该主体一致",
        "--json",
    )
    assert code == 0, err
    done = json.loads(out)
    assert done["state"] == "confirmed" and done["closed_leads"] == [other["lead"]]
    assert done["subject"] in done["subjects"]  # the CLI ran the record through the pipeline
    # The confirmed person is restricted; the namesake is not.
    assert check(db_url, first) == "deny"
    assert check(db_url, second) == "permit"
    with engine.connect() as conn:
        assert conn.execute(select(records.c.subject_id).where(records.c.id == rid)).scalar_one()
        events = [e for e in list_events(conn) if e.purpose == "confirm_lead"]
        assert verify(conn).ok
    (event,) = events
    assert (event.actor, event.role, event.subject) == ("李审核", "operator", first)
    assert event.detail is not None
    assert event.detail["reason"] == "判决书载明的身份证号码与该主体一致"
    assert event.detail["record"] == rid
    # The namesake's lead closed as rejected; the listing shows who decided and why.
    code, out, _ = cli(db_url, "subject", "leads", "--record", str(rid), "--json")
    states = {lead["subject_code"]: lead for lead in json.loads(out)}
    assert states[first]["state"] == "confirmed" and states[first]["decided_by"] == "李审核"
    assert states[second]["state"] == "rejected"
    code, out, _ = cli(db_url, "subject", "leads", "--open", "--json")
    assert json.loads(out) == []


def test_unknown_and_closed_leads_exit_2(
    engine: Engine, db_url: str, two_wang_wei: tuple[str, str, int]
) -> None:
    first, second, rid = two_wang_wei
    code, _, err = cli(
        db_url, "subject", "confirm-lead", "999999", "--actor", "李审核", "--reason", "x"
    )
    assert code == 2 and "999999" in err and len(err.strip().splitlines()) == 1
    with engine.connect() as conn:
        leads = list_leads(conn, record_id=rid)
    code, _, err = cli(
        db_url,
        "subject",
        "reject-lead",
        str(leads[0].id),
        "--actor",
        "李审核",
        "--reason",
        "出生日期与判决书不符",
    )
    assert code == 0, err
    for command in ("confirm-lead", "reject-lead"):
        code, _, err = cli(
            db_url, "subject", command, str(leads[0].id), "--actor", "王五", "--reason", "再试"
        )
        assert code == 2 and "rejected" in err and "Traceback" not in err
    # A rejection links nothing and restricts nobody.
    assert check(db_url, first) == check(db_url, second) == "permit"
    with engine.connect() as conn:
        assert (
            conn.execute(select(records.c.subject_id).where(records.c.id == rid)).scalar_one()
            is None
        )
        rejected = [e for e in list_events(conn) if e.purpose == "reject_lead"]
    assert [(e.actor, e.detail and e.detail["reason"]) for e in rejected] == [
        ("李审核", "出生日期与判决书不符")
    ]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"actor": "", "reason": "理由"}, UnusableInput),
        ({"actor": "李审核", "reason": "   "}, UnusableInput),
        ({"actor": "李审核", "reason": "理由", "role": "agency"}, Forbidden),
    ],
)
def test_a_confirmation_needs_a_named_person_a_reason_and_a_deciding_role(
    engine: Engine, two_wang_wei: tuple[str, str, int], kwargs: dict[str, Any], error: type
) -> None:
    _, _, rid = two_wang_wei
    with engine.begin() as conn:
        lead = list_leads(conn, record_id=rid)[0]
        with pytest.raises(error):
            confirm_lead(conn, lead.id, **kwargs)
        assert list_leads(conn, record_id=rid, open_only=True) == list_leads(conn, record_id=rid)


def test_library_errors_for_unknown_and_decided_leads(
    engine: Engine, two_wang_wei: tuple[str, str, int]
) -> None:
    _, _, rid = two_wang_wei
    with engine.begin() as conn:
        with pytest.raises(NotFound):
            reject_lead(conn, 10**9, actor="李审核", reason="无")
        first, *_ = list_leads(conn, record_id=rid)
        done = confirm_lead(conn, first.id, actor="李审核", reason="核实")
        assert done.record_ids == (rid,) and done.subjects == ()
        with pytest.raises(Conflict):
            confirm_lead(conn, first.id, actor="李审核", reason="核实")


def test_leads_listing_without_json(db_url: str, two_wang_wei: tuple[str, str, int]) -> None:
    code, out, _ = cli(db_url, "subject", "leads")
    assert code == 0 and "王伟" in out and "open" in out
