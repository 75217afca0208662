"""Masking finds citizen ID numbers in free text in every form people write them (issue 16)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.codes import ric
from xinyong.disclose.masking import mask_ric, mask_text

_FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


@st.composite
def numbers(draw: st.DrawFn) -> str:
    first17 = draw(st.sampled_from(["350102", "110101", "440305"])) + draw(
        st.sampled_from(["19900101", "19851231", "20000229"])
    )
    first17 += draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return first17 + ric.check_character(first17)


def written(number: str, form: str) -> str:
    if form == "spaces":
        return " ".join(number[i : i + 4] for i in range(0, 18, 4))
    if form == "hyphens":
        return f"{number[:6]}-{number[6:14]}-{number[14:]}"
    if form == "full-width":
        return number.translate(_FULL_WIDTH)
    if form == "lower-x":
        return number.lower()
    return number


@settings(max_examples=200, deadline=None)
@given(
    number=numbers(),
    form=st.sampled_from(["plain", "spaces", "hyphens", "full-width", "lower-x"]),
    before=st.sampled_from(["", "身份证号", "ID", "id:", "号码 ", "\n"]),
    after=st.sampled_from(["", "住址", "abc", "，电话", " "]),
)
def test_every_written_form_is_masked(number: str, form: str, before: str, after: str) -> None:
    assert ric.is_valid(number)
    masked = mask_text(before + written(number, form) + after)
    # The county, birth date and sequence are starred; the surroundings are untouched.
    assert masked.upper() == (before + mask_ric(number) + after).upper()
    assert number[6:14] not in masked


def test_hyphenated_dates_and_phones_are_left_alone() -> None:
    text = "2024-03-05 电话 0591-8765-4321 金额 123456"
    assert mask_text(text) == text
