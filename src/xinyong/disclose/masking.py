"""Masking for public output: individuals' citizen ID numbers, their addresses and phones.

What is masked is decided by what a value IS, never by its length alone: a citizen ID number
(``xinyong.codes.detect_kind`` says ``ric``: 18 characters with a province digit and a birth
year, or a 15-digit legacy number) is masked wherever it appears; a unified social credit code
is a public registration fact and is shown whole, even when it happens to be all digits.

``mask_ric("35010219900101123X")`` → ``3501**********123X``: the first four characters (province
and city) and the last four (sequence end and check character) stay; the county, birth date and
sequence do not. A 15-digit number keeps four and three (``3501********123``).

The portal's search accepts a masked number as shown here (or with six leading digits, as some
published lists print it): :func:`masked_parts` turns it into the head and tail to look up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from xinyong.codes import detect_kind, regions, ric, uscc
from xinyong.disclose.policy import is_private_field

MASK = "*"

#: Candidates inside free text, in every form people write them: 18 characters (17 digits and a
#: digit or X) or 15 digits, ASCII or full-width, optionally split by spaces or hyphens
#: (``3501 0219 9001 0112 3X``, ``350102-19900101-123X``), glued to letters or Chinese.
_SEP = r"[ \u3000\-\u2010-\u2015\uff0d]?"
_DIGIT = r"[0-9\uff10-\uff19]"
_CANDIDATE = re.compile(
    rf"(?<![0-9\uff10-\uff19])(?:{_DIGIT}(?:{_SEP}{_DIGIT}){{16}}{_SEP}[0-9Xx\uff10-\uff19\uff38\uff58]"
    rf"|{_DIGIT}(?:{_SEP}{_DIGIT}){{14}})(?![0-9\uff10-\uff19Xx\uff38\uff58])"
)
_MASKED = re.compile(r"^([0-9]{4,6})([*＊]{4,14})([0-9]{3}[0-9Xx]|[0-9]{3})$")


def is_citizen_number(value: str) -> bool:
    """Whether ``value`` is a citizen ID number (18-character or legacy 15-digit).

    By shape first (``detect_kind``); an all-digit value that is a valid USCC and not a valid
    citizen number is a USCC.
    """
    text = value.strip()
    if detect_kind(text) != "ric":
        return False
    return not (len(text) == 18 and uscc.is_valid(text) and not ric.is_valid(text))


def mask_ric(value: str) -> str:
    """A citizen ID number with the middle starred (the caller knows it is one)."""
    text = value.strip()
    if len(text) == 18:
        return text[:4] + MASK * 10 + text[-4:]
    if len(text) == 15:
        return text[:4] + MASK * 8 + text[-3:]
    return MASK * len(text)


def mask_code(code: str | None) -> str | None:
    """A code as the public may see it: masked if it is a citizen ID number, else whole."""
    if code is None:
        return None
    return mask_ric(code) if is_citizen_number(code) else code


def mask_text(value: str) -> str:
    """Every citizen ID number inside ``value`` masked; codes of organisations left alone."""
    return _CANDIDATE.sub(_mask_candidate, value)


def _mask_candidate(match: re.Match[str]) -> str:
    found = match.group(0)
    number = ric.compact(found)
    if number == found.upper():
        return mask_ric(found) if is_citizen_number(found) else found
    # Written with separators or full-width digits: masked only when it is a valid number, so
    # phone numbers and dates written with hyphens are left alone.
    return mask_ric(number) if len(number) == 18 and ric.is_valid(number) else found


def city_of(region: str) -> str:
    """A six-digit region code cut to its city (``350102`` → ``350100``), or to its province
    where the city is not in the table: as far as the four digits a masked number shows."""
    city = region[0:4] + "00"
    return city if regions.lookup(city) is not None else region[0:2] + "0000"


def public_fields(
    fields: Mapping[str, Any], *, individual: bool, region_fields: Iterable[str] = ()
) -> dict[str, Any]:
    """A record's fields as the public may see them.

    Every citizen ID number is masked, whoever the record is about (an enterprise's record may
    name its legal representative's number); an individual's address and phone are dropped,
    and an individual's region fields (``region_fields``, the record type's ``region`` fields)
    are cut to the city, as the subject's own region is.
    """
    coarse = set(region_fields) if individual else set()
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if individual and is_private_field(name):
            continue
        if name in coarse and isinstance(value, str) and len(value) == 6 and value.isdigit():
            out[name] = city_of(value)
            continue
        out[name] = mask_text(value) if isinstance(value, str) else value
    return out


def masked_parts(text: str) -> tuple[str, str, int] | None:
    """A masked number as typed → (head, tail, full length) to search by; None if not one.

    ``3501**********123X`` → ``("3501", "123X", 18)``; ``110101********1234`` works too.
    """
    cleaned = text.strip().replace("＊", MASK).upper()
    match = _MASKED.match(cleaned)
    if match is None:
        return None
    head, stars, tail = match.groups()
    length = len(head) + len(stars) + len(tail)
    if length not in (15, 18) or (length == 15) != (len(tail) == 3):
        return None
    return head, tail, length
