"""Names as keys for finding candidates: normalised form, pinyin key, similarity.

A name never decides a link. These functions only rank candidates for a person to confirm.

``normalise``: full-width → half-width (NFKC), traditional → simplified (OpenCC ``t2s``),
spaces and punctuation removed, Latin lower-cased, and a trailing company form
(股份有限公司, 有限责任公司, 有限公司, …) dropped, so 北京華為技術有限公司 and
北京华为技术股份有限公司 share a key. ``分公司`` is kept: a branch is not its parent.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

# Longest first: the first that matches the end of a name is dropped.
COMPANY_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "股份合作公司",
    "有限合伙企业",
    "普通合伙企业",
    "个人独资企业",
    "有限公司",
    "合伙企业",
    "(有限合伙)",
    "(普通合伙)",
    "(个体工商户)",
    "个体工商户",
    "集团公司",
    "总公司",
    "公司",
)
_DROP = re.compile(r"[\s\u3000·•・.,，。、'\"“”‘’\-_/]+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _t2s_characters() -> frozenset[str] | None:
    """Every character in a key of the ``t2s`` dictionaries: a text with none of them is what
    the conversion returns unchanged (no key can match in it), so it is not converted. None,
    and every text converted, when the converter's tables are not as this reads them."""
    converter = _t2s()
    converter.convert("")  # loads the tables
    try:
        tables = [table for group in converter._dict_chain_data for table in group]
        if not tables or any(min_len < 1 for _max, min_len, _keys in tables):
            return None
        return frozenset(char for *_, keys in tables for key in keys for char in key)
    except (AttributeError, TypeError, ValueError):
        return None


@lru_cache(maxsize=65536)
def normalise(name: str) -> str:
    """The comparison form of a name (see the module docstring)."""
    text = unicodedata.normalize("NFKC", name)
    convertible = _t2s_characters()
    if convertible is None or not convertible.isdisjoint(text):
        text = _t2s().convert(text)
    text = _DROP.sub("", text).lower()
    text = text.replace("（", "(").replace("）", ")")
    for form in COMPANY_FORMS:
        if text.endswith(form) and len(text) > len(form):
            text = text[: -len(form)]
            break
    return text


#: Names up to this many characters (people's names) are read one character at a time.
PERSON_NAME_CHARS = 3


@lru_cache(maxsize=1 << 14)
def _syllable(char: str) -> str:
    return "".join(lazy_pinyin(char))


@lru_cache(maxsize=65536)
def pinyin_key(name: str) -> str:
    """Tone-less pinyin of the normalised name, syllables joined: 王伟 → ``wangwei``.

    A short name (most people's: up to ``PERSON_NAME_CHARS`` characters) is not a phrase: it is read
    character by character, each character's reading cached, which is some twenty times faster
    than segmenting it. A longer name (an organisation's) is read as phrases, so 重庆 is
    ``chongqing`` and 银行 ``yinhang``. Either way the key depends on the name alone.
    """
    text = normalise(name)
    if len(text) <= PERSON_NAME_CHARS:
        return "".join(_syllable(char) for char in text)
    return "".join(lazy_pinyin(text))


def similarity(a: str, b: str) -> float:
    """0–1: how alike two names are, on characters first, then on sound (pinyin)."""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    chars = fuzz.ratio(na, nb) / 100
    sound = fuzz.ratio(pinyin_key(a), pinyin_key(b)) / 100
    # Same sound, different characters (王伟 / 汪玮) is weaker evidence than shared characters.
    return round(max(chars, 0.9 * sound), 4)
