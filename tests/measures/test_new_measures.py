"""The measures issue 18 adds, end to end through the real ingest: each denies or asks for review
with its own article and implementing agency, and only while its record holds."""

from __future__ import annotations

from typing import Any

import pytest
from tests.measures.conftest import (
    ENTERPRISE,
    PERSON_A,
    PERSON_B,
    PERSON_D,
    Load,
    cli_check,
    defaulter,
)

from xinyong.catalog import default_catalog

#: Measures added for issue 18 → (implementing agency, an article each must cite).
NEW_MEASURES = {
    "exit_ban": ("exit_inspection", "civil_procedure_law_2023"),
    "procurement_debarment_exclusion": ("purchasers", "government_procurement_law"),
    "procurement_exclusion": ("purchasers", "mof_procurement_credit_2016"),
    "tender_debarment_exclusion": ("tendering_supervisors", "tendering_law"),
    "tender_restriction": ("tendering_supervisors", "enterprise_info_publicity_regulations"),
    "serious_list_officer_bar": ("samr", "enterprise_info_publicity_regulations"),
    "serious_list_key_supervision": ("samr", "national_punishment_measures_list"),
    "tax_key_supervision": ("sta", "national_punishment_measures_list"),
    "no_notified_commitment": ("approval_agencies", "national_punishment_measures_list"),
}


@pytest.mark.parametrize(("measure_id", "expected"), sorted(NEW_MEASURES.items()))
def test_each_new_measure_names_its_agency_and_article(
    measure_id: str, expected: tuple[str, str]
) -> None:
    catalog = default_catalog()
    measure = catalog.measures[measure_id]
    agency, instrument = expected
    assert measure.implementing_agency == agency
    assert instrument in {ref.instrument for ref in measure.legal_basis}
    for ref in measure.legal_basis:
        if catalog.instruments[ref.instrument].articles:
            assert catalog.article(ref) is not None, (measure_id, ref)


def _by_measure(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["measure"]: r for r in decision["reasons"]}


def test_an_exit_ban_denies_leaving_until_the_court_lifts_it(db_url: str, load: Load) -> None:
    row = {
        "被限制出境人": "赵六",
        "身份证号码": PERSON_D,
        "执行法院": "杭州市西湖区人民法院",
        "限制出境决定书文号": "（2025）浙0106执9号之三",
        "决定日期": "2025-03-01",
    }
    load("exit_restriction_decision", [row])
    during = cli_check(db_url, PERSON_D, "leave_country", "--at", "2025-04-01")
    assert during["outcome"] == "deny"
    reason = _by_measure(during)["exit_ban"]
    assert reason["authority"] == "exit_inspection"
    assert "第二百六十六条" in reason["legal_basis"][0]["citation"]
    assert cli_check(db_url, PERSON_D, "leave_country", "--at", "2025-02-28")["outcome"] == "permit"
    # The exit ban is not a consumption restriction: flights stay open.
    assert cli_check(db_url, PERSON_D, "buy_flight_ticket", "--at", "2025-04-01")["outcome"] == (
        "permit"
    )
    load("exit_restriction_decision", [{**row, "解除日期": "2025-05-01"}])
    assert cli_check(db_url, PERSON_D, "leave_country", "--at", "2025-05-02")["outcome"] == "permit"


def test_the_procurement_blacklist_is_applied_by_purchasers_for_the_decided_years(
    db_url: str, load: Load
) -> None:
    load(
        "procurement_debarment",
        [
            {
                "供应商名称": "杭州某某贸易有限公司",
                "统一社会信用代码": ENTERPRISE,
                "处罚决定书文号": "杭财采处〔2024〕3号",
                "处罚日期": "2024-06-01",
                "禁止参加政府采购活动截止日期": "2025-05-31",
            }
        ],
    )
    during = cli_check(db_url, ENTERPRISE, "bid_public_procurement", "--at", "2025-01-01")
    assert during["outcome"] == "deny"
    reason = _by_measure(during)["procurement_debarment_exclusion"]
    assert reason["authority"] == "purchasers"
    assert reason["until"] == "2025-05-31"
    assert {b["citation"] for b in reason["legal_basis"]} >= {
        "《中华人民共和国政府采购法》 第七十七条"
    }
    after = cli_check(db_url, ENTERPRISE, "bid_public_procurement", "--at", "2025-06-01")
    assert after["outcome"] == "permit"
    # A tender debarment is another list: the procurement debarment does not bar tenders.
    assert cli_check(db_url, ENTERPRISE, "bid_tender", "--at", "2025-01-01")["outcome"] == "permit"


