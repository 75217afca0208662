"""The real shipped catalog: it loads, its references resolve, the ids the issue fixes exist."""

from __future__ import annotations

from datetime import date

import pytest

from xinyong.catalog import (
    COMMON_FIELD_NAMES,
    Catalog,
    Category,
    FieldType,
    default_catalog,
    load_catalog,
    normalise_header,
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def test_loads_with_a_stable_version(catalog: Catalog) -> None:
    assert catalog.version.startswith("2026.1+")
    assert len(catalog.version.split("+")[1]) == 12
    assert load_catalog().version == catalog.version
    assert {"rongcheng_points", "tax_credit_grade"} <= set(catalog.scoring_models)


def test_ids_fixed_by_the_issue_exist(catalog: Catalog) -> None:
    assert "judgment_defaulter" in catalog.record_types
    assert {"judgment_defaulters", "consumption_restricted"} <= set(catalog.lists)
    assert {
        "buy_flight_ticket",
        "buy_train_seat_premium",
        "stay_star_hotel",
        "bid_public_procurement",
        "receive_subsidy",
        "serve_as_legal_representative",
        "buy_train_ticket",
        "green_channel",
    } <= set(catalog.actions)
    assert {
        "spc",
        "samr",
        "sta",
        "ndrc",
        "pboc",
        "mps",
        "caac",
        "china_railway",
        "mof",
        "court",
    } <= set(catalog.authorities)


def test_every_measure_rests_on_a_listed_article(catalog: Catalog) -> None:
    for measure in catalog.measures.values():
        articles = [catalog.article(ref) for ref in measure.legal_basis]
        assert any(a is not None for a in articles), measure.id
        assert measure.implementing_agency in catalog.authorities
        for ref in measure.legal_basis:
            assert catalog.cite(ref)


def test_every_legal_reference_resolves(catalog: Catalog) -> None:
    for section in ("record_types", "lists", "measures"):
        for entity in catalog.section(section).values():
            assert entity.legal_basis, entity.id
            for ref in entity.legal_basis:
                instrument = catalog.instruments[ref.instrument]
                if instrument.articles:
                    assert ref.article in instrument.articles


def test_every_record_type_has_the_common_fields(catalog: Catalog) -> None:
    for record_type in catalog.record_types.values():
        names = [f.name for f in record_type.fields]
        assert set(COMMON_FIELD_NAMES) <= set(names), record_type.id
        assert record_type.field("subject_code").type is FieldType.SUBJECT_CODE
        assert not record_type.field("subject_code").required
        assert record_type.field("subject_name").required
        assert record_type.field("decided_on").type is FieldType.DATE
        assert record_type.category in Category


def test_categories_cover_what_the_issue_asks_for(catalog: Catalog) -> None:
    categories = {rt.category for rt in catalog.record_types.values()}
    assert {
        Category.COURT_DECISION,
        Category.ADMIN_LICENSE,
        Category.ADMIN_PENALTY,
        Category.ABNORMAL_OPERATION,
        Category.SERIOUS_DISHONESTY_LIST,
        Category.TAX_DETERMINATION,
        Category.CREDIT_EVALUATION,
        Category.PUBLIC_CONTRACT_PERFORMANCE,
        Category.PROFESSIONAL_QUALIFICATION,
        Category.REGISTRATION,
    } <= categories


def test_judgment_defaulter_accepts_the_zxgk_columns(catalog: Catalog) -> None:
    headers = catalog.record_types["judgment_defaulter"].header_map()
    expected = {
        "被执行人姓名/名称": "subject_name",
        "身份证号码/组织机构代码": "subject_code",
        "执行法院": "court",
        "案号": "document_no",
        "执行依据文号": "basis_document_no",
        "失信被执行人行为具体情形": "ground",
        "发布时间": "published_on",
        "立案时间": "filed_on",
        "省份": "region",
        "法定代表人或者负责人姓名": "legal_representative_name",
        "被执行人的履行情况": "performance",
    }
    for header, field in expected.items():
        assert headers[normalise_header(header)] == field, header
    # full-width spaces and a trailing required-mark still match
    assert headers[normalise_header(" 执行法院* ")] == "court"


@pytest.mark.parametrize(
    ("wording", "value"),
    [
        ("有履行能力而拒不履行生效法律文书确定义务的", "refuse_despite_ability"),
        ("其他有履行能力而拒不履行生效法律文书确定义务", "refuse_despite_ability"),
        ("以伪造证据、暴力、威胁等方法妨碍、抗拒执行", "obstruct_enforcement"),
        ("以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行的", "evade_enforcement"),
        ("违反财产报告制度", "violate_asset_reporting"),
        ("违反限制高消费令", "violate_consumption_order"),
        ("违反限制消费令的", "violate_consumption_order"),
        ("无正当理由拒不履行执行和解协议", "refuse_settlement"),
    ],
)
def test_published_ground_wordings_map_to_enum_values(
    catalog: Catalog, wording: str, value: str
) -> None:
    ground = catalog.record_types["judgment_defaulter"].field("ground")
    found = ground.lookup(wording)
    assert found is not None and found.id == value


def test_six_grounds_exactly(catalog: Catalog) -> None:
    ground = catalog.record_types["judgment_defaulter"].field("ground")
    assert ground.enum is not None and len(ground.enum) == 6
    assert ground.lookup("不认识的情形") is None


def test_defaulter_periods_follow_art_2(catalog: Catalog) -> None:
    period = catalog.lists["judgment_defaulters"].period
    assert str(period.length) == "2y"
    assert period.extension is not None and str(period.extension.max) == "3y"
    assert period.start_fields() == ["decided_on", "published_on"]
    assert period.terms_for({"ground": "refuse_despite_ability"}).until == "performance"
    assert period.terms_for({"ground": "violate_asset_reporting"}).length == period.length
    assert period.length is not None
    assert period.length.add_to(date(2024, 2, 29)) == date(2026, 2, 28)


#: The only articles that reach people through a role: 法释〔2015〕17号 art. 3 (the consumption
#: restriction of a unit's officers) and 企业信息公示暂行条例 art. 17 (the serious list's
#: legal representative or principal may not hold that post elsewhere for three years).
ROLE_ARTICLES = {
    "spc_consumption_restriction_2015": {"legal_representative", "principal", "actual_controller"},
    "enterprise_info_publicity_regulations": {"legal_representative", "principal"},
}


def test_role_linking_only_on_the_articles_that_name_the_roles(catalog: Catalog) -> None:
    linked = [m for m in catalog.measures.values() if m.role_linked]
    assert linked
    for measure in linked:
        (instrument,) = {r.instrument for r in measure.legal_basis}
        assert set(measure.role_linked) <= ROLE_ARTICLES[instrument], measure.id
    flight = catalog.measures["consumption_restriction_flight"]
    assert set(flight.role_linked) == {"legal_representative", "principal", "actual_controller"}


def test_rewards_hang_on_red_lists(catalog: Catalog) -> None:
    reward = catalog.measures["a_grade_green_channel"]
    assert reward.effect == "prefer"
    assert catalog.lists["a_grade_taxpayers"].polarity == "red"
    criterion = catalog.lists["a_grade_taxpayers"].criteria[0]
    assert (criterion.record_type, criterion.where) == ("tax_credit_rating", {"grade": "A"})


def test_measures_for_a_list(catalog: Catalog) -> None:
    ids = {m.id for m in catalog.measures_for("consumption_restricted")}
    assert {"consumption_restriction_flight", "consumption_restriction_train"} <= ids


def test_penalty_disclosure_has_severity_variants(catalog: Catalog) -> None:
    """Order No. 36's three tiers (the rule in force); order No. 58's 3 years before."""
    rule = catalog.record_types["admin_penalty"].disclosure_period
    assert rule is not None
    assert str(rule.max) == "1y"
    assert [str(v.max) for v in rule.earlier] == ["3y"]
    assert str(rule.terms_for({"severity": "minor"}).max) == "3m"
    assert str(rule.terms_for({"severity": "serious"}).min) == "1y"


def test_every_record_type_names_its_sources_and_its_own_authority_is_one(
    catalog: Catalog,
) -> None:
    """Ingest refuses any source a record type's ``sources`` omit; the demo loads from the
    type's own ``authority``; court lists come only from courts."""
    for record_type in catalog.record_types.values():
        assert record_type.authority in record_type.sources, record_type.id
        assert set(record_type.sources) <= set(catalog.authorities), record_type.id
    for court_only in ("judgment_defaulter", "consumption_restriction_order"):
        assert set(catalog.record_types[court_only].sources) == {"court", "spc"}
    assert catalog.record_types["major_tax_violation"].sources == ["sta"]
