"""Chinese working days (工作日), for the deadlines the law gives people and authorities.

A working day is a Monday to Friday that is not a day off under the State Council's yearly
holiday notice, or a Saturday or Sunday that the notice makes a working day (调休上班日).

Two sources, one answer:

1. The notices themselves, shipped as data (``workdays/data/holidays.yaml``: number, date and
   items of each 国务院办公厅关于某年部分节假日安排的通知). Where a year is there, it decides.
2. The ``chinesecalendar`` package (module ``chinese_calendar``) for the other years it covers
   (2004 onwards, up to its last release). A test checks both sources agree on every day of every
   year they share.

A date in a year neither source knows raises ``CalendarUnknown``: the notice for a year is
published in the November before it, and until then nobody can say which days are working days.
Guessing (weekends only) would move deadlines people rely on, so we refuse.

Counting (``add_working_days``): as 《中华人民共和国民法典》第二百零一条 says for periods counted
in days, the day the period starts from is not counted; the period begins the next day. A
deadline of *n* working days after ``start`` is the *n*-th working day after ``start``, and a
deadline counted in working days always ends on a working day.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from xinyong.errors import CalendarUnknown, UnusableInput

NOTICES_FILE = Path(__file__).resolve().parent / "data" / "holidays.yaml"
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class HolidayPeriod:
    """One item of a notice: days off from ``first`` to ``last`` inclusive (放假调休)."""

    name: str
    first: date
    last: date

    def days(self) -> Iterable[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += _ONE_DAY


@dataclass(frozen=True)
class HolidayNotice:
    """A State Council General Office notice arranging one year's holidays."""

    year: int
    number: str
    signed_on: date
    title: str
    url: str | None
    holidays: tuple[HolidayPeriod, ...]
    working_days: frozenset[date]

    def days_off(self) -> frozenset[date]:
        return frozenset(day for period in self.holidays for day in period.days())


class WorkingCalendar:
    """Working days from the shipped notices, then ``chinesecalendar``; unknown years raise."""

    def __init__(self, notices: Iterable[HolidayNotice], *, use_chinesecalendar: bool = True):
        self.notices: dict[int, HolidayNotice] = {}
        for notice in notices:
            if notice.year in self.notices:
                raise ValueError(f"two notices for {notice.year}")
            self.notices[notice.year] = notice
        self._days_off = frozenset().union(*(n.days_off() for n in self.notices.values()))
        self._working = frozenset().union(*(n.working_days for n in self.notices.values()))
        self._package_years = _package_years() if use_chinesecalendar else range(0)

    def source(self, year: int) -> str:
        """Which source answers for ``year``; raises ``CalendarUnknown`` if none does."""
        notice = self.notices.get(year)
        if notice is not None:
            return f"{notice.title}（{notice.number}）"
        if year in self._package_years:
            return f"chinesecalendar {chinese_calendar.__version__}"
        raise CalendarUnknown(_unknown_detail(year, self.known_years()))

    def known_years(self) -> list[int]:
        return sorted(set(self.notices) | set(self._package_years))

    def is_working_day(self, day: date) -> bool:
        """True on a working day, False on a weekend or holiday; ``CalendarUnknown`` if unknown."""
        _require_date(day, "day")
        if day.year in self.notices:
            if day in self._working:
                return True
            return day.weekday() < 5 and day not in self._days_off
        if day.year in self._package_years:
            return bool(chinese_calendar.is_workday(day))
        raise CalendarUnknown(_unknown_detail(day.year, self.known_years()))

    def add_working_days(self, start: date, n: int) -> date:
        """The deadline: the ``n``-th working day after ``start`` (``start`` itself not counted).

        ``n == 0`` gives ``start``. Raises ``CalendarUnknown`` if the count runs into a year no
        source knows, ``ValueError`` for a negative ``n``.
        """
        _require_date(start, "start")
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must not be negative: {n}")
        day, counted = start, 0
        while counted < n:
            day += _ONE_DAY
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days ``d`` with ``a < d <= b`` (negative when ``b`` is before ``a``).

        The inverse of ``add_working_days``: ``working_days_between(s, add_working_days(s, n))``
        is ``n``.
        """
        _require_date(a, "a")
        _require_date(b, "b")
        if b < a:
            return -self.working_days_between(b, a)
        count, day = 0, a
        while day < b:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count


def load_notices(path: Path = NOTICES_FILE) -> tuple[HolidayNotice, ...]:
    """Read and check a notices file (the shipped one by default). Bad data → ``UnusableInput``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UnusableInput(f"{path}: {error}") from error
    if not isinstance(raw, Mapping) or not isinstance(raw.get("notices"), list):
        raise UnusableInput(f"{path}: 需要 notices 列表 / expected a `notices` list")
    notices = []
    for index, entry in enumerate(raw["notices"]):
        try:
            notices.append(_notice(entry))
        except (KeyError, TypeError, ValueError) as error:
            raise UnusableInput(f"{path}: notices[{index}]: {error}") from error
    years = [n.year for n in notices]
    if len(set(years)) != len(years):
        raise UnusableInput(f"{path}: 同一年份有多个通知 / more than one notice for a year")
    return tuple(notices)


