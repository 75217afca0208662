"""Registration numbers (GS15—2006): generated numbers validate, single typing errors are caught,
the reasons are stable, and a bare 15-digit number is never taken for one by shape."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong import codes
from xinyong.codes import regno, ric
from xinyong.codes.identifiers import identify, qualify
from xinyong.errors import InvalidBirthDate, InvalidCharset, InvalidChecksum, InvalidLength

seeds = st.randoms(use_true_random=False)
SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(seeds)
def test_generated_numbers_validate_and_parse(rng: random.Random) -> None:
    code = regno.generate(rng)
    assert regno.validate(code) == code
    assert regno.is_valid(code)
    assert codes.check(code, kind="regno").valid
    parsed = regno.parse(code)
    assert parsed["authority"] + parsed["sequence"] + parsed["check"] == code
    assert parsed["authority_name"]  # generated under a real county


@SETTINGS
@given(seeds, st.integers(0, 14), st.integers(1, 9))
def test_every_single_digit_change_is_caught(rng: random.Random, pos: int, delta: int) -> None:
    code = regno.generate(rng)
    typo = code[:pos] + str((int(code[pos]) + delta) % 10) + code[pos + 1 :]
    assert not regno.is_valid(typo)
    with pytest.raises(InvalidChecksum):
        regno.validate(typo)


def test_known_number_and_check_digit() -> None:
    # The example commentaries on GS15—2006 quote; its check digit agrees with ISO 7064 MOD 11,10.
    assert regno.check_digit("11010800000001") == "6"
    assert regno.parse("110108000000016")["authority_name"] == "北京市海淀区"


def test_compaction_folds_full_width_and_separators() -> None:
    assert regno.validate("１１０１０８ 0000-0001 6") == "110108000000016"


@pytest.mark.parametrize(
    ("text", "error", "reason"),
    [
        ("11010800000001A", InvalidCharset, "charset"),
        ("11010800000001", InvalidLength, "length"),
        ("1101080000000160", InvalidLength, "length"),
        ("110108000000017", InvalidChecksum, "checksum"),
    ],
)
def test_bad_numbers_raise_specific_errors(text: str, error: type[Exception], reason: str) -> None:
    with pytest.raises(error):
        regno.validate(text)
    assert regno.reason(regno.compact(text)) == reason
    assert codes.check(text, kind="regno").reason == reason


def test_auto_never_takes_a_bare_number_for_a_registration_number() -> None:
    assert codes.check("110108000000016").kind == "ric"
    assert codes.detect_kind("110108000000016") == "ric"


def test_only_a_qualified_number_identifies_as_a_registration_number() -> None:
    ident = identify(qualify("regno", "１１０１０８-000000016"))
    assert (ident.scheme, ident.value, ident.kind) == (
        "registration_no",
        "110108000000016",
        "enterprise",
    )
    assert ident.lookup_keys == [("registration_no", "110108000000016")]
    assert ident.code == "registration_no:110108000000016"
    assert identify(ident.code) == ident
    with pytest.raises(InvalidChecksum):
        identify(qualify("regno", "110108000000017"))
    # bare, the same digits are read as a first-generation citizen number (and fail as one)
    with pytest.raises(InvalidBirthDate):
        identify("110108000000016")
    legacy = ric.generate(random.Random(7))[:6] + "790602123"
    assert identify(legacy).scheme == "ric"
