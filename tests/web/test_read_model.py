"""One read model: a subject's file shows the same records on the portal, in the API and in the
credit report, for every audience (``xinyong.disclose.view.subject_view``)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import or_, select

from xinyong.catalog import default_catalog
from xinyong.disclose import issue_report
from xinyong.disclose.masking import mask_ric
from xinyong.errors import SubjectNotFound
from xinyong.lists.tables import list_entries
from xinyong.store.engine import opened
from xinyong.store.tables import records, subjects

from .conftest import log_in

AUDITED = {"actor": "测试员", "purpose": "一致性检查"}


def _report(demo_db: str, code: str, audience: str, **who: str) -> dict[str, Any]:
    with opened(demo_db) as engine, engine.begin() as conn:
        data, _ = issue_report(conn, default_catalog(), code, fmt="json", audience=audience, **who)
    report: dict[str, Any] = json.loads(data)
    return report


def _a_grade_firm(demo_db: str) -> tuple[int, str]:
    """A firm on the A-grade taxpayers list today (its tax credit rating is shared, not public) that
    also has a registration record (public, with its domicile)."""
    with opened(demo_db) as engine, engine.connect() as conn:
        registered = select(records.c.subject_id).where(
            records.c.record_type == "enterprise_registration",
            records.c.superseded_at.is_(None),
        )
        row = conn.execute(
            select(subjects.c.id, subjects.c.primary_code)
            .join(list_entries, list_entries.c.subject_id == subjects.c.id)
            .where(
                list_entries.c.list_id == "a_grade_taxpayers",
                list_entries.c.state == "listed",
                list_entries.c.superseded_at.is_(None),
                list_entries.c.valid_from <= date.today(),
                or_(list_entries.c.valid_to.is_(None), list_entries.c.valid_to >= date.today()),
                subjects.c.id.in_(registered),
            )
            .order_by(subjects.c.id)
        ).first()
    assert row is not None, "the demo has no A-grade taxpayer with a registration"
    return row[0], row[1]


def _documents(report: dict[str, Any]) -> set[str]:
    return {r["document_no"] for r in report["records"] if r["document_no"]}


def test_every_audience_sees_the_same_file_on_every_surface(
    client: TestClient, demo_db: str
) -> None:
    sid, code = _a_grade_firm(demo_db)
    public = _report(demo_db, code, "public")
    mine = _report(demo_db, code, "subject", **AUDITED)
    by_type = {r["record_type"] for r in mine["records"]}
    assert {"tax_credit_rating", "enterprise_registration"} <= by_type

    # The public: API, portal page and report show the same records, the same way.
    api = client.get(f"/api/v1/subjects/{sid}").json()
    assert [r["id"] for r in api["records"]] == [r["id"] for r in public["records"]]
    assert [r["fields"] for r in api["records"]] == [r["fields"] for r in public["records"]]
    assert api["not_shown"] == public["hidden"] > 0
    assert api["code"] == public["identity"]["code"] == code
    page = client.get(f"/subjects/{sid}").text
    for document in _documents(public):
        assert document in page, document
    for document in _documents(mine) - _documents(public):
        assert document not in page, document
    assert "tax_credit_rating" not in {r["record_type"] for r in public["records"]}

    # The subject itself: its /me page shows what its own report shows.
    log_in(client, code)
    me = client.get("/me").text
    assert _documents(mine) > _documents(public)
    for document in _documents(mine):
        assert document in me, document

    # Authorities: the report is their surface; it follows the same policy.
    agency = _report(demo_db, code, "agency", **AUDITED)
    operator = _report(demo_db, code, "operator", **AUDITED)
    assert [r["id"] for r in operator["records"]] == [r["id"] for r in mine["records"]]
    assert {r["id"] for r in public["records"]} <= {r["id"] for r in agency["records"]}
    assert "tax_credit_rating" in {r["record_type"] for r in agency["records"]}


def test_the_api_shows_a_firms_domicile_as_the_portal_and_report_do(
    client: TestClient, demo_db: str
) -> None:
    """Before: the API dropped every ``domicile`` and ``address`` field, also a firm's registered
    domicile the portal and the report publish; the policy publishes it (only a person's address
    is private)."""
    sid, code = _a_grade_firm(demo_db)
    public = _report(demo_db, code, "public")
    registration = next(
        r for r in public["records"] if r["record_type"] == "enterprise_registration"
    )
    domicile = registration["fields"].get("domicile")
    assert domicile
    api = client.get(f"/api/v1/subjects/{sid}").json()
    shown = next(r for r in api["records"] if r["id"] == registration["id"])
    assert shown["fields"]["domicile"] == domicile
    assert domicile in client.get(f"/subjects/{sid}").text


def test_a_published_list_entry_shows_on_the_subject_page_as_on_the_list_page(
    client: TestClient, demo_db: str
) -> None:
    """Before: the A-grade list page published the firm, while its public subject page and
    public report left the entry out because the rating record behind it is not public."""
    sid, code = _a_grade_firm(demo_db)
    public = _report(demo_db, code, "public")
    assert "a_grade_taxpayers" in {e["list_id"] for e in public["lists"]["entries"]}
    assert 'href="/lists/a_grade_taxpayers"' in client.get(f"/subjects/{sid}").text
    listed = client.get("/lists/a_grade_taxpayers", params={"format": "csv"}).text
    assert code in listed


def test_a_person_the_public_knows_no_record_of_has_no_public_file(
    client: TestClient, demo_db: str
) -> None:
    """Before: the public credit report of such a person was issued (masked number, no
    records), confirming to anyone that the store holds a file on that ID number, while the
    portal and the API answered 404. Now every surface says: not found."""
    public_types = {"judgment_defaulter", "consumption_restriction_order"}
    with opened(demo_db) as engine, engine.connect() as conn:
        named = select(records.c.subject_id).where(records.c.record_type.in_(public_types))
        row = conn.execute(
            select(subjects.c.id, subjects.c.primary_code)
            .join(records, records.c.subject_id == subjects.c.id)
            .where(
                subjects.c.kind == "individual",
                records.c.record_type.in_(("admin_penalty", "professional_penalty")),
                subjects.c.id.not_in(named),
            )
            .order_by(subjects.c.id)
        ).first()
    assert row is not None
    sid, code = row
    with opened(demo_db) as engine, engine.begin() as conn, pytest.raises(SubjectNotFound):
        issue_report(conn, default_catalog(), code, fmt="json", audience="public")
    assert client.get(f"/subjects/{sid}").status_code == 404
    assert client.get(f"/api/v1/subjects/{sid}").status_code == 404
    assert f"/subjects/{sid}" not in client.get("/search", params={"q": mask_ric(code)}).text
    assert client.get(f"/api/v1/reports/{code}").status_code == 404
    # The person, and authorities, still see the file.
    assert _report(demo_db, code, "subject", **AUDITED)["records"]
