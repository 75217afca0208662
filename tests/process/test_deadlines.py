"""Every deadline counts Chinese working days, across the Spring Festival and Golden Week."""

from __future__ import annotations

from datetime import date

import pytest

from xinyong.catalog import Duration, default_catalog
from xinyong.errors import CalendarUnknown
from xinyong.process.policy import (
    DEFAULT_RULE,
    OBJECTION_RULES,
    deadline_after,
    objection_rule,
    suspends_during_objection,
)


@pytest.mark.parametrize(
    ("start", "period", "due"),
    [
        # 2024 Spring Festival: Feb 10–17 off, Sun Feb 18 worked. 10wd from Thu Feb 8.
        (date(2024, 2, 8), "10wd", date(2024, 2, 28)),
        # 2025 Spring Festival: Jan 28–Feb 4 off, Sun Jan 26 and Sat Feb 8 worked.
        (date(2025, 1, 24), "3wd", date(2025, 2, 5)),
        # 2024 Golden Week: Oct 1–7 off, Sun Sep 29 and Sat Oct 12 worked. 10wd from Fri Sep 27.
        (date(2024, 9, 27), "10wd", date(2024, 10, 16)),
        # Calendar days ending on a holiday roll to the next working day (民法典 art. 203).
        (date(2024, 9, 20), "15d", date(2024, 10, 8)),
        # …and 15 days from Sep 1, 2024 fall on Mid-Autumn (Sep 15–17 off): the 18th.
        (date(2024, 9, 1), "15d", date(2024, 9, 18)),
        # 15 days from Jan 27, 2025 end on Feb 11, a working day after the festival.
        (date(2025, 1, 27), "15d", date(2025, 2, 11)),
    ],
)
def test_deadlines_across_holidays(start: date, period: str, due: date) -> None:
    assert deadline_after(start, Duration.model_validate(period)) == due


def test_unknown_year_refuses_rather_than_guesses() -> None:
    with pytest.raises(CalendarUnknown):
        deadline_after(date(2099, 12, 20), Duration.model_validate("10wd"))


def test_rule_table_cites_catalog_articles_and_defaults() -> None:
    catalog = default_catalog()
    for record_type, rule in OBJECTION_RULES.items():
        assert record_type in catalog.record_types
        assert catalog.cite(rule.legal_basis)  # the instrument (and article) exist
        if rule.legal_basis.article is not None:
            assert catalog.article(rule.legal_basis) is not None
    assert objection_rule("admin_penalty") is DEFAULT_RULE
    assert (
        objection_rule("judgment_defaulter").describe(catalog).startswith("15d · 法释〔2017〕7号")
    )
    # An objection to a consumption restriction order is one to an enforcement act (民事诉讼法),
    # not a correction of the defaulter list (法释〔2017〕7号 art. 12).
    for enforcement_act in ("consumption_restriction_order", "exit_restriction_decision"):
        assert (
            objection_rule(enforcement_act).describe(catalog)
            == "15d · 《中华人民共和国民事诉讼法（2023年修正）》 第二百三十六条"
        )
    assert suspends_during_objection("railway_safety_violation")
    assert not suspends_during_objection("judgment_defaulter")
    assert not suspends_during_objection("admin_penalty")