def _notice(entry: Any) -> HolidayNotice:
    if not isinstance(entry, Mapping):
        raise TypeError("a notice must be a mapping")
    year = entry["year"]
    if isinstance(year, bool) or not isinstance(year, int):
        raise TypeError(f"year must be an integer, not {year!r}")
    number, title = _text(entry, "number"), _text(entry, "title")
    signed_on = _plain_date(entry["date"], "date")
    url = entry.get("url")
    if url is not None and not isinstance(url, str):
        raise TypeError("url must be text")
    periods = []
    for item in entry["holidays"]:
        if not isinstance(item, Mapping):
            raise TypeError("a holiday must be a mapping")
        first, last = _plain_date(item["from"], "from"), _plain_date(item["to"], "to")
        if first > last:
            raise ValueError(f"holiday {item.get('name')!r} ends before it starts")
        if not (year - 1 <= first.year and last.year == year):
            raise ValueError(f"holiday {item.get('name')!r} is not in {year}")
        periods.append(HolidayPeriod(_text(item, "name"), first, last))
    working = frozenset(_plain_date(d, "working_days") for d in entry["working_days"])
    for day in working:
        if day.year != year or day.weekday() < 5:
            raise ValueError(f"working day {day} is not a weekend day of {year}")
    notice = HolidayNotice(year, number, signed_on, title, url, tuple(periods), working)
    if clash := notice.days_off() & working:
        raise ValueError(f"both day off and working day: {sorted(clash)}")
    return notice


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{key} must be non-empty text")
    return value


def _plain_date(value: Any, key: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{key}: {value!r} is not a date (YYYY-MM-DD)")
    return value


def _require_date(value: object, name: str) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")


def _package_years() -> range:
    years = [day.year for day in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def _unknown_detail(year: int, known: list[int]) -> str:
    span = f"{known[0]}–{known[-1]}" if known else "无 / none"
    return f"{year}（已知年份 / known years: {span}）"


@functools.cache
def default_calendar() -> WorkingCalendar:
    """The shipped notices plus ``chinesecalendar``, loaded once."""
    return WorkingCalendar(load_notices())


def is_working_day(day: date) -> bool:
    """True if ``day`` is a Chinese working day. Raises ``CalendarUnknown`` for unknown years."""
    return default_calendar().is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` not counted): a deadline."""
    return default_calendar().add_working_days(start, n)


def working_days_between(a: date, b: date) -> int:
    """Working days ``d`` with ``a < d <= b``; negative when ``b`` is before ``a``."""
    return default_calendar().working_days_between(a, b)
