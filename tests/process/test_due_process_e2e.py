"""The issue's "done when", end to end from a fresh database through the real ingest."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import Engine, select, update
from tests.process.conftest import ENTERPRISE, PERSON, Load, defaulter, penalty

from xinyong import audit
from xinyong.audit.tables import audit_events
from xinyong.catalog import Catalog
from xinyong.disclose import subject_view
from xinyong.errors import Conflict, Forbidden, SubjectNotFound
from xinyong.measures import check
from xinyong.process.objections import Evidence, decide_objection, file_objection, list_objections
from xinyong.process.repair import apply_repair, decide_repair
from xinyong.store.tables import records


def _record_id(engine: Engine, code: str, record_type: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(records.c.id).where(
                    records.c.subject_code == code,
                    records.c.record_type == record_type,
                    records.c.superseded_at.is_(None),
                )
            ).scalar_one()
        )


def test_wrongly_matched_person_objects_source_upholds_restriction_lifts(
    engine: Engine, load: Load, catalog: Catalog
) -> None:
    load("judgment_defaulter", [defaulter(PERSON, "王伟", "（2024）闽0102执9号")], source="court")
    rid = _record_id(engine, PERSON, "judgment_defaulter")
    day = date(2024, 9, 20)
    with engine.begin() as conn:
        assert check(conn, PERSON, "buy_flight_ticket", day, catalog=catalog).outcome == "deny"
    with engine.begin() as conn:
        objection = file_objection(
            conn,
            catalog=catalog,
            subject_code=PERSON,
            record_id=rid,
            filer_role="wrongly_matched",
            filed_by="王伟（本人）",
            reason="本人从未涉诉，案号所载被执行人为同名他人 / never a party; a namesake",
            evidence=[Evidence("身份证.pdf", b"%PDF-1.4 scan")],
            at=day,
        )
    assert objection.authority == "court" and objection.state == "open"
    # 法释〔2017〕7号 art. 12: 15 days; 2024-10-05 falls in Golden Week, so the 8th.
    assert objection.due_on == date(2024, 10, 8)
    assert objection.files == [
        {"name": "身份证.pdf", "size": 13, "sha256": hashlib.sha256(b"%PDF-1.4 scan").hexdigest()}
    ]
    with engine.begin() as conn:
        shown = subject_view(conn, catalog, PERSON, audience="public", at=day)
        assert [r["status_zh"] for r in shown["records"]] == ["异议处理中"]
        # The rule set keeps a court's listing in force while the court reviews it.
        assert check(conn, PERSON, "buy_flight_ticket", day, catalog=catalog).outcome == "deny"
        assert list_objections(conn, overdue_on=date(2024, 10, 8)) == []
        assert [o.id for o in list_objections(conn, overdue_on=date(2024, 10, 9))] == [objection.id]
    with engine.begin() as conn, pytest.raises(Forbidden):
        decide_objection(
            conn, objection.id, catalog=catalog, upheld=True, authority="samr",
            decided_by="x", reason="y", remedy="withdraw", at=day,
        )  # fmt: skip
    with engine.begin() as conn:
        decided = decide_objection(
            conn,
            objection.id,
            catalog=catalog,
            upheld=True,
            authority="court",
            decided_by="鼓楼区法院执行局",
            reason="身份证号码录入错误，撤销失信信息",
            remedy="withdraw",
            at=date(2024, 9, 27),
        )
    assert decided.state == "upheld" and decided.remedy == "withdraw"
    with engine.begin() as conn:
        after = check(conn, PERSON, "buy_flight_ticket", date(2024, 9, 27), catalog=catalog)
        assert after.outcome == "permit"
        # The withdrawn record was all the public knew of the person: no public file at all.
        with pytest.raises(SubjectNotFound):
            subject_view(conn, catalog, PERSON, audience="public", at=date(2024, 9, 27))
        trail = [e.action for e in audit.events_for_subject(conn, PERSON)]
        assert trail[:2] == ["objection.file", "objection.decide"]
        assert audit.verify(conn).ok
    # A tampered audit row is detected.
    with engine.begin() as conn:
        conn.execute(
            update(audit_events).where(audit_events.c.id == 1).values(purpose="nothing to see")
        )
    with engine.connect() as conn:
        result = audit.verify(conn)
        assert not result.ok and result.first_broken == 1


def test_repaired_penalty_leaves_public_view_but_stays_for_the_authority(
    engine: Engine, load: Load, catalog: Catalog
) -> None:
    load(
        "admin_penalty",
        [penalty(ENTERPRISE, "福州某某贸易有限公司", "榕市监罚〔2024〕12号", "2024-01-10")],
    )
    rid = _record_id(engine, ENTERPRISE, "admin_penalty")
    conditions = ["1", "2", "3"]
    # The 3-month minimum runs through 2024-04-10 (the corresponding day); repair from the 11th.
    with engine.begin() as conn, pytest.raises(Conflict, match="2024-04-11"):
        apply_repair(
            conn, catalog=catalog, record_id=rid, subject_code=ENTERPRISE, applied_by="法务",
            statement="罚款已缴", conditions_met=conditions, at=date(2024, 4, 10),
        )  # fmt: skip
    with engine.begin() as conn, pytest.raises(Conflict, match="conditions not met"):
        apply_repair(
            conn, catalog=catalog, record_id=rid, subject_code=ENTERPRISE, applied_by="法务",
            statement="罚款已缴", conditions_met=["1"], at=date(2024, 4, 11),
        )  # fmt: skip
    with engine.begin() as conn:
        repair = apply_repair(
            conn,
            catalog=catalog,
            record_id=rid,
            subject_code=ENTERPRISE,
            applied_by="法务",
            statement="罚款已缴清，已整改，附信用承诺书",
            conditions_met=conditions,
            at=date(2024, 4, 30),
        )
    # 10 working days from 2024-04-30 across the May Day holiday (May 1–5 off, May 11 worked).
    assert repair.due_on == date(2024, 5, 16)
    with engine.begin() as conn:
        decide_repair(
            conn, repair.id, catalog=catalog, granted=True, authority="samr",
            decided_by="市场监管局信用科", reason="条件满足", at=date(2024, 5, 6),
        )  # fmt: skip
    day = date(2024, 5, 7)
    with engine.begin() as conn:
        public = subject_view(conn, catalog, ENTERPRISE, audience="public", at=day)
        agency = subject_view(
            conn, catalog, ENTERPRISE, audience="agency", at=day, actor="发改委信用处",
            purpose="招标资格审查",
        )  # fmt: skip
        assert public["records"] == []
        assert [(r["record_type"], r["status"]) for r in agency["records"]] == [
            ("admin_penalty", "repaired")
        ]
        reads = [e for e in audit.events_for_subject(conn, ENTERPRISE) if e.role == "agency"]
        assert [(e.actor, e.purpose) for e in reads] == [("发改委信用处", "招标资格审查")]


def test_disclosure_period_ends_on_its_date_without_a_job(
    engine: Engine, load: Load, catalog: Catalog
) -> None:
    load(
        "admin_penalty",
        [penalty(ENTERPRISE, "福州某某贸易有限公司", "榕市监罚〔2024〕3号", "2024-01-10")],
    )
    # Decided before 2026-04-01: NDRC order No. 58's three years (order No. 36's one year for a
    # general penalty reaches only facts decided from that day; docs/catalog.md).
    with engine.begin() as conn:
        last = subject_view(conn, catalog, ENTERPRISE, audience="public", at=date(2027, 1, 10))
        gone = subject_view(conn, catalog, ENTERPRISE, audience="public", at=date(2027, 1, 11))
        kept = subject_view(
            conn, catalog, ENTERPRISE, audience="agency", at=date(2027, 1, 11), actor="a",
            purpose="监管",
        )  # fmt: skip
    assert [r["publication_ends"] for r in last["records"]] == ["2027-01-10"]
    assert gone["records"] == []
    assert [r["publication_over"] for r in kept["records"]] == [True]
