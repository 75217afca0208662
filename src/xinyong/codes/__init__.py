"""Identifier codes: one module per scheme, the same verbs everywhere.

- :mod:`~xinyong.codes.uscc` — unified social credit code, GB 32100-2015
- :mod:`~xinyong.codes.orgcode` — organisation code, GB 11714-1997
- :mod:`~xinyong.codes.ric` — citizen identity number, GB 11643-1999 (and the 15-digit form)
- :mod:`~xinyong.codes.regno` — enterprise registration number, GS15—2006 (never by shape:
  only ``kind="regno"``, since 15 digits is also a legacy citizen number)
- :mod:`~xinyong.codes.regions` — administrative division codes, GB/T 2260
- :mod:`~xinyong.codes.identifiers` — which scheme a code is in, normalised: the identifier a
  subject is found by (``identify``)

Each scheme module satisfies :class:`CodeScheme`. :func:`check` is the one entry point the CLI,
ingest and the API share: it never raises for bad input, it reports.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from xinyong.codes import normalise, orgcode, regions, regno, ric, uscc
from xinyong.errors import InvalidCode

Kind = Literal["uscc", "orgcode", "ric", "regno"]


class CodeScheme(Protocol):
    """The interface every scheme module offers (python-stdnum's verbs)."""

    KIND: str
    NAME_ZH: str
    NAME_EN: str

    def compact(self, code: str) -> str:
        """Strip separators, fold full-width and lower case."""

    def validate(self, code: str) -> str:
        """The compacted code, or raise a specific ``InvalidCode`` subclass."""

    def is_valid(self, code: str) -> bool:
        """True if ``validate`` would not raise."""

    def parse(self, code: str) -> dict[str, Any]:
        """Validate, then split into named fields."""

    def reason(self, code: str) -> str | None:
        """Fast path on a compacted code: the ``InvalidCode.reason``, or None when valid."""

    def generate(self, rng: random.Random) -> str:
        """A valid code, drawn with ``rng``."""


SCHEMES: dict[str, CodeScheme] = {
    "uscc": uscc,
    "orgcode": orgcode,
    "ric": ric,
    "regno": regno,
}


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The verdict on one code. ``reason`` is None when valid; ``fields`` empty when invalid."""

    code: str
    valid: bool
    kind: str | None
    reason: str | None
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "valid": self.valid,
            "kind": self.kind,
            "reason": self.reason,
            "fields": self.fields,
        }


def detect_kind(code: str) -> Kind | None:
    """The scheme a code looks like, by shape alone (after compaction), or None.

    18 characters with a letter before the last → USCC; 18 digits (last may be X) → a citizen
    number if it starts like a province and holds a plausible birth year, else USCC; 15 digits
    → legacy citizen number; 9 characters → organisation code.
    """
    try:
        code = normalise.compact(code)
    except InvalidCode:
        return None
    return _shape(code)


_PROVINCE_DIGITS = frozenset("12345678")


def _shape(code: str) -> Kind | None:
    length = len(code)
    if length == 18:
        if code[:17].isdigit() and code[:17].isascii() and code[17] in ric.DIGITS + "X":
            if code[0] in _PROVINCE_DIGITS and code[6:8] in ("18", "19", "20"):
                return "ric"
            return "uscc" if code[17] != "X" or code[:2] in _USCC_DIGIT_PREFIXES else "ric"
        return "uscc"
    if length == 15 and code.isdigit():
        return "ric"
    if length == 9:
        return "orgcode"
    return None


_USCC_DIGIT_PREFIXES = frozenset(p for p in uscc._PREFIXES if p.isdigit())


def _fields(kind: str, code: str) -> dict[str, Any]:
    parsed = SCHEMES[kind].parse(code)
    parsed.pop("code", None)
    return parsed


def check(code: str, kind: str = "auto") -> CodeCheck:
    """Check one code. ``kind``: ``uscc``, ``orgcode``, ``ric``, ``regno`` or ``auto`` (by
    shape, never ``regno``; an ambiguous 18-digit code counts as whichever scheme it is valid
    in). Never raises for bad input; raises ValueError for an unknown ``kind``."""
    if kind != "auto" and kind not in SCHEMES:
        raise ValueError(f"kind must be auto, {', '.join(SCHEMES)}, not {kind!r}")
    try:
        compacted = normalise.compact(code)
    except InvalidCode as exc:
        return CodeCheck(str(code), False, None if kind == "auto" else kind, exc.reason)
    chosen: str = kind
    if kind == "auto":
        shape = _shape(compacted)
        if shape is None:
            bad = "charset" if compacted.strip(orgcode.BODY_ALPHABET) else "length"
            return CodeCheck(compacted, False, None, bad)
        chosen = shape
    problem: str | None = SCHEMES[chosen].reason(compacted)
    if problem is not None and kind == "auto" and len(compacted) == 18:
        other = "uscc" if chosen == "ric" else "ric"
        if SCHEMES[other].reason(compacted) is None:
            chosen, problem = other, None
    if problem is not None:
        return CodeCheck(compacted, False, chosen, problem)
    return CodeCheck(compacted, True, chosen, None, _fields(chosen, compacted))


def check_many(codes: Iterable[str], kind: str = "auto") -> Iterator[CodeCheck]:
    """:func:`check` over an iterable, lazily (for files of millions of codes)."""
    for code in codes:
        yield check(code, kind)


__all__ = [
    "SCHEMES",
    "CodeCheck",
    "CodeScheme",
    "Kind",
    "check",
    "check_many",
    "detect_kind",
    "orgcode",
    "regions",
    "regno",
    "ric",
    "uscc",
]
