"""Working days: expected dates worked out by hand from the State Council notices.

Notices used (see ``src/xinyong/workdays/data/holidays.yaml``):
- 2025: 国办发明电〔2024〕12号 — 春节 1月28日–2月4日 off, 1月26日(日) and 2月8日(六) working;
  国庆节、中秋节 10月1日–8日 off, 9月28日(日) and 10月11日(六) working.
- 2026: 国办发明电〔2025〕7号 — 春节 2月15日–23日 off, 2月14日(六) and 2月28日(六) working.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.errors import CalendarUnknown, UnusableInput, XinyongError
from xinyong.workdays import (
    WorkingCalendar,
    add_working_days,
    default_calendar,
    is_working_day,
    load_notices,
    working_days_between,
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 24), True),  # Friday
        (date(2025, 1, 25), False),  # Saturday
        (date(2025, 1, 26), True),  # Sunday made a working day (调休上班)
        (date(2025, 1, 28), False),  # 除夕, Tuesday
        (date(2025, 2, 4), False),  # 正月初七, Tuesday
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),  # Saturday made a working day
        (date(2025, 9, 28), True),  # Sunday made a working day
        (date(2025, 10, 8), False),  # Wednesday, last day of Golden Week
        (date(2025, 10, 11), True),  # Saturday made a working day
        (date(2025, 10, 12), False),  # ordinary Sunday
        (date(2026, 2, 14), True),  # Saturday made a working day
        (date(2026, 2, 23), False),  # Monday, 正月初七
        (date(2026, 2, 28), True),  # Saturday made a working day
        (date(2026, 10, 8), True),  # Thursday after National Day 2026
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "n", "deadline"),
    [
        # Spring Festival 2025. From Fri 24 Jan: Sat 25 off; Sun 26 (1); Mon 27 (2);
        # 28 Jan–4 Feb off; Wed 5 Feb (3); Thu 6 (4); Fri 7 (5); Sat 8 working (6); Mon 10 (7).
        (date(2025, 1, 24), 1, date(2025, 1, 26)),
        (date(2025, 1, 24), 3, date(2025, 2, 5)),
        (date(2025, 1, 24), 6, date(2025, 2, 8)),
        (date(2025, 1, 24), 7, date(2025, 2, 10)),
        # A period that starts on a holiday: day 1 is the first working day after it.
        (date(2025, 1, 29), 1, date(2025, 2, 5)),
        # Spring Festival 2026. From Thu 12 Feb: Fri 13 (1); Sat 14 working (2); 15–23 off;
        # Tue 24 (3); 25 (4); 26 (5); 27 (6); Sat 28 working (7); Mon 2 Mar (8); 3 (9); 4 (10).
        (date(2026, 2, 12), 2, date(2026, 2, 14)),
        (date(2026, 2, 12), 3, date(2026, 2, 24)),
        (date(2026, 2, 12), 7, date(2026, 2, 28)),
        (date(2026, 2, 12), 10, date(2026, 3, 4)),
        # Golden Week 2025. From Fri 26 Sep: Sat 27 off; Sun 28 working (1); Mon 29 (2);
        # Tue 30 (3); 1–8 Oct off; Thu 9 (4); Fri 10 (5); Sat 11 working (6); Mon 13 (7).
        (date(2025, 9, 26), 3, date(2025, 9, 30)),
        (date(2025, 9, 26), 4, date(2025, 10, 9)),
        (date(2025, 9, 26), 6, date(2025, 10, 11)),
        (date(2025, 9, 26), 7, date(2025, 10, 13)),
        # Art. 10 of the defaulters rules: delete within 3 working days of Tue 30 Sep 2025.
        (date(2025, 9, 30), 3, date(2025, 10, 11)),
        # Zero working days: the start itself.
        (date(2025, 10, 3), 0, date(2025, 10, 3)),
    ],
)
def test_add_working_days(start: date, n: int, deadline: date) -> None:
    assert add_working_days(start, n) == deadline
    assert working_days_between(start, deadline) == n


def test_working_days_between_counts_after_start_up_to_end() -> None:
    # Golden Week 2025 has no working day from Wed 1 to Wed 8 October.
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == 0
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 11)) == 3
    assert working_days_between(date(2025, 10, 11), date(2025, 9, 30)) == -3
    assert working_days_between(date(2025, 5, 6), date(2025, 5, 6)) == 0
    # 2026 has 365 days and 104 weekend days; the notice gives 33 days off, 14 of them on
    # weekends (1月3日; 2月15、21、22日; 4月4、5日; 5月2、3日; 6月20、21日; 9月26、27日;
    # 10月3、4日), and 6 weekend working days: 365 - 104 - (33 - 14) + 6 = 248.
    assert working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 248


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_working_day(date(2027, 1, 4)),
        lambda: is_working_day(date(2003, 6, 2)),
        lambda: add_working_days(date(2026, 12, 30), 5),  # runs into 2027
        lambda: working_days_between(date(2026, 12, 1), date(2027, 1, 10)),
    ],
)
def test_unknown_year_raises(call: object) -> None:
    assert callable(call)
    with pytest.raises(CalendarUnknown) as info:
        call()
    assert isinstance(info.value, XinyongError)
    assert "known years" in info.value.message("en")
    assert " / " in info.value.bilingual()


def test_last_days_of_2026_are_known() -> None:
    # Thu 31 Dec 2026 is an ordinary working day; one more working day needs 2027.
    assert add_working_days(date(2026, 12, 30), 1) == date(2026, 12, 31)


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_working_day(datetime(2025, 1, 1, 8, 0)),  # type: ignore[arg-type]
        lambda: is_working_day("2025-01-01"),  # type: ignore[arg-type]
        lambda: add_working_days(date(2025, 1, 1), 1.5),  # type: ignore[arg-type]
        lambda: add_working_days(date(2025, 1, 1), True),
        lambda: working_days_between(None, date(2025, 1, 1)),  # type: ignore[arg-type]
    ],
)
def test_wrong_types_are_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(TypeError):
        call()


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2025, 1, 1), -1)


@pytest.mark.parametrize("year", [notice.year for notice in load_notices()])
def test_shipped_notices_agree_with_chinesecalendar(year: int) -> None:
    ours = WorkingCalendar(load_notices(), use_chinesecalendar=False)
    day, disagreements = date(year, 1, 1), []
    while day.year == year:
        if ours.is_working_day(day) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert disagreements == []


def test_shipped_notices_cover_2024_to_2026_with_numbers() -> None:
    notices = {notice.year: notice for notice in load_notices()}
    assert {2024, 2025, 2026} <= set(notices)
    assert notices[2025].number == "国办发明电〔2024〕12号"
    assert notices[2025].signed_on == date(2024, 11, 12)
    assert notices[2026].number == "国办发明电〔2025〕7号"


def test_sources_say_which_answers() -> None:
    calendar = default_calendar()
    assert "国办发明电〔2024〕12号" in calendar.source(2025)
    assert calendar.source(2010).startswith("chinesecalendar")
    with pytest.raises(CalendarUnknown):
        calendar.source(2027)


def test_a_notice_for_a_new_year_makes_it_known(tmp_path: Path) -> None:
    # What an operator does when the 2027 notice is out: add its entry. (Dates invented.)
    path = tmp_path / "holidays.yaml"
    path.write_text(
        "notices:\n"
        "  - year: 2027\n"
        "    number: 测试〔2026〕1号\n"
        "    date: 2026-11-01\n"
        "    title: 测试通知\n"
        "    holidays:\n"
        "      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n"
        "    working_days: [2027-01-09]\n",
        encoding="utf-8",
    )
    calendar = WorkingCalendar(load_notices(path))
    assert calendar.is_working_day(date(2027, 1, 1)) is False
    assert calendar.is_working_day(date(2027, 1, 9)) is True  # a Saturday
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"notices: 3\n",
        b"\xff\xfe\x00junk",  # not UTF-8
        b"notices: [\n",  # broken YAML
        b"notices:\n  - year: '2027'\n    number: x\n    date: 2026-11-01\n    title: t\n"
        b"    holidays: []\n    working_days: []\n",
        b"notices:\n  - year: 2027\n    number: x\n    date: 2026-11-01\n    title: t\n"
        b"    holidays: [{name: a, from: 2027-01-03, to: 2027-01-01}]\n    working_days: []\n",
        # a Monday cannot be made a working day: it already is one
        b"notices:\n  - year: 2027\n    number: x\n    date: 2026-11-01\n    title: t\n"
        b"    holidays: []\n    working_days: [2027-01-04]\n",
        # a day both off and working
        b"notices:\n  - year: 2027\n    number: x\n    date: 2026-11-01\n    title: t\n"
        b"    holidays: [{name: a, from: 2027-01-09, to: 2027-01-09}]\n"
        b"    working_days: [2027-01-09]\n",
        # no number
        b"notices:\n  - year: 2027\n    date: 2026-11-01\n    title: t\n"
        b"    holidays: []\n    working_days: []\n",
        # a holiday in another year
        b"notices:\n  - year: 2027\n    number: x\n    date: 2026-11-01\n    title: t\n"
        b"    holidays: [{name: a, from: 2025-01-01, to: 2025-01-01}]\n    working_days: []\n",
    ],
)
def test_bad_notice_files_are_refused(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_bytes(body)
    with pytest.raises(UnusableInput) as info:
        load_notices(path)
    assert str(path) in str(info.value)


def test_missing_notice_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnusableInput):
        load_notices(tmp_path / "absent.yaml")


@given(
    start=st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 10, 31)),
    n=st.integers(min_value=0, max_value=40),
)
def test_add_and_between_are_inverse(start: date, n: int) -> None:
    deadline = add_working_days(start, n)
    assert working_days_between(start, deadline) == n
    if n > 0:
        assert is_working_day(deadline)
        assert deadline > start
