"""Citizen identity number (公民身份号码), GB 11643-1999, and the legacy 15-digit form.

18 characters: region of first registration (1–6, GB/T 2260; historical codes stay valid),
birth date ``YYYYMMDD`` (7–14), sequence (15–17, odd male, even female), check character
(ISO 7064 MOD 11-2, ``X`` for 10). The 15-digit form (before 1999) has a 2-digit year and no
check character; :func:`to_18` converts it.

Checks in a fixed order: characters → length → region → birth date → check character.
"""

from __future__ import annotations

import datetime
import random
import threading
from typing import Any, Literal

from xinyong.codes import normalise, regions
from xinyong.errors import (
    InvalidBirthDate,
    InvalidCode,
    InvalidRegion,
    invalid_code,
)

KIND = "ric"
NAME_ZH = "公民身份号码"
NAME_EN = "citizen identity number"

DIGITS = "0123456789"
_ALL_CHARS = "0123456789X"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2, 1)  # last: the check itself
_CHECK = "10X98765432"  # check character for Σ mod 11 over the first 17 digits
EARLIEST_BIRTH = datetime.date(1880, 1, 1)


def _dates(today: datetime.date) -> frozenset[bytes]:
    """Every ``YYYYMMDD`` from 1880-01-01 to ``today``: a real date, not in the future."""
    days = (today - EARLIEST_BIRTH).days
    return frozenset(
        (EARLIEST_BIRTH + datetime.timedelta(days=n)).strftime("%Y%m%d").encode()
        for n in range(days + 1)
    )


class _BirthDates:
    """Membership in the valid birth dates; the set is rebuilt when the day changes, so the hot
    path is one set lookup and asks for the date only when a code is not in the set."""

    def __init__(self) -> None:
        self.built_for: datetime.date | None = None
        self.dates: frozenset[bytes] = frozenset()
        # One thread builds the set (0.3 s); the others wait for it rather than each building
        # their own: a worker's first burst of checks, and again each midnight.
        self._building = threading.Lock()

    def __contains__(self, yyyymmdd: bytes) -> bool:
        if yyyymmdd in self.dates:
            return True
        today = datetime.date.today()
        if today != self.built_for:
            with self._building:
                if today != self.built_for:
                    self.dates, self.built_for = _dates(today), today
            return yyyymmdd in self.dates
        return False


_BIRTH_DATES = _BirthDates()


def compact(code: str) -> str:
    """Strip spaces and hyphens, fold full-width and lower case (``x`` → ``X``)."""
    return normalise.compact(code)


def check_character(first17: str) -> str:
    """The check character for the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=False)) % 11]


def reason(code: str) -> str | None:
    """Why a compacted number (18 or 15 digits) is invalid, or None if it is valid."""
    return reason_ascii(code.encode("utf-8", "surrogatepass"))


_CHECK_VALUE = [-1] * 256
for _i, _ch in enumerate(b"0123456789X"):
    _CHECK_VALUE[_ch] = _i


def reason_ascii(code: bytes) -> str | None:
    """:func:`reason` on compacted bytes (see :func:`normalise.compact_bytes`): the hot path.

    The weights 7, 9, 10, … 2 are 2^17 … 2^1 mod 11 and 13 ≡ 2 (mod 11), so
    ``2 · int(first 17, 13)`` is the weighted sum mod 11, computed in C.
    """
    length = len(code)
    if length == 18:
        first17 = code[:17]
        check = _CHECK_VALUE[code[17]]
        if not first17.isdigit() or check < 0:
            return "charset"
        if code[:6] not in regions.valid_codes_ascii():
            return "region"
        if code[6:14] not in _BIRTH_DATES:
            return "birth_date"
        return None if (2 * int(first17, 13) + check) % 11 == 1 else "checksum"
    if length == 15:
        if not code.isdigit():
            return "charset"
        if code[:6] not in regions.valid_codes_ascii():
            return "region"
        return None if b"19" + code[6:12] in _BIRTH_DATES else "birth_date"
    if code.strip(_ALL_BYTES) or b"X" in code[:-1]:
        return "charset"
    return "length"


_ALL_BYTES = _ALL_CHARS.encode()


def validate(code: str) -> str:
    """The compacted number (18 or 15 digits) if valid; else raises the first failure."""
    code = compact(code)
    problem = reason(code)
    if problem is not None:
        raise invalid_code(problem)
    return code


def is_valid(code: str) -> bool:
    """True if ``code`` is a valid citizen number, 18 or legacy 15 digits."""
    try:
        return reason_ascii(normalise.compact_bytes(code)) is None
    except InvalidCode:
        return False


def to_18(code: str) -> str:
    """The 18-digit form of a valid number: 15 digits get ``19`` and a check character."""
    code = validate(code)
    if len(code) == 18:
        return code
    first17 = code[:6] + "19" + code[6:]
    return first17 + check_character(first17)


def parse(code: str) -> dict[str, Any]:
    """Validate and split: region, birth date (ISO), sex; ``legacy`` for the 15-digit form."""
    code = validate(code)
    full = to_18(code)
    found = regions.lookup(full[:6])
    assert found is not None  # validate checked it
    birth = datetime.date(int(full[6:10]), int(full[10:12]), int(full[12:14]))
    return {
        "code": code,
        "region": {"code": found.code, "name": found.full_name, "historical": found.historical},
        "birth_date": birth.isoformat(),
        "sex": "male" if int(full[16]) % 2 else "female",
        "legacy": len(code) == 15,
        "code_18": full,
    }


#: The age of majority (《民法典》第十七条: 十八周岁以上的自然人为成年人).
ADULT_AGE = 18


def birth_date(code: str) -> datetime.date | None:
    """The birth date a valid citizen number (18 or 15 digits) carries; None for anything else."""
    try:
        return birth_date_of_valid(validate(code))
    except InvalidCode:
        return None


def birth_date_of_valid(code: str) -> datetime.date:
    """The birth date in a number :func:`validate` has returned (compacted, 18 or 15 digits;
    the 15-digit form's year is 19YY, as :func:`to_18` reads it)."""
    if len(code) == 15:
        return datetime.date(1900 + int(code[6:8]), int(code[8:10]), int(code[10:12]))
    return datetime.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))


