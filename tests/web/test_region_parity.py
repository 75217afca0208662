"""The province of a subject code, in SQL and in Python, is the same province.

The dashboard groups records by province in SQL (``disclose.queries.region_of``: a citizen number's
positions 1–6, any other subject's 3–8, then the first two digits); the feed routes each event
by province in Python (``feed.events.region_of``). Generated codes of every kind of subject —
USCCs of every registration authority, including central registrations (region ``100000``, no
province), and 18-digit citizen numbers — go through both, on SQLite.
"""

from __future__ import annotations

import random

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
)

from xinyong.codes import orgcode, regions, ric, uscc
from xinyong.disclose.queries import region_of as region_sql
from xinyong.feed.events import region_of

KINDS_OF_USCC = ("enterprise", "sole_trader", "organisation", "government")


def _codes() -> list[tuple[str, str]]:
    rng = random.Random(30)
    out: list[tuple[str, str]] = [(ric.generate(rng), "individual") for _ in range(300)]
    out += [(uscc.generate(rng), rng.choice(KINDS_OF_USCC)) for _ in range(300)]
    out += [(uscc.generate(rng, region=uscc.CENTRAL_REGION), "enterprise") for _ in range(20)]
    return out


def _provinces_in_sql(engine: Engine, codes: list[tuple[str, str]]) -> list[str]:
    given = Table("given", MetaData(), Column("n", Integer), Column("code", String),
                  Column("kind", String))  # fmt: skip
    query = select(func.substr(region_sql(given.c.code, given.c.kind), 1, 2)).order_by(given.c.n)
    with engine.begin() as conn:
        given.create(conn)
        conn.execute(
            insert(given), [{"n": n, "code": c, "kind": k} for n, (c, k) in enumerate(codes)]
        )
        return list(conn.execute(query).scalars())


def test_sql_and_python_name_the_same_province() -> None:
    codes = _codes()
    in_sql = _provinces_in_sql(create_engine("sqlite://"), codes)
    provinces = {r.code[:2] for r in regions.current("province")}
    named = 0
    for (code, kind), two_digits in zip(codes, in_sql, strict=True):
        province = region_of(code)
        if province is None:  # central registrations: no province, and none in SQL either
            assert two_digits not in provinces, (code, kind)
        else:
            assert province == two_digits + "0000", (code, kind)
            named += 1
    assert named >= 550


def test_organisation_codes_and_15_digit_numbers_agree_too() -> None:
    rng = random.Random(31)
    codes = [(orgcode.generate(rng), "enterprise") for _ in range(50)]
    codes += [(p[:6] + p[8:17], "individual") for p in (ric.generate(rng) for _ in range(50))]
    in_sql = _provinces_in_sql(create_engine("sqlite://"), codes)
    provinces = {r.code[:2] for r in regions.current("province")}
    for (code, kind), two_digits in zip(codes, in_sql, strict=True):
        province = region_of(code)
        if province is None:
            assert two_digits not in provinces, (code, kind)
        else:
            assert province == two_digits + "0000", (code, kind)
