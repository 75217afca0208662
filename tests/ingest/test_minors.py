"""法释〔2017〕7号 art. 4: a minor may not be listed as a dishonest judgment defaulter. The rule is
the catalog's (``adults_only`` on the record type); ingest refuses the row, citing the article."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from xinyong.catalog import default_catalog
from xinyong.cli import app
from xinyong.codes import ric
from xinyong.errors import InvalidRecord
from xinyong.ingest import validate
from xinyong.ingest.validate import RowValidator
from xinyong.store.tables import records

runner = CliRunner()
#: Born 2008-06-15 (a valid number: region 110101, check character computed).
CHILD = "11010120080615" + "123"
CHILD += ric.check_character(CHILD)
ADULT = "34031119770425075X"
HEADERS = [
    "被执行人姓名/名称",
    "身份证号码/组织机构代码",
    "执行法院",
    "案号",
    "失信被执行人行为具体情形",
    "决定日期",
]


def _row(name: str, code: str, case: str, decided: str) -> list[str]:
    return [name, code, "杭州市西湖区人民法院", case, "违反财产报告制度的", decided]


def test_the_age_is_counted_in_full_years_from_the_birth_date() -> None:
    assert ric.birth_date(CHILD) == date(2008, 6, 15)
    assert ric.is_minor_on(CHILD, date(2026, 6, 14))
    assert not ric.is_minor_on(CHILD, date(2026, 6, 15))  # the 18th birthday
    assert ric.age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert ric.age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert not ric.is_minor_on("9121032350502514XX", date(2026, 1, 1))  # an enterprise
    assert ric.birth_date("not a number") is None


def test_the_validator_reads_the_birth_date_as_ric_does() -> None:
    """Validation takes a row's birth date from the verdict cached when its code was parsed;
    it is ``ric.birth_date``'s, code for code (15 and 18 digits, compacted or not, invalid ones,
    other schemes, a qualified registration number)."""
    legacy = "110101800615123"  # 15 digits: born 1980-06-15
    codes = [CHILD, ADULT, ADULT.lower(), f" {CHILD[:6]}-{CHILD[6:]} ", legacy, legacy[:-1],
             CHILD[:-1] + ("0" if CHILD[-1] != "0" else "1"), "11010120300615123X",
             "9121032350502514XX", "91110108600040399M", "600040399", "not a number", "",
             "registration_no:110108000000016", "110108000000016"]  # fmt: skip
    assert validate.birth_date(legacy) == date(1980, 6, 15)
    for code in codes:
        assert validate.birth_date(code) == ric.birth_date(code), code


def test_a_minors_row_is_rejected_with_the_article_the_adult_is_stored_and_check_permits(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "defaulters.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerow(_row("小明", CHILD, "（2025）浙0106执1号", "2025-03-05"))
        writer.writerow(_row("王伟", ADULT, "（2025）浙0106执2号", "2025-03-05"))
    result = runner.invoke(
        app,
        [
            "ingest",
            str(path),
            "--type",
            "judgment_defaulter",
            "--source",
            "court",
            "--json",
            "--db",
            db_url,
        ],
    )
    assert result.exit_code == 3, result.output
    out = json.loads(result.stdout)
    assert (out["accepted"], out["rejected"]) == (1, 1)
    with Path(out["rejects_file"]).open(encoding="utf-8-sig") as f:
        (reject,) = list(csv.DictReader(f))
    reason = reject["reason"]
    assert reason.startswith("subject_code：未成年人不得纳入（法释〔2017〕7号 第四条）")
    assert "2025-03-05 未满十八周岁" in reason and "a minor may not be listed" in reason
    with engine.connect() as conn:
        stored = set(conn.execute(select(records.c.subject_code)).scalars())
    assert stored == {ADULT}
    for code, outcome in ((CHILD, "permit"), (ADULT, "deny")):
        checked = runner.invoke(
            app,
            ["check", code, "buy_flight_ticket", "--at", "2025-06-01", "--json", "--db", db_url],
        )
        assert checked.exit_code == 0, checked.output
        assert json.loads(checked.stdout)["outcome"] == outcome


@pytest.mark.parametrize(
    ("values", "rejected"),
    [
        ({"身份证号码/组织机构代码": CHILD, "决定日期": "2026-06-14"}, True),  # the day before
        ({"身份证号码/组织机构代码": CHILD, "决定日期": "2026-06-15"}, False),  # 18 that day
        ({"身份证号码/组织机构代码": CHILD, "发布时间": "2025-01-01"}, True),  # no decision date
        ({"身份证号码/组织机构代码": "110101********1234", "年龄": "16"}, True),  # masked: the age
        ({"身份证号码/组织机构代码": "110101********1234", "年龄": "40"}, False),
        ({"身份证号码/组织机构代码": "", "年龄": "17"}, True),  # a name only, a published age
    ],
)
def test_the_listing_date_or_the_published_age_decides(
    values: dict[str, str], rejected: bool
) -> None:
    catalog = default_catalog()
    headers = ["被执行人姓名/名称", "执行法院", "案号", "失信被执行人行为具体情形", *values]
    validator = RowValidator.for_headers(
        catalog.record_types["judgment_defaulter"], headers, catalog
    )
    row = {
        "被执行人姓名/名称": "小明",
        "执行法院": "杭州市西湖区人民法院",
        "案号": "（2026）浙0106执1号",
        "失信被执行人行为具体情形": "违反财产报告制度的",
        **values,
    }
    if rejected:
        with pytest.raises(InvalidRecord, match="法释〔2017〕7号 第四条"):
            validator.validate(row)
    else:
        validator.validate(row)


def test_consumption_orders_are_not_refused_for_age() -> None:
    """Art. 4 speaks of the defaulter list; the consumption order's own rules say nothing of
    age, so the catalog sets no ``adults_only`` on it and a minor's order loads."""
    catalog = default_catalog()
    assert catalog.record_types["judgment_defaulter"].adults_only is not None
    assert catalog.record_types["consumption_restriction_order"].adults_only is None
