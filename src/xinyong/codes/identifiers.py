"""From a code as a department wrote it to the identifier a subject is found by.

The checks themselves belong to ``xinyong.codes``; this module only decides which scheme a code
is in, normalises it (a 15-digit citizen number of the first generation becomes its 18-digit
form; ``12345678-9`` becomes ``123456789``), and says what kind of subject it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xinyong import codes
from xinyong.codes import normalise, orgcode, ric
from xinyong.errors import InvalidCode


@dataclass(frozen=True)
class Identifier:
    scheme: str  # uscc | ric | orgcode
    value: str  # normalised
    kind: str  # the kind of subject a code of this shape names

    @property
    def orgcode(self) -> str | None:
        """The organisation code a USCC carries in positions 9–17, or the code itself."""
        if self.scheme == "uscc":
            return self.value[8:17]
        if self.scheme == "orgcode":
            return self.value
        return None

    @property
    def lookup_keys(self) -> list[tuple[str, str]]:
        """The ``(scheme, value)`` pairs a subject may be stored under, in the order to try:
        the code itself, then for a USCC the organisation code inside it (a subject first
        known by its old organisation code)."""
        keys = [(self.scheme, self.value)]
        if self.scheme == "uscc" and self.orgcode:
            keys.append(("orgcode", self.orgcode))
        return keys


def kind_of_uscc(code: str) -> str:
    """Subject kind from a USCC's registration authority (position 1) and category (position 2)."""
    authority, category = code[0], code[1]
    if authority == "9":
        return "sole_trader" if category == "2" else "enterprise"
    if authority == "1" and category == "1":
        return "government"
    return "organisation"


#: ``InvalidCode.reason`` → the class that carries its zh/en message.
_BY_REASON: dict[str, type[InvalidCode]] = {cls.reason: cls for cls in InvalidCode.__subclasses__()}


def code_error(reason: str) -> InvalidCode:
    """The error for a reason that ``xinyong.codes`` reported."""
    return _BY_REASON.get(reason, InvalidCode)()


@lru_cache(maxsize=1 << 17)
def reason_of(code: str) -> tuple[str | None, str, str | None]:
    """``(scheme, compacted code, reason)``: reason None when valid. Never raises; fast path.

    Cached: ingest checks a code when it validates a row and again when it links it, and the
    same people and firms recur across a file.
    """
    try:
        value = normalise.compact(code)
    except InvalidCode as error:
        return None, code, error.reason
    kind: str | None = codes.detect_kind(value)
    if kind is None:
        return None, value, "charset" if value.strip(orgcode.BODY_ALPHABET) else "length"
    problem = codes.SCHEMES[kind].reason(value)
    if problem is not None and len(value) == 18:
        other = "uscc" if kind == "ric" else "ric"
        if codes.SCHEMES[other].reason(value) is None:
            kind, problem = other, None
    return kind, value, problem


def identify(code: str) -> Identifier:
    """The identifier for ``code``; raises the ``InvalidCode`` subclass for its first failure."""
    kind, value, problem = reason_of(code)
    if problem is not None or kind is None:
        raise code_error(problem or "invalid")
    if kind == "uscc":
        return Identifier("uscc", value, kind_of_uscc(value))
    if kind == "ric":
        return Identifier("ric", ric.to_18(value) if len(value) == 15 else value, "individual")
    return Identifier("orgcode", value, "organisation")
