"""Single lifting (单次解除): a court permits one restricted trip or purchase in a window; ``check``
permits that action in that window only, naming the decision, and denies again outside it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from tests.measures.conftest import PERSON_D, Load, cli_check, defaulter

from xinyong.catalog import default_catalog
from xinyong.measures.checker import Checker
from xinyong.measures.decisions import check

LIFTING = "consumption_restriction_single_lifting"


def _lifting(code: str, number: str, action: str, start: str, end: str) -> dict[str, str]:
    return {
        "被执行人姓名/名称": "赵六",
        "身份证号码/组织机构代码": code,
        "执行法院": "杭州市西湖区人民法院",
        "解除决定书文号": number,
        "案号": "（2024）浙0106执9号",
        "决定日期": "2025-05-20",
        "准许的消费行为": action,
        "解除起始日期": start,
        "解除截止日期": end,
    }


def test_a_lifting_permits_that_trip_only_and_names_the_decision(
    db_url: str, engine: Engine, load: Load
) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "赵六", "（2024）浙0106执9号")])
    before = cli_check(db_url, PERSON_D, "buy_flight_ticket", "--at", "2025-06-01")
    assert before["outcome"] == "deny"
    known = datetime.now(UTC)
    result = load(
        LIFTING,
        [_lifting(PERSON_D, "（2025）浙0106执9号之一", "乘坐飞机", "2025-06-01", "2025-06-03")],
    )
    assert result.accepted == 1
    during = cli_check(db_url, PERSON_D, "buy_flight_ticket", "--at", "2025-06-02")
    assert during["outcome"] == "permit"
    (reason,) = [r for r in during["reasons"] if r["measure"] == "consumption_restriction_flight"]
    assert reason["effect"] == "permit"
    assert "（2025）浙0106执9号之一" in reason["measure_name"]["zh"]
    assert (reason["valid_from"], reason["until"]) == ("2025-06-01", "2025-06-03")
    assert "法释〔2015〕17号 第八条" in [b["citation"] for b in reason["legal_basis"]]
    # The day after the window, and another action inside it: denied again.
    assert cli_check(db_url, PERSON_D, "buy_flight_ticket", "--at", "2025-06-04")["outcome"] == (
        "deny"
    )
    assert cli_check(db_url, PERSON_D, "buy_flight_ticket", "--at", "2025-05-31")["outcome"] == (
        "deny"
    )
    other = cli_check(db_url, PERSON_D, "stay_star_hotel", "--at", "2025-06-02")
    assert other["outcome"] == "deny"
    # The Checker (the API's path) answers the same.
    checker = Checker(engine, default_catalog())
    assert checker.decide(PERSON_D, "buy_flight_ticket", date(2025, 6, 2)).outcome == "permit"
    assert checker.decide(PERSON_D, "buy_flight_ticket", date(2025, 6, 4)).outcome == "deny"
    # As known before the lifting was recorded, the trip was denied (bitemporal replay).
    with engine.begin() as conn:
        then = check(
            conn, PERSON_D, "buy_flight_ticket", date(2025, 6, 2), known,
            catalog=default_catalog(), log=False,
        )  # fmt: skip
    assert then.outcome == "deny"
    # The Checker reads liftings on its own connection: the same as known then, and now.
    assert checker.decide(PERSON_D, "buy_flight_ticket", date(2025, 6, 2), known).outcome == (
        "deny"
    )
    now = checker.decide(PERSON_D, "buy_flight_ticket", date(2025, 6, 2), datetime.now(UTC))
    assert now.as_json()["reasons"] == during["reasons"]


def test_a_lifting_of_one_person_does_not_permit_another(db_url: str, load: Load) -> None:
    other = "34031119770425075X"
    load(
        "judgment_defaulter",
        [
            defaulter(PERSON_D, "赵六", "（2024）浙0106执9号"),
            defaulter(other, "王五", "（2024）浙0106执10号"),
        ],
    )
    load(
        LIFTING,
        [_lifting(PERSON_D, "（2025）浙0106执9号之一", "乘坐飞机", "2025-06-01", "2025-06-03")],
    )
    assert cli_check(db_url, other, "buy_flight_ticket", "--at", "2025-06-02")["outcome"] == "deny"


def test_a_lifting_without_its_window_is_rejected(load: Load) -> None:
    row = _lifting(PERSON_D, "（2025）浙0106执9号之二", "乘坐飞机", "2025-06-01", "")
    result = load(LIFTING, [row])
    assert (result.accepted, result.rejected) == (0, 1)
