"""Junk in, a clear InvalidCode out: never another exception (python-stdnum's robustness test)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong import codes
from xinyong.codes import orgcode, regions, ric, uscc
from xinyong.errors import InvalidCode

JUNK: list[Any] = [
    "",
    " ",
    "-",
    "None",
    "null",
    "NaN",
    "undefined",
    "0",
    "😀" * 18,
    "9135010😀M000100Y43",
    "x" * 10_000,
    "9" * 10_000,
    "\x00" * 18,
    "91350100M000100Y4\x00",
    "\t\n\r\x0b\x0c",
    "\ud800" * 18,  # a lone surrogate
    "９１３５０１００Ｍ０００１００Ｙ４３\u200b",  # zero-width space
    "Ⅸ" * 18,
    "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨",  # Arabic-Indic digits: str.isdigit() says yes
    "１２３４５６７８９０１２３４５６７８",
    "+13501001234567890",
    "_1350100M000100Y43",
    "91350100M000100Y43 91350100M000100Y43",
    None,
    18,
    b"91350100M000100Y43",
    ["91350100M000100Y43"],
]

SCHEMES = [uscc, ric, orgcode]


@pytest.mark.parametrize("junk", JUNK, ids=lambda j: repr(j)[:20])
@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.KIND)
def test_junk_gives_invalid_code(scheme: Any, junk: Any) -> None:
    with pytest.raises(InvalidCode):
        scheme.validate(junk)
    with pytest.raises(InvalidCode):
        scheme.parse(junk)
    assert scheme.is_valid(junk) is False


@pytest.mark.parametrize("junk", JUNK, ids=lambda j: repr(j)[:20])
def test_check_reports_junk(junk: Any) -> None:
    for kind in ("auto", "uscc", "ric", "orgcode"):
        result = codes.check(junk, kind=kind)
        assert result.valid is False
        assert result.reason is not None
    assert codes.detect_kind(junk) in {None, "uscc", "ric", "orgcode"}
    if isinstance(junk, str):
        assert regions.lookup(junk) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_never_crashes(text: str) -> None:
    for scheme in SCHEMES:
        with contextlib.suppress(InvalidCode):
            scheme.validate(text)
        with contextlib.suppress(InvalidCode):
            scheme.parse(text)
    result = codes.check(text)
    assert isinstance(result.valid, bool)
