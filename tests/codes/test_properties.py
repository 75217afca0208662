"""Property tests: generated codes validate, single typing errors are caught, input normalised."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong import codes
from xinyong.codes import orgcode, ric, uscc

seeds = st.randoms(use_true_random=False)
SETTINGS = settings(max_examples=150, deadline=None)

# Which reasons a single error at each USCC position may produce (format → components → check).
_USCC_REASONS = (
    [{"charset", "authority", "category", "checksum"}] * 2
    + [{"charset", "region", "checksum"}] * 6
    + [{"charset", "org_checksum", "checksum"}] * 9
    + [{"charset", "checksum"}]
)


@SETTINGS
@given(seeds)
def test_generated_codes_validate(rng: random.Random) -> None:
    for scheme in (uscc, ric, orgcode):
        code = scheme.generate(rng)
        assert scheme.validate(code) == code
        assert scheme.is_valid(code)
        assert codes.check(code, kind=scheme.KIND).valid
    assert codes.check(uscc.generate(rng)).kind == "uscc"
    assert codes.check(ric.generate(rng)).kind == "ric"


@SETTINGS
@given(seeds, st.data())
def test_every_uscc_substitution_is_caught(rng: random.Random, data: st.DataObject) -> None:
    code = uscc.generate(rng)
    position = data.draw(st.integers(0, 17))
    replacement = data.draw(
        st.sampled_from(uscc.ALPHABET + "IOSVZ!").filter(lambda c: c != code[position])
    )
    typo = code[:position] + replacement + code[position + 1 :]
    problem = uscc.reason(typo)
    assert problem in _USCC_REASONS[position]


@SETTINGS
@given(seeds, st.data())
def test_every_ric_substitution_is_caught(rng: random.Random, data: st.DataObject) -> None:
    code = ric.generate(rng)
    position = data.draw(st.integers(0, 17))
    replacement = data.draw(st.sampled_from("0123456789X").filter(lambda c: c != code[position]))
    typo = code[:position] + replacement + code[position + 1 :]
    allowed = {"charset", "checksum"} | (
        {"region"} if position < 6 else {"birth_date"} if position < 14 else set()
    )
    assert ric.reason(typo) in allowed


@SETTINGS
@given(seeds, st.data())
def test_orgcode_substitution_is_caught_unless_eleven_apart(
    rng: random.Random, data: st.DataObject
) -> None:
    code = orgcode.generate(rng)
    position = data.draw(st.integers(0, 7))
    replacement = data.draw(st.sampled_from(orgcode.BODY_ALPHABET))
    old, new = (orgcode.BODY_ALPHABET.index(c) for c in (code[position], replacement))
    typo = code[:position] + replacement + code[position + 1 :]
    if (old - new) % 11 == 0:  # same weight mod 11, GB 11714 cannot see it (incl. no change)
        assert orgcode.is_valid(typo)
    else:
        assert orgcode.reason(typo) == "checksum"


def _transpositions(code: str) -> list[tuple[int, str]]:
    return [
        (i, code[:i] + code[i + 1] + code[i] + code[i + 2 :])
        for i in range(len(code) - 1)
        if code[i] != code[i + 1]  # swapping equal characters changes nothing
    ]


@SETTINGS
@given(seeds)
def test_every_adjacent_transposition_is_caught(rng: random.Random) -> None:
    for scheme in (uscc, ric):
        code = scheme.generate(rng)
        for _, typo in _transpositions(code):
            assert not scheme.is_valid(typo), (code, typo)


@SETTINGS
@given(seeds)
def test_dropped_character_is_a_length_error(rng: random.Random) -> None:
    for scheme in (uscc, ric):
        code = scheme.generate(rng)
        position = rng.randrange(len(code))
        assert scheme.reason(code[:position] + code[position + 1 :]) in {"length", "charset"}


_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


@SETTINGS
@given(seeds, st.sampled_from(["lower", "spaces", "hyphens", "full", "ideographic space"]))
def test_typed_forms_are_normalised(rng: random.Random, form: str) -> None:
    for scheme in (uscc, ric, orgcode):
        code = scheme.generate(rng)
        typed = {
            "lower": code.lower(),
            "spaces": " ".join(code[i : i + 4] for i in range(0, len(code), 4)),
            "hyphens": code[:6] + "-" + code[6:],
            "full": "".join(_FULL_WIDTH[c] for c in code),
            "ideographic space": "\u3000" + code + "\u3000",
        }[form]
        assert scheme.validate(typed) == code
        assert scheme.is_valid(typed)
        assert codes.check(typed, kind=scheme.KIND).code == code


@SETTINGS
@given(seeds)
def test_legacy_and_18_digit_forms_agree(rng: random.Random) -> None:
    code = ric.generate(rng)
    if code[6:8] != "19":
        return
    legacy = code[:6] + code[8:17]
    assert ric.is_valid(legacy)
    assert ric.to_18(legacy) == code
    assert ric.parse(legacy)["birth_date"] == ric.parse(code)["birth_date"]
