"""The corrections issue 18 lists (law-2025-2026.md, "Corrections to the shipped catalog"), as the
shipped catalog now holds them."""

from __future__ import annotations

from xinyong.catalog import default_catalog
from xinyong.catalog.model import LegalRef


def _cited(refs: list[LegalRef]) -> set[str]:
    catalog = default_catalog()
    return {catalog.cite(ref) for ref in refs}


def test_abnormal_operations_grounds_are_split_between_the_regulation_and_the_samr_rules() -> None:
    rtype = default_catalog().record_types["abnormal_operation"]
    assert {"《企业信息公示暂行条例》 第十七条", "国家工商行政管理总局令第68号 第四条"} <= _cited(
        rtype.legal_basis
    )
    reason = rtype.field("reason")
    assert "无法联系" in reason.description and "第68号" in reason.description


def test_the_serious_violation_list_is_named_as_order_44_names_it_with_its_removal_conditions() -> (
    None
):
    catalog = default_catalog()
    assert catalog.lists["serious_illegal_dishonest_enterprises"].name_zh == "严重违法失信名单"
    repair = catalog.record_types["serious_illegal_dishonest_enterprise"].repair
    assert repair is not None
    conditions = "；".join(repair.conditions_zh)
    assert "列入满一年" in conditions and "消除" in conditions and "较重行政处罚" in conditions


def test_the_director_bar_is_review_and_the_procurement_exclusion_is_the_purchasers() -> None:
    catalog = default_catalog()
    assert catalog.measures["defaulter_officer_bar"].effect == "review"
    exclusion = catalog.measures["procurement_exclusion"]
    assert exclusion.implementing_agency == "purchasers"
    assert "财库〔2016〕125号" in _cited(exclusion.legal_basis)


def test_samr_and_sta_lists_require_notice_before_listing() -> None:
    catalog = default_catalog()
    for list_id in ("serious_illegal_dishonest_enterprises", "major_tax_violators"):
        notice = catalog.lists[list_id].notice
        assert notice is not None and notice.required, list_id


def test_flight_and_train_bans_reach_only_tax_violators_able_to_pay_but_refusing() -> None:
    catalog = default_catalog()
    for measure_id in ("serious_dishonesty_flight_ban", "serious_dishonesty_train_premium_ban"):
        lists = catalog.measures[measure_id].lists
        assert "major_tax_violators" not in lists and "major_tax_violators_refusing" in lists
    (criterion,) = catalog.lists["major_tax_violators_refusing"].criteria
    assert criterion.where == {"able_but_refuses": True}
