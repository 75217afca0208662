"""The age rule's SQL twin (``ric.is_minor_on_sql``) answers as ``ric.is_minor_on`` on DuckDB,
and transpiles for Spark: birthdays on the day, the day before and after the 18th birthday,
29 February (a birthday on 1 March of a common year), both forms of the number, organisations'
codes and text that is no number: a wrong check character, 30 February, a birth in the future,
spaces."""

from __future__ import annotations

import random
from datetime import date, timedelta

import duckdb
import pyarrow as pa

from xinyong.batch.dialects import transpile
from xinyong.codes import ric, uscc

DAYS = (date(2026, 12, 4), date(2026, 2, 28), date(2026, 3, 1), date(2028, 2, 29),
        date(2028, 2, 28), date(1998, 6, 30))  # fmt: skip


def _births(day: date) -> list[date]:
    eighteen = day.replace(year=day.year - 18) if (day.month, day.day) != (2, 29) else None
    near = [eighteen + timedelta(days=d) for d in (-2, -1, 0, 1, 2)] if eighteen else []
    leap = [date(y, 2, 29) for y in (day.year - 20, day.year - 18, day.year - 17) if y % 4 == 0]
    return [b for b in [*near, *leap, day, day - timedelta(days=6574), date(1960, 5, 5)]
            if date(1880, 1, 1) <= b <= date.today()]  # fmt: skip


def test_the_sql_twin_answers_as_is_minor_on() -> None:
    rng = random.Random(18)
    cases: list[tuple[str, date]] = []
    for day in DAYS:
        for born in _births(day):
            code = ric.generate(rng, birth_date=born)
            cases.append((code, day))
            if born.year // 100 == 19:
                cases.append((code[:6] + code[8:17], day))  # the 15-digit form
        cases += [(uscc.generate(rng), day), ("", day), ("1101011990030745", day),
                  ("11010120101231001X", day), ("11010120101231001", day),
                  ("110101101231001 ", day), ("11010120101231 01X", day),
                  ("110101201902300013", day), ("110101203001010018", day)]  # fmt: skip
    duck = duckdb.connect()
    table = pa.table({"code": [c for c, _ in cases]})
    duck.register("codes", table)
    minors = 0
    for day in DAYS:
        want = [ric.is_minor_on(c, d) for c, d in cases if d == day]
        codes = [c for c, d in cases if d == day]
        by_code = dict(duck.execute(
            f"SELECT code, COALESCE({ric.is_minor_on_sql('code', day)}, false) FROM codes"
        ).fetchall())  # fmt: skip
        for code, expected in zip(codes, want, strict=True):
            assert by_code[code] == expected, (code, day)
        minors += sum(want)
    assert 0 < minors < len(cases), "both answers occur"


def test_the_sql_twin_transpiles_for_spark() -> None:
    sql = transpile(f"SELECT {ric.is_minor_on_sql('code', date(2026, 12, 4))} FROM t", "spark")
    assert "TRY_CAST" in sql and "20081204" in sql
