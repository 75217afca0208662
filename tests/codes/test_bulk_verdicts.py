"""``codes.bulk.verdicts`` (numpy, what ``screen`` checks a file's codes with) against the Python
rules, ``identifiers.reason_of``, and against the SQL checks (``screen.codes_sql``, what the
batch layer runs), code by code.

Hypothesis draws valid codes of every kind and corrupts them the ways people do — a changed,
dropped, doubled or swapped character, lower case (``x``), spaces and hyphens of every width,
full-width forms, characters that are not ASCII — and draws citizen numbers around every edge
of the calendar and of the check character, empty and over-long values, and nulls (the SQL and
``screen`` read a null as an empty code: ``length``).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.measures.test_screen import _sample
from tests.measures.test_screen_checks import _citizen_numbers

from xinyong.codes import bulk, normalise, orgcode, regions, ric, uscc
from xinyong.codes.identifiers import reason_of
from xinyong.measures.screen import codes_sql

_TODAY = date.today()
_SEPARATORS = sorted(chr(k) for k, to in normalise.COMPACT_TABLE.items() if to is None)
_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F) if c != 0x2D}
_JUNK = "0123456789XxABCZIOSVaz@-_:中ａ９ＸßÀ\u00a0\u3000\ufe63é"


@st.composite
def _valid(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 2**32)))
    which = draw(st.integers(0, 5))
    if which == 0:
        return uscc.generate(rng)
    if which == 1:
        return uscc.generate(rng, region=uscc.CENTRAL_REGION)
    if which == 2:
        return orgcode.generate(rng)
    person = ric.generate(rng)
    return person if which < 5 else person[:6] + person[8:17]  # the 15-digit form


@st.composite
def _corrupted(draw: st.DrawFn) -> str:
    code = draw(st.one_of(_valid(), _citizen_numbers()))
    how = draw(st.integers(0, 9))
    i = draw(st.integers(0, len(code) - 1))
    if how == 1:
        return code[:i] + draw(st.sampled_from(_JUNK)) + code[i + 1 :]
    if how == 2:
        return code[:i] + code[i + 1 :]
    if how == 3:
        return code[:i] + draw(st.sampled_from(_JUNK)) + code[i:]
    if how == 4 and i + 1 < len(code):
        return code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    if how == 5:
        return code.lower()
    if how == 6:
        return code[:i] + draw(st.sampled_from(_SEPARATORS)) + code[i:]
    if how == 7:
        return "".join(_FULL_WIDTH.get(ch, ch) for ch in code)
    if how == 8:
        return code + draw(st.text(alphabet=_JUNK, max_size=30))
    return code


_EDGES = [
    "", " ", "-", "Ｘ", "x", "9" * 18, "0" * 18, "9" * 17 + "X", "9" * 17 + "x", "0" * 15,
    "1" * 9, "ABCDEFGHZ", "ZZZZZZZZX", "1" * 19, "1" * 300, "ß" * 9, "中" * 18, "１" * 15,
    "12345678-9", "110101188001010019", "110101" + "29991231" + "0011",
]  # fmt: skip


def _calendar() -> list[str]:
    codes = []
    for year in (1879, 1880, 1896, 1899, 1900, 1904, 2000, 2023, 2024, _TODAY.year):
        for month in range(14):
            for day in (0, 1, 28, 29, 30, 31, 32):
                body = f"110101{year:04d}{month:02d}{day:02d}123"
                codes += [body + ric.check_character(body), body[:6] + body[8:17]]
    for day in (_TODAY - timedelta(days=1), _TODAY, _TODAY + timedelta(days=1)):
        body = f"110101{day:%Y%m%d}123"
        codes += [body + ric.check_character(body), (body + ric.check_character(body)).lower()]
    return codes


def _number(code: str) -> int:
    """``Verdicts.number`` as its doc says: 17 digits and a digit or X as one integer."""
    if len(code) == 18 and code[:17].isdigit() and code[17] in "0123456789X":
        return int(code[:17]) * 11 + "0123456789X".index(code[17])
    return -1


_CON = duckdb.connect()
_CON.register("xy_regions", pa.table({"code": sorted(regions.valid_codes())}))


def _assert_agree(codes: list[str | None]) -> set[str | None]:
    """``verdicts`` equals ``reason_of`` and the SQL on every code; the reasons met."""
    found = bulk.verdicts(pa.array(codes, pa.string()))
    values = found.value.to_pylist()
    _CON.register("t", pa.table({"n": range(len(codes)), "raw": pa.array(codes, pa.string())}))
    sql = _CON.execute(f"SELECT * FROM ({codes_sql('SELECT n, raw FROM t')}) ORDER BY n")
    reasons = set()
    for i, (code, row) in enumerate(zip(codes, sql.fetchall(), strict=True)):
        reason = bulk.CODE_REASONS[found.reason[i]]
        kind, compacted, problem = reason_of(code or "")
        assert reason == problem == row[3], (code, reason, problem, row[3])
        reasons.add(reason)
        if problem is None:
            expected = ric.to_18(compacted) if kind == "ric" and len(compacted) == 15 else compacted
            assert (bulk.KINDS[found.kind[i]], values[i]) == (kind, expected) == (row[2], row[4])
            assert found.number[i] == _number(expected), code
        else:
            assert found.number[i] == -1, code
    return reasons


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(_corrupted(), st.sampled_from(_EDGES), st.none()), max_size=300))
def test_bulk_verdicts_are_the_python_and_the_sql_ones(codes: list[str | None]) -> None:
    _assert_agree(codes)


def test_every_verdict_on_a_fixed_sample_and_at_every_calendar_edge() -> None:
    reasons = _assert_agree([*_sample(), *_EDGES, *_calendar()])
    assert reasons == set(bulk.CODE_REASONS)


def test_a_sliced_batch_and_an_empty_one() -> None:
    """Arrow batches read from a file may be slices of a larger buffer."""
    codes = [ric.generate(random.Random(n)) for n in range(50)]
    whole = pa.array(["x", *codes, "9" * 18], pa.string())
    part = bulk.verdicts(whole.slice(1, 50))
    assert part.value.to_pylist() == codes
    assert list(part.reason) == [bulk.VALID] * 50
    assert len(bulk.verdicts(pa.array([], pa.string())).reason) == 0
