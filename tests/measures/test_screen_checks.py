"""``screen.codes_sql``'s citizen-number checks, which are integer arithmetic, against ``ric``.

The SQL reads the birth date and the check character from the number's value (digits 1–8 and
9–17 as two integers) instead of parsing a date and taking 17 digits apart; hypothesis draws
numbers around every edge of that arithmetic — 29 February in leap, common and century years,
months 0 and 13, days 0, 31 and 32, the earliest date and today, every check character, all
nines and all zeros — and the SQL's verdict must be ``reason_of``'s, code by code.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.codes import regions, ric
from xinyong.codes.identifiers import reason_of
from xinyong.measures import screen
from xinyong.measures.screen import codes_sql

_REGIONS = sorted(regions.valid_codes())
_TODAY = date.today()
_YEARS = st.one_of(
    st.sampled_from([1879, 1880, 1896, 1900, 1904, 2000, 2024, _TODAY.year, _TODAY.year + 1]),
    st.integers(1800, 2099),
)
_DATES = st.one_of(
    st.tuples(_YEARS, st.integers(0, 13), st.integers(0, 32)).map(
        lambda t: f"{t[0]:04d}{t[1]:02d}{t[2]:02d}"
    ),
    st.sampled_from(
        [
            d.strftime("%Y%m%d")
            for d in (ric.EARLIEST_BIRTH, _TODAY, _TODAY + timedelta(days=1), _TODAY - timedelta(1))
        ]
    ),
    st.sampled_from(["18791231", "19000229", "20000229", "20240229", "20230229", "99999999"]),
)
_REGION = st.one_of(st.sampled_from(_REGIONS), st.from_regex(r"[0-9]{6}", fullmatch=True))


@st.composite
def _citizen_numbers(draw: st.DrawFn) -> str:
    body = draw(_REGION) + draw(_DATES) + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    if draw(st.booleans()):
        return body + ric.check_character(body)  # the right check character
    if draw(st.booleans()):
        return body[:6] + body[8:14] + body[14:17]  # the 15-digit form (year 19xx)
    return body + draw(st.sampled_from("0123456789X"))


_CON = duckdb.connect()
_CON.register("xy_regions", pa.table({"code": _REGIONS}))


def _sql_verdicts(codes: list[str]) -> list[tuple[str | None, str | None, str]]:
    _CON.register("t", pa.table({"n": list(range(len(codes))), "raw": codes}))
    rows = _CON.execute(
        f"SELECT * FROM ({codes_sql('SELECT n, raw FROM t')}) ORDER BY n"
    ).fetchall()
    return [(scheme, reason, value) for _, _, scheme, reason, value in rows]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.one_of(
            _citizen_numbers(),
            st.sampled_from(["9" * 18, "0" * 18, "9" * 17 + "X", "0" * 15, "9" * 15]),
        ),
        min_size=1,
        max_size=400,
    )
)
def test_sql_citizen_number_checks_are_the_python_ones(codes: list[str]) -> None:
    for code, (scheme, reason, value) in zip(codes, _sql_verdicts(codes), strict=True):
        kind, compacted, problem = reason_of(code)
        assert reason == problem, code
        if problem is None:
            expected = ric.to_18(compacted) if kind == "ric" and len(compacted) == 15 else compacted
            assert (scheme, value) == (kind, expected), code


def test_sql_birth_dates_at_every_calendar_edge() -> None:
    """Every month 0–13 and day 0, 1, 28–32 of leap, common and century years, the earliest
    year and this one; each with a known region and the right check character (18 digits) or
    in the 15-digit form (years 19xx), so that only the date can fail."""
    codes: list[str] = []
    for year in (1879, 1880, 1896, 1899, 1900, 1904, 1999, 2000, 2023, 2024, _TODAY.year):
        for month in range(14):
            for day in (0, 1, 28, 29, 30, 31, 32):
                body = f"110101{year:04d}{month:02d}{day:02d}123"
                codes.append(body + ric.check_character(body))
                codes.append(body[:6] + body[8:17])
    reasons = set()
    for code, (_, reason, _) in zip(codes, _sql_verdicts(codes), strict=True):
        assert reason == reason_of(code)[2], code
        reasons.add(reason)
    assert reasons == {None, "birth_date"}


def test_the_check_characters_arithmetic() -> None:
    """The weights are 2^(k+1) mod 11 for digit k from the right, and the largest sum the SQL
    forms (hi = 10^8 - 1, lo = 10^9 - 1) stays within a 32-bit INTEGER, which DuckDB checks and
    Spark would let wrap."""
    assert [screen._ric_weight(16 - i) for i in range(17)] == list(screen._WEIGHTS)
    coeff = screen._RIC_COEFF
    largest = (
        2 * 10
        + sum(coeff[k] * (10**9 // 10**k) for k in range(1, 9))
        + screen._ric_weight(9) * 10**8
        + sum(coeff[k] * (10**8 // 10 ** (k - 9)) for k in range(10, 17))
    )
    assert largest < 2**31