def age_on(born: datetime.date, day: datetime.date) -> int:
    """Full years of age on ``day``: one more on each birthday (29 February: on 1 March in a
    common year, 《民法典》第二百零一条 counting by the corresponding day)."""
    years = day.year - born.year
    return years - 1 if (day.month, day.day) < (born.month, born.day) else years


def is_minor_on(code: str, day: datetime.date) -> bool:
    """Whether the holder of citizen number ``code`` is under 18 on ``day``; False for a code
    that is not a valid citizen number (an organisation has no age)."""
    born = birth_date(code)
    return born is not None and age_on(born, day) < ADULT_AGE


def is_minor_on_sql(code: str, day: datetime.date) -> str:
    """:func:`is_minor_on` in SQL (DuckDB's dialect; the batch layer transpiles it for Spark):
    true when the text in the SQL expression ``code`` is a citizen number whose holder is under
    18 on ``day`` (a literal). ``age_on(born, day) < 18`` is ``born > day`` less 18 years,
    compared as ``YYYYMMDD`` numbers (a birthday counts on its own day; 29 February on 1 March of
    a common year, as in :func:`age_on`). The birth date is digits 7–14 of an 18-character
    number, ``19`` and digits 7–12 of a 15-digit one, taken only where :func:`birth_date` would
    take it: the characters, a real date from 1880 to today, and the check character (ISO 7064
    MOD 11-2 over the weights above). The region is not checked (the SQL has no table of
    regions): a number the store holds passed it when it was linked."""
    digits = " + ".join(
        f"{w} * TRY_CAST(SUBSTR({code}, {n}, 1) AS INTEGER)" for n, w in enumerate(_WEIGHTS[:17], 1)
    )
    today = int(datetime.date.today().strftime("%Y%m%d"))
    threshold = (day.year - ADULT_AGE) * 10000 + day.month * 100 + day.day

    def minor(born: str, checks: str) -> str:
        # Born after the threshold first (most people are not): the rest only for those.
        real = f"try_strptime(CAST({born} AS VARCHAR), '%Y%m%d') IS NOT NULL"
        return f"{born} > {threshold} THEN {born} <= {today} AND {real}{checks}"

    long_born = f"TRY_CAST(SUBSTR({code}, 7, 8) AS INTEGER)"
    short_born = f"19000000 + TRY_CAST(SUBSTR({code}, 7, 6) AS INTEGER)"
    long_checks = (
        f" AND TRY_CAST(SUBSTR({code}, 1, 17) AS BIGINT) IS NOT NULL"
        f" AND SUBSTR({code}, 1, 1) BETWEEN '0' AND '9'"
        f" AND SUBSTR('{_CHECK}', ({digits}) % 11 + 1, 1) = SUBSTR({code}, 18, 1)"
    )
    short_checks = (
        f" AND TRY_CAST({code} AS BIGINT) IS NOT NULL"
        f" AND SUBSTR({code}, 1, 1) BETWEEN '0' AND '9'"
        f" AND SUBSTR({code}, 15, 1) BETWEEN '0' AND '9'"
    )
    return (
        f"(CASE WHEN LENGTH({code}) = 18 AND {minor(long_born, long_checks)} "
        f"WHEN LENGTH({code}) = 15 AND {minor(short_born, short_checks)} ELSE false END)"
    )


def generate(
    rng: random.Random,
    *,
    region: str | None = None,
    birth_date: datetime.date | None = None,
    sex: Literal["male", "female"] | None = None,
) -> str:
    """A valid 18-digit number. Defaults: a current county weighted by province population, a
    birth date uniform over people aged 30–85 today (adults on any date of the last twelve
    years, so a drawn person may be listed on a past date: 法释〔2017〕7号第四条), either sex."""
    today = datetime.date.today()
    if region is None:
        region = regions.sample(rng).code
    elif region not in regions.valid_codes():
        raise InvalidRegion(region)
    if birth_date is None:
        start = today - datetime.timedelta(days=round(365.25 * 85))
        end = today - datetime.timedelta(days=round(365.25 * 30) + 1)
        birth_date = start + datetime.timedelta(days=rng.randrange((end - start).days))
    elif not EARLIEST_BIRTH <= birth_date <= today:
        raise InvalidBirthDate(birth_date.isoformat())
    if sex is None:
        sex = rng.choice(("male", "female"))
    sequence = rng.randrange(0, 500) * 2 + (1 if sex == "male" else 0)
    if sequence == 0:
        sequence = 2
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
