"""The issue's "done when", end to end from a fresh database through the real ingest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from tests.measures.conftest import (
    ENTERPRISE,
    PERSON_A,
    PERSON_B,
    PERSON_C,
    PERSON_D,
    Load,
    cli_check,
    defaulter,
)

from xinyong.catalog import default_catalog
from xinyong.lists import rebuild
from xinyong.lists.tables import list_entries
from xinyong.measures import check
from xinyong.measures.index import index_rows, rebuild_index
from xinyong.measures.tables import decisions
from xinyong.store.tables import link_leads, records


def _measures(decision: dict[str, Any]) -> set[str]:
    return {r["measure"] for r in decision["reasons"]}


def test_defaulter_is_denied_a_flight_with_the_spc_article_until_the_period_ends(
    db_url: str, load: Load
) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    during = cli_check(db_url, PERSON_D, "buy_flight_ticket", "--at", "2025-01-01")
    assert during["outcome"] == "deny"
    assert set(during) >= {
        "decision_id", "catalog_version", "subject", "action", "at", "outcome", "until", "reasons"
    }  # fmt: skip
    # Two years from the decision of 2024-03-05: the corresponding day is the last (inclusive).
    assert during["until"] == "2026-03-05"
    bases = [b for r in during["reasons"] for b in r["legal_basis"]]
    assert any(
        b["instrument"] == "spc_consumption_restriction_2015" and b["article"] == "3" for b in bases
    )
    assert "consumption_restriction_flight" in _measures(during)
    assert all(r["records"] and r["authority"] == "caac" for r in during["reasons"])
    assert all(r["way_out"]["decided_by"] == "court" for r in during["reasons"])
    after = cli_check(db_url, PERSON_D, "buy_flight_ticket", "--at", "2026-03-06")
    assert after["outcome"] == "permit" and after["reasons"] == [] and after["until"] is None


def test_name_only_record_permits_and_leaves_a_lead(
    db_url: str, load: Load, engine: Engine
) -> None:
    own = defaulter(
        PERSON_C, "张伟", "（2024）浙0106执2号", 失信被执行人行为具体情形="违反限制消费令的"
    )
    load("judgment_defaulter", [own])
    load("judgment_defaulter", [defaulter(None, "张伟", "（2024）浙0106执3号")])
    # PERSON_C is restricted by their own coded record; a second person of that name is not.
    load("enterprise_officer", [_officer(PERSON_A, "张伟", "法定代表人")])
    assert cli_check(db_url, PERSON_A, "buy_flight_ticket", "--at", "2025-01-01")["outcome"] == (
        "permit"
    )
    with engine.connect() as conn:
        unlinked = conn.execute(
            select(records.c.id).where(records.c.subject_id.is_(None))
        ).scalar_one()
        leads = conn.execute(
            select(func.count()).select_from(link_leads).where(link_leads.c.record_id == unlinked)
        ).scalar_one()
        entries = conn.execute(
            select(func.count())
            .select_from(list_entries)
            .where(list_entries.c.record_id == unlinked)
        ).scalar_one()
    assert leads >= 1  # a lead for a person to review, never a restriction
    assert entries == 0


def _officer(code: str, name: str, role: str) -> dict[str, str]:
    return {
        "企业名称": "杭州某某贸易有限公司",
        "统一社会信用代码": ENTERPRISE,
        "人员姓名": name,
        "人员身份证号码": code,
        "职务": role,
        "任职日期": "2020-01-01",
    }


def test_enterprise_order_restricts_its_legal_representative_and_nobody_else(
    db_url: str, load: Load
) -> None:
    load(
        "enterprise_officer",
        [
            _officer(PERSON_A, "李强", "法定代表人"),
            _officer(PERSON_B, "赵六", "董事"),
        ],
    )
    # Another 李强 with a different code, and a defaulter case for nobody else.
    other = defaulter(PERSON_C, "李强", "（2024）浙0106执9号", 决定日期="2019-01-01")
    load("judgment_defaulter", [other])
    load(
        "consumption_restriction_order",
        [
            {
                "被执行人": "杭州某某贸易有限公司",
                "统一社会信用代码": ENTERPRISE,
                "执行法院": "杭州市西湖区人民法院",
                "案号": "（2024）浙0106执20号",
                "决定日期": "2024-06-01",
                "法定代表人": "李强",
            }
        ],
    )
    at = ("--at", "2025-01-01")
    firm = cli_check(db_url, ENTERPRISE, "buy_flight_ticket", *at)
    assert firm["outcome"] == "deny"
    rep = cli_check(db_url, PERSON_A, "buy_flight_ticket", *at)
    assert rep["outcome"] == "deny" and rep["until"] is None  # until the order is lifted
    assert {r["via"]["role"] for r in rep["reasons"]} == {"legal_representative"}
    assert {r["via"]["subject"] for r in rep["reasons"]} == {ENTERPRISE}
    assert cli_check(db_url, PERSON_B, "buy_flight_ticket", *at)["outcome"] == "permit"
    # PERSON_C's own listing expired in 2021; the same name does not carry the firm's order.
    assert cli_check(db_url, PERSON_C, "buy_flight_ticket", *at)["outcome"] == "permit"


def test_a_grade_taxpayer_is_preferred(db_url: str, load: Load) -> None:
    load(
        "tax_credit_rating",
        [
            {
                "纳税人名称": "杭州某某贸易有限公司",
                "纳税人识别号": ENTERPRISE,
                "评价日期": "2025-04-01",
                "评价年度": "2024",
                "纳税信用等级": "A",
            }
        ],
    )
    decision = cli_check(db_url, ENTERPRISE, "green_channel", "--at", "2025-06-01")
    assert decision["outcome"] == "prefer"
    assert decision["until"] == "2026-04-01"  # a year from the rating, its corresponding day
    assert _measures(decision) == {"a_grade_green_channel"}
    assert cli_check(db_url, ENTERPRISE, "buy_flight_ticket")["outcome"] == "permit"


def test_rebuild_gives_the_incremental_index(db_url: str, load: Load, engine: Engine) -> None:
    load("enterprise_officer", [_officer(PERSON_A, "李强", "法定代表人")])
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    firm = defaulter(ENTERPRISE, "杭州某某贸易有限公司", "（2024）浙0106执5号")
    load("judgment_defaulter", [firm])
    # A correction (same case, new date) re-derives the entry and its restrictions.
    corrected = defaulter(PERSON_D, "王五", "（2024）浙0106执1号", 决定日期="2024-05-01")
    load("judgment_defaulter", [corrected])
    catalog = default_catalog()
    with engine.begin() as conn:
        incremental = index_rows(conn)
        assert incremental  # the test is about something
        assert rebuild(conn, catalog, at=datetime.now(UTC).date()) == []
        assert rebuild_index(conn, catalog) == []
        conn.execute(list_entries.delete())
        from xinyong.measures.tables import restrictions

        conn.execute(restrictions.delete())
        rebuild(conn, catalog, at=datetime.now(UTC).date())
        rebuild_index(conn, catalog)
        fresh = index_rows(conn)
    strip = {(r.subject_id, r.subject_kind, r.list_id, r.via_subject_id, r.role,
              r.valid_from, r.valid_to) for r in incremental}  # fmt: skip
    again = {(r.subject_id, r.subject_kind, r.list_id, r.via_subject_id, r.role,
              r.valid_from, r.valid_to) for r in fresh}  # fmt: skip
    assert strip == again


def test_known_at_before_the_record_was_loaded_gives_the_old_decision(
    db_url: str, load: Load, engine: Engine
) -> None:
    before = datetime.now(UTC)
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    catalog = default_catalog()
    with engine.begin() as conn:
        now = check(
            conn, PERSON_D, "buy_flight_ticket", datetime(2025, 1, 1).date(), catalog=catalog
        )
        then = check(
            conn,
            PERSON_D,
            "buy_flight_ticket",
            datetime(2025, 1, 1).date(),
            before,
            catalog=catalog,
        )
        logged = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
    assert now.outcome == "deny" and then.outcome == "permit"
    assert logged == 2 and now.decision_id != then.decision_id
    assert now.catalog_version == catalog.version


def _penalty(decided_on: str, representative: str) -> dict[str, str]:
    """An administrative penalty on ENTERPRISE naming its legal representative by ID number."""
    return {
        "行政相对人名称": "杭州某某贸易有限公司",
        "统一社会信用代码": ENTERPRISE,
        "法定代表人": "李强",
        "法定代表人证件号码": representative,
        "行政处罚决定书文号": f"杭市监罚〔{decided_on[:4]}〕1号",
        "处罚决定日期": decided_on,
        "处罚机关": "杭州市市场监督管理局",
    }


def test_a_representative_named_after_the_order_is_restricted_on_that_day(
    db_url: str, load: Load, engine: Engine
) -> None:
    """A record that names the legal representative by ID number (no registration record)
    arrives after the enterprise's consumption order: the one-day relation it makes reaches
    the order that day, as re-deriving the whole index says (the incremental step missed it)."""
    order = {
        "被执行人": "杭州某某贸易有限公司",
        "统一社会信用代码": ENTERPRISE,
        "执行法院": "杭州市西湖区人民法院",
        "案号": "（2024）浙0106执20号",
        "决定日期": "2024-06-01",
    }
    load("consumption_restriction_order", [order])
    load("admin_penalty", [_penalty("2024-09-02", PERSON_A)])
    on_the_day = cli_check(db_url, PERSON_A, "buy_flight_ticket", "--at", "2024-09-02")
    assert on_the_day["outcome"] == "deny"
    assert {r["via"]["role"] for r in on_the_day["reasons"]} == {"legal_representative"}
    # The relation holds on the penalty's date only (inclusive on both ends).
    for day in ("2024-09-01", "2024-09-03"):
        assert cli_check(db_url, PERSON_A, "buy_flight_ticket", "--at", day)["outcome"] == "permit"
    with engine.begin() as conn:
        assert rebuild_index(conn, default_catalog()) == []


def test_a_correction_that_names_no_representative_ends_the_relation(
    db_url: str, load: Load, engine: Engine
) -> None:
    """The corrected penalty no longer names the representative: the relation the old version
    attested goes, and the order no longer reaches them (it stayed before: only a correction
    that named someone replaced the old version's relations)."""
    order = {
        "被执行人": "杭州某某贸易有限公司",
        "统一社会信用代码": ENTERPRISE,
        "执行法院": "杭州市西湖区人民法院",
        "案号": "（2024）浙0106执20号",
        "决定日期": "2024-06-01",
    }
    load("consumption_restriction_order", [order])
    load("admin_penalty", [_penalty("2024-09-02", PERSON_A)])
    at = ("--at", "2024-09-02")
    assert cli_check(db_url, PERSON_A, "buy_flight_ticket", *at)["outcome"] == "deny"
    corrected = _penalty("2024-09-02", "") | {"处罚机关": "杭州市市场监督管理局西湖分局"}
    load("admin_penalty", [corrected])
    assert cli_check(db_url, PERSON_A, "buy_flight_ticket", *at)["outcome"] == "permit"
    assert cli_check(db_url, ENTERPRISE, "buy_flight_ticket", *at)["outcome"] == "deny"
    with engine.begin() as conn:
        assert rebuild_index(conn, default_catalog()) == []
