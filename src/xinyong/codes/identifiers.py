"""From a code as a department wrote it to the identifier a subject is found by.

The checks themselves belong to ``xinyong.codes``; this module only decides which scheme a code
is in, normalises it (a 15-digit citizen number of the first generation becomes its 18-digit
form; ``12345678-9`` becomes ``123456789``), and says what kind of subject it names.

A registration number (:mod:`xinyong.codes.regno`) has the shape of a first-generation citizen
number, so it is never identified by shape: a column that holds one (the catalog's ``code_from``
names the scheme) passes it on *qualified*, ``registration_no:110108000000016``
(:func:`qualify`), and only that form identifies as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xinyong import codes
from xinyong.codes import normalise, orgcode, regno, ric
from xinyong.errors import InvalidCode


@dataclass(frozen=True)
class Identifier:
    scheme: str  # uscc | ric | orgcode | registration_no
    value: str  # normalised
    kind: str  # the kind of subject a code of this shape names

    @property
    def code(self) -> str:
        """The code as it identifies again (``identify(i.code) == i``): the value, qualified
        where shape cannot tell its scheme (``registration_no:110108000000016``)."""
        kind = _KIND_OF_SCHEME.get(self.scheme)
        return qualify(kind, self.value) if kind else self.value

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


#: The scheme a registration number is stored under (``subject_identifiers.scheme``, as the
#: store has named it since its first migration).
REGNO_SCHEME = "registration_no"
#: Code kind (``xinyong.codes.SCHEMES``) → the scheme a qualified code names.
_QUALIFIED = {regno.KIND: REGNO_SCHEME}
_KIND_OF_SCHEME = {scheme: kind for kind, scheme in _QUALIFIED.items()}


def qualify(kind: str, value: str) -> str:
    """A code whose scheme its column names, in the form :func:`identify` takes it by that
    scheme alone: ``qualify("regno", "110108000000016")`` → ``registration_no:110108000000016``.
    ``kind`` is a code kind that shape cannot tell (only ``regno``)."""
    return f"{_QUALIFIED[kind]}:{value}"


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
    A qualified code (:func:`qualify`) is checked by its scheme only.

    Cached: ingest checks a code when it validates a row and again when it links it, and the
    same people and firms recur across a file.
    """
    scheme, colon, rest = code.partition(":") if isinstance(code, str) else ("", "", "")
    if colon and scheme in _KIND_OF_SCHEME:
        value = normalise.compact(rest)
        return scheme, value, codes.SCHEMES[_KIND_OF_SCHEME[scheme]].reason(value)
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
    if kind == REGNO_SCHEME:
        # issued by the administrations for industry and commerce to enterprises (and sole
        # traders, whose 行政相对人类别 says so: ingest passes that kind over this one)
        return Identifier(REGNO_SCHEME, value, "enterprise")
    if kind == "ric":
        return Identifier("ric", ric.to_18(value) if len(value) == 15 else value, "individual")
    return Identifier("orgcode", value, "organisation")
