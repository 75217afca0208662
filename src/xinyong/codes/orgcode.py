"""Organisation code (组织机构代码), GB 11714-1997: 8 body characters and a check character.

Body characters are digits or upper-case letters, valued 0–9 and A=10 … Z=35, weighted
3, 7, 9, 10, 5, 8, 4, 2; the check is ``11 − (Σ mod 11)`` written ``X`` for 10 and ``0`` for 11.
Printed as ``XXXXXXXX-X``; :func:`compact` drops the hyphen.
"""

from __future__ import annotations

import random
from typing import Any

from xinyong.codes import normalise
from xinyong.errors import InvalidCode, invalid_code

KIND = "orgcode"
NAME_ZH = "组织机构代码"
NAME_EN = "organisation code"

BODY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHECK_ALPHABET = "0123456789X"
_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_CHARS = frozenset(BODY_ALPHABET)


# Σ mod 11 → check character: 11 − r, with 10 → X and 11 → 0.
_CHECK_FOR_REMAINDER = "0X987654321"
_CHECK_BYTES = _CHECK_FOR_REMAINDER.encode()


def body_check(body: str) -> str | None:
    """The check character for an 8-character body, or None if it is not 8 allowed characters."""
    if len(body) != 8 or body.strip(BODY_ALPHABET):
        return None
    total = sum(BODY_ALPHABET.index(ch) * w for ch, w in zip(body, _WEIGHTS, strict=True))
    return _CHECK_FOR_REMAINDER[total % 11]


def body_check_fast(body: bytes) -> int:
    """The check character's byte for an 8-byte body of digits and letters A–Y.

    The weights 3, 7, 9, 10, 5, 8, 4, 2 are 2^8 … 2^1 mod 11, and 35 ≡ 2 (mod 11), so
    ``2 · int(body, 35)`` is the weighted sum mod 11: one C call instead of a Python loop. Only
    for bodies without ``Z`` (base 35 stops at Y), which is every body inside a USCC.
    """
    return _CHECK_BYTES[2 * int(body, 35) % 11]


_BODY_BYTES = BODY_ALPHABET.encode()


def compact(code: str) -> str:
    """Strip spaces and hyphens, fold full-width and lower case (``abcd1234-x`` → ``ABCD1234X``)."""
    return normalise.compact(code)


def reason(code: str) -> str | None:
    """Why a compacted code is invalid (an ``InvalidCode.reason``), or None if it is valid."""
    return reason_ascii(code.encode("utf-8", "surrogatepass"))


def reason_ascii(code: bytes) -> str | None:
    """:func:`reason` on compacted bytes (see :func:`normalise.compact_bytes`)."""
    if len(code) != 9:
        return "charset" if code.strip(_BODY_BYTES) else "length"
    body = code[:8]
    if body.strip(_BODY_BYTES) or code[8] not in _CHECK_BYTES:
        return "charset"
    # base 35 stops at Y: a body with Z takes the slow path
    expected = ord(body_check(body.decode()) or "?") if b"Z" in body else body_check_fast(body)
    return None if code[8] == expected else "checksum"


def validate(code: str) -> str:
    """The compacted code if valid; else raises InvalidCharset, InvalidLength or InvalidChecksum."""
    code = compact(code)
    problem = reason(code)
    if problem is not None:
        raise invalid_code(problem)
    return code


def is_valid(code: str) -> bool:
    """True if ``code`` is a valid organisation code (after compaction)."""
    try:
        return reason_ascii(normalise.compact_bytes(code)) is None
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
    return body + chr(body_check_fast(body.encode()))
