"""Enterprise registration number (注册号), GS15—2006 《工商行政管理市场主体注册号编制规则》.

The number the administrations for industry and commerce gave market entities from 2007 until
the unified social credit code (GB 32100-2015) replaced it; departments' files still carry it in
the column 行政相对人代码_2（工商注册号）. 15 digits:

- positions 1–6: the registration authority's code (the GB/T 2260 division code of the
  administration that registered the entity; 100000 for the national administration);
- positions 7–14: a sequence number within that authority;
- position 15: a check digit by ISO 7064 MOD 11,10 (the hybrid system: ``p = 10``; for each
  digit ``s = (p + d) mod 10`` read as 10 when 0, ``p = 2s mod 11``; the check ``c`` makes
  ``(p + c) mod 10 = 1``).

Unconfirmed (the standard's text was not at hand; the layout above is as commentaries quote
it): which leading sequence digits mark domestic, foreign-invested and sole-trader entities,
and whether authority codes outside GB/T 2260 were issued. So the authority code is reported by
:func:`parse` but not checked; only the characters, the length and the check digit are.

A bare 15-digit number is also the shape of a first-generation citizen number, so
:mod:`xinyong.codes.identifiers` takes a number as a registration number only where its column
says so, never by shape.
"""

from __future__ import annotations

import random
from typing import Any

from xinyong.codes import normalise, regions
from xinyong.errors import InvalidCode, invalid_code

KIND = "regno"
NAME_ZH = "工商注册号"
NAME_EN = "enterprise registration number"

LENGTH = 15
DIGITS = "0123456789"


def check_digit(first14: str) -> str:
    """The ISO 7064 MOD 11,10 check digit for 14 digits."""
    p = 10
    for ch in first14:
        s = (p + int(ch)) % 10 or 10
        p = 2 * s % 11
    return str((11 - p) % 10)


def compact(code: str) -> str:
    """Strip spaces and hyphens, fold full-width digits (``１１０１０８ …`` → ``110108…``)."""
    return normalise.compact(code)


def reason(code: str) -> str | None:
    """Why a compacted code is invalid (an ``InvalidCode.reason``), or None if it is valid."""
    if not (code.isascii() and code.isdigit()):
        return "charset"
    if len(code) != LENGTH:
        return "length"
    return None if check_digit(code[:14]) == code[14] else "checksum"


def validate(code: str) -> str:
    """The compacted code if valid; else raises InvalidCharset, InvalidLength or InvalidChecksum."""
    code = compact(code)
    problem = reason(code)
    if problem is not None:
        raise invalid_code(problem)
    return code


def is_valid(code: str) -> bool:
    """True if ``code`` is a valid registration number (after compaction)."""
    try:
        validate(code)
    except InvalidCode:
        return False
    return True


def parse(code: str) -> dict[str, Any]:
    """Validate and split: ``{"code", "authority", "authority_name", "sequence", "check"}``;
    ``authority_name`` is the division's name when the authority code is a GB/T 2260 code."""
    code = validate(code)
    region = regions.lookup(code[:6])
    return {
        "code": code,
        "authority": code[:6],
        "authority_name": region.full_name if region is not None else None,
        "sequence": code[6:14],
        "check": code[14],
    }


def generate(rng: random.Random) -> str:
    """A valid registration number under a real county's authority code."""
    body = regions.sample(rng).code + "".join(rng.choices(DIGITS, k=8))
    return body + check_digit(body)
