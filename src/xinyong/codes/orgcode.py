"""Organisation code (组织机构代码), GB 11714-1997: 8 body characters and a check character.

Body characters are digits or upper-case letters, valued 0–9 and A=10 … Z=35, weighted
3, 7, 9, 10, 5, 8, 4, 2; the check is ``11 − (Σ mod 11)`` written ``X`` for 10 and ``0`` for 11.
Printed as ``XXXXXXXX-X``; :func:`compact` drops the hyphen.
"""

from __future__ import annotations

import random
from typing import Any

from xinyong.codes import normalise
from xinyong.errors import InvalidCharset, InvalidChecksum, InvalidCode, InvalidLength

KIND = "orgcode"
NAME_ZH = "组织机构代码"
NAME_EN = "organisation code"

BODY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHECK_ALPHABET = "0123456789X"
_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_CHARS = frozenset(BODY_ALPHABET)


def _pair_table(first: int, alphabet: str) -> dict[str, int]:
    """Weighted value of every two-character chunk at body positions ``first``, ``first + 1``."""
    w1, w2 = _WEIGHTS[first], _WEIGHTS[first + 1]
    return {
        a + b: alphabet.index(a) * w1 + alphabet.index(b) * w2 for a in alphabet for b in alphabet
    }


_P0, _P1, _P2, _P3 = (_pair_table(i, BODY_ALPHABET) for i in (0, 2, 4, 6))
# Σ mod 11 → check character: 11 − r, with 10 → X and 11 → 0.
_CHECK_FOR_REMAINDER = "0X987654321"


def body_check(body: str) -> str | None:
    """The check character for an 8-character body, or None if a character is not allowed."""
    try:
        total = _P0[body[0:2]] + _P1[body[2:4]] + _P2[body[4:6]] + _P3[body[6:8]]
    except KeyError:
        return None
    return _CHECK_FOR_REMAINDER[total % 11]


def compact(code: str) -> str:
    """Strip spaces and hyphens, fold full-width and lower case (``abcd1234-x`` → ``ABCD1234X``)."""
    return normalise.compact(code)


def reason(code: str) -> str | None:
    """Why a compacted code is invalid (an ``InvalidCode.reason``), or None if it is valid."""
    if len(code) != 9:
        return "length" if not code.strip(BODY_ALPHABET) else "charset"
    check = body_check(code[:8])
    if check is None or code[8] not in CHECK_ALPHABET:
        return "charset"
    return None if check == code[8] else "checksum"


_ERRORS: dict[str, type[InvalidCode]] = {
    "length": InvalidLength,
    "charset": InvalidCharset,
    "checksum": InvalidChecksum,
}


def validate(code: str) -> str:
    """The compacted code if valid; else raises InvalidCharset, InvalidLength or InvalidChecksum."""
    code = compact(code)
    problem = reason(code)
    if problem is not None:
        raise _ERRORS[problem]()
    return code


def is_valid(code: str) -> bool:
    """True if ``code`` is a valid organisation code (after compaction)."""
    try:
        return reason(normalise.compact(code)) is None
    except InvalidCode:
        return False


def parse(code: str) -> dict[str, Any]:
    """Validate and split: ``{"code", "body", "check"}``."""
    code = validate(code)
    return {"code": code, "body": code[:8], "check": code[8]}


# Letters a USCC may hold (GB 32100: no I, O, Z, S, V), so generated bodies fit inside a USCC.
_GENERATED_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def generate(rng: random.Random) -> str:
    """A valid organisation code: mostly digit bodies (the pre-2015 register), some with letters."""
    if rng.random() < 0.8:
        body = "".join(rng.choices("0123456789", k=8))
    else:
        body = "".join(rng.choices(_GENERATED_BODY, k=8))
    check = body_check(body)
    assert check is not None
    return body + check