def test_the_serious_list_bars_its_legal_representative_and_brings_key_supervision(
    db_url: str, load: Load
) -> None:
    for code, name, role in ((PERSON_A, "李强", "法定代表人"), (PERSON_B, "赵六", "董事")):
        load(
            "enterprise_officer",
            [
                {
                    "企业名称": "杭州某某贸易有限公司",
                    "统一社会信用代码": ENTERPRISE,
                    "人员姓名": name,
                    "人员身份证号码": code,
                    "职务": role,
                    "任职日期": "2020-01-01",
                }
            ],
        )
    load(
        "serious_illegal_dishonest_enterprise",
        [
            {
                "企业名称": "杭州某某贸易有限公司",
                "统一社会信用代码": ENTERPRISE,
                "列入决定书文号": "杭市监严〔2024〕1号",
                "列入日期": "2024-06-01",
                "列入原因": "提交虚假材料取得公司登记",
            }
        ],
    )
    at = ("--at", "2025-01-01")
    rep = cli_check(db_url, PERSON_A, "serve_as_legal_representative", *at)
    assert rep["outcome"] == "deny"
    bar = _by_measure(rep)["serious_list_officer_bar"]
    assert bar["via"] == {"subject": ENTERPRISE, "role": "legal_representative"}
    assert "第十七条" in bar["legal_basis"][0]["citation"]
    # A director is not a role the article names.
    assert cli_check(db_url, PERSON_B, "serve_as_legal_representative", *at)["outcome"] == (
        "permit"
    )
    firm = _by_measure(cli_check(db_url, ENTERPRISE, "routine_inspection", *at))
    assert firm["serious_list_key_supervision"]["effect"] == "review"
    commitment = cli_check(db_url, ENTERPRISE, "commitment_approval", *at)
    assert commitment["outcome"] == "deny"
    tender = cli_check(db_url, ENTERPRISE, "bid_tender", *at)
    assert tender["outcome"] == "review"


def test_the_director_bar_asks_for_review_not_a_refusal(db_url: str, load: Load) -> None:
    """公司法 art. 178 needs a large debt due and unpaid, which the listing alone does not show."""
    load("judgment_defaulter", [defaulter(PERSON_D, "赵六", "（2024）浙0106执9号")])
    decision = cli_check(db_url, PERSON_D, "serve_as_legal_representative", "--at", "2025-01-01")
    assert decision["outcome"] == "review"
    bar = _by_measure(decision)["defaulter_officer_bar"]
    assert bar["legal_basis"][0]["citation"].endswith("第一百七十八条")


def test_only_tax_violators_able_but_refusing_to_pay_are_barred_from_flights(
    db_url: str, load: Load
) -> None:
    """384/385号 category 二 reaches major tax violators who can pay and refuse, not the list."""

    def violator(code: str, case: str, refusing: str) -> dict[str, str]:
        return {
            "纳税人名称": "某某",
            "纳税人识别号": code,
            "税务行政处罚决定书文号": case,
            "决定日期": "2024-11-20",
            "案件性质": "逃避追缴欠税",
            "公布日期": "2024-12-05",
            "有履行能力但拒不履行": refusing,
        }

    load(
        "major_tax_violation",
        [
            violator(PERSON_A, "穗税罚〔2024〕1号", "是"),
            violator(PERSON_B, "穗税罚〔2024〕2号", "否"),
        ],
    )
    at = ("--at", "2025-06-01")
    refusing = cli_check(db_url, PERSON_A, "buy_flight_ticket", *at)
    assert refusing["outcome"] == "deny"
    assert _by_measure(refusing)["serious_dishonesty_flight_ban"]["list"] == (
        "major_tax_violators_refusing"
    )
    assert cli_check(db_url, PERSON_B, "buy_flight_ticket", *at)["outcome"] == "permit"
    assert cli_check(db_url, PERSON_B, "buy_train_seat_premium", *at)["outcome"] == "permit"
    # Both stay on the major tax violators list, with its other measures.
    assert cli_check(db_url, PERSON_B, "commitment_approval", *at)["outcome"] == "deny"


def test_the_tax_grade_has_no_direct_d_for_the_market_regulators_list() -> None:
    model = default_catalog().scoring_models["tax_credit_grade"]
    assert model.spec.kind == "points"
    assert "serious_illegal_dishonest_enterprise" not in {
        rule.when.record_type for rule in model.spec.grade_rules
    }


def test_an_honour_puts_the_holder_on_a_red_list_and_supplied_information_on_none(
    db_url: str, load: Load
) -> None:
    load(
        "honesty_honour",
        [
            {
                "获奖单位或个人": "杭州某某贸易有限公司",
                "统一社会信用代码": ENTERPRISE,
                "表彰文件文号": "浙市监〔2025〕1号",
                "授予日期": "2025-03-01",
                "荣誉名称": "守合同重信用企业",
                "有效期至": "2026-02-28",
            }
        ],
        source="government_bodies",
    )
    during = cli_check(db_url, ENTERPRISE, "green_channel", "--at", "2025-06-01")
    assert during["outcome"] == "prefer"
    assert _by_measure(during)["honour_green_channel"]["list"] == "honesty_honourees"
    assert cli_check(db_url, ENTERPRISE, "green_channel", "--at", "2026-03-01")["outcome"] == (
        "permit"
    )
    catalog = default_catalog()
    assert catalog.lists["honesty_honourees"].polarity == "red"
    voluntary = catalog.record_types["voluntary_information"]
    assert voluntary.disclosure == "subject_only"
    on_lists = {c.record_type for lst in catalog.lists.values() for c in lst.criteria}
    assert {"voluntary_information", "ip_pledge_registration", "admin_other_act"}.isdisjoint(
        on_lists
    )
