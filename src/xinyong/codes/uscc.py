"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from ``0-9 A-H J-N P-R T U W-Y``: registration authority (1), organisation
category (2, valid only for its authority), region of the registering office (3–8, GB/T 2260),
organisation code (9–17, GB 11714, with its own check character), check character (18,
GB/T 17710 modulo 31 with weights 3^(i-1) mod 31).

Checks run in a fixed order: characters → length → authority → category → region →
organisation code check → check character. The hot path (:func:`reason`) does dictionary
lookups on precomputed tables and raises nothing; :func:`validate` raises from its answer.
"""

from __future__ import annotations

import random
from typing import Any

from xinyong.codes import normalise, orgcode, regions
from xinyong.errors import (
    InvalidAuthority,
    InvalidCategory,
    InvalidCode,
    InvalidRegion,
    invalid_code,
)

KIND = "uscc"
NAME_ZH = "统一社会信用代码"
NAME_EN = "unified social credit code"

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (*(pow(3, i, 31) for i in range(17)), 1)  # check character counts once

# GB 32100-2015 appendix: authority → (names, {category: names}).
AUTHORITIES: dict[str, tuple[str, str, dict[str, tuple[str, str]]]] = {
    "1": (
        "机构编制",
        "establishment office",
        {
            "1": ("机关", "government body"),
            "2": ("事业单位", "public institution"),
            "3": ("中央编办直接管理机构编制的群众团体", "mass organisation (central staffing)"),
            "9": ("其他", "other"),
        },
    ),
    "2": (
        "外交",
        "foreign affairs",
        {"1": ("外国常住新闻机构", "resident foreign news agency"), "9": ("其他", "other")},
    ),
    "3": (
        "司法行政",
        "justice administration",
        {
            "1": ("律师执业机构", "law firm"),
            "2": ("公证处", "notary office"),
            "3": ("基层法律服务所", "grassroots legal service office"),
            "4": ("司法鉴定机构", "judicial appraisal institution"),
            "5": ("仲裁委员会", "arbitration commission"),
            "9": ("其他", "other"),
        },
    ),
    "4": (
        "文化",
        "culture",
        {"1": ("外国在华文化中心", "foreign cultural centre in China"), "9": ("其他", "other")},
    ),
    "5": (
        "民政",
        "civil affairs",
        {
            "1": ("社会团体", "social organisation"),
            "2": ("民办非企业单位", "private non-enterprise unit"),
            "3": ("基金会", "foundation"),
            "9": ("其他", "other"),
        },
    ),
    "6": (
        "旅游",
        "tourism",
        {
            "1": ("外国旅游部门常驻代表机构", "resident office of a foreign tourism authority"),
            "2": (
                "港澳台地区旅游部门常驻内地(大陆)代表机构",
                "resident office of a Hong Kong, Macao or Taiwan tourism authority",
            ),
            "9": ("其他", "other"),
        },
    ),
    "7": (
        "宗教",
        "religious affairs",
        {
            "1": ("宗教活动场所", "place of religious activity"),
            "2": ("宗教院校", "religious school"),
            "9": ("其他", "other"),
        },
    ),
    "8": (
        "工会",
        "trade unions",
        {"1": ("基层工会", "grassroots trade union"), "9": ("其他", "other")},
    ),
    "9": (
        "工商",
        "market regulation",
        {
            "1": ("企业", "enterprise"),
            "2": ("个体工商户", "sole trader"),
            "3": ("农民专业合作社", "farmers' specialised cooperative"),
        },
    ),
    "A": (
        "中央军委改革和编制办公室",
        "CMC reform and establishment office",
        {"1": ("军队事业单位", "military public institution"), "9": ("其他", "other")},
    ),
    "N": (
        "农业",
        "agriculture",
        {
            "1": ("组级集体经济组织", "group-level collective economic organisation"),
            "2": ("村级集体经济组织", "village-level collective economic organisation"),
            "3": ("乡镇级集体经济组织", "township-level collective economic organisation"),
            "9": ("其他", "other"),
        },
    ),
    "Y": ("其他", "other", {"1": ("其他", "other")}),
}
_PREFIXES = frozenset(a + c for a, (_, _, cats) in AUTHORITIES.items() for c in cats)

# Registrations by central authorities carry 100000 (国家级) in positions 3–8: not a GB/T 2260
# division, but valid in a USCC.
CENTRAL_REGION = "100000"


# Fast checksum: map each character to the base-34 digit of its value; since 34 ≡ 3 (mod 31),
# int(first 17 reversed, 34) ≡ Σ value · 3^(i-1) (mod 31), all in C.
_BASE34 = "0123456789ABCDEFGHIJKLMNOPQRSTU"
_INVALID = b"~"
_TO_BASE34 = bytes(
    ord(_BASE34[ALPHABET.index(chr(b))]) if chr(b) in ALPHABET else _INVALID[0] for b in range(256)
)
_VALUE = [ALPHABET.index(chr(b)) if chr(b) in ALPHABET else -1 for b in range(256)]
_ALPHABET_BYTES = ALPHABET.encode()
_PREFIXES_ASCII = frozenset(p.encode() for p in _PREFIXES)
_AUTHORITY_BYTES = frozenset(ord(a) for a in AUTHORITIES)
_CENTRAL_ASCII = CENTRAL_REGION.encode()


def compact(code: str) -> str:
    """Strip spaces and hyphens, fold full-width and lower case to the bare 18 characters."""
    return normalise.compact(code)


def check_character(first17: str) -> str:
    """The check character (position 18) for the first 17 characters."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=False))
    return ALPHABET[-total % 31]


def reason(code: str) -> str | None:
    """Why a compacted code is invalid (an ``InvalidCode.reason``), or None if it is valid."""
    return reason_ascii(code.encode("utf-8", "surrogatepass"))


def reason_ascii(code: bytes) -> str | None:
    """:func:`reason` on compacted bytes (see :func:`normalise.compact_bytes`): the hot path."""
    if len(code) != 18:
        return "charset" if code.strip(_ALPHABET_BYTES) else "length"
    digits = code.translate(_TO_BASE34)
    if _INVALID in digits:
        return "charset"
    if code[:2] not in _PREFIXES_ASCII:
        return "category" if code[0] in _AUTHORITY_BYTES else "authority"
    region = code[2:8]
    if region not in regions.valid_codes_ascii() and region != _CENTRAL_ASCII:
        return "region"
    if orgcode.body_check_fast(code[8:16]) != code[16]:
        return "org_checksum"
    return None if (int(digits[16::-1], 34) + _VALUE[code[17]]) % 31 == 0 else "checksum"


def validate(code: str) -> str:
    """The compacted code if valid; else raises the InvalidCode subclass for the first failure."""
    code = compact(code)
    problem = reason(code)
    if problem is not None:
        raise invalid_code(problem)
    return code


def is_valid(code: str) -> bool:
    """True if ``code`` is a valid USCC (after compaction)."""
    try:
        return reason_ascii(normalise.compact_bytes(code)) is None
    except InvalidCode:
        return False


def region_fields(code: str) -> dict[str, Any]:
    """``{code, name, historical}`` for the region part of a USCC (or a citizen number)."""
    if code == CENTRAL_REGION:
        return {"code": code, "name": "国家级 / central", "historical": False}
    found = regions.lookup(code)
    if found is None:
        return {"code": code, "name": None, "historical": False}
    return {"code": code, "name": found.full_name, "historical": found.historical}


def parse_prefix(prefix: str) -> dict[str, Any]:
    """``authority`` and ``category`` fields of a valid two-character prefix."""
    auth_zh, auth_en, categories = AUTHORITIES[prefix[0]]
    cat_zh, cat_en = categories[prefix[1]]
    return {
        "authority": {"code": prefix[0], "name_zh": auth_zh, "name_en": auth_en},
        "category": {"code": prefix[1], "name_zh": cat_zh, "name_en": cat_en},
    }


def parse(code: str) -> dict[str, Any]:
    """Validate and split into authority, category, region and organisation code."""
    code = validate(code)
    return {
        "code": code,
        **parse_prefix(code[:2]),
        "region": region_fields(code[2:8]),
        "orgcode": code[8:17],
        "check": code[17],
    }


# Rough shares of the register by authority/category (order of magnitude, from published
# totals: ~125 M sole traders, ~60 M enterprises, ~2 M cooperatives, ~0.9 M social
# organisations, ~1 M rural collectives, …). Used only to make generated codes look real.
_MIX: tuple[tuple[str, float], ...] = (
    ("92", 0.640),
    ("91", 0.310),
    ("93", 0.011),
    ("81", 0.008),
    ("52", 0.0028),
    ("51", 0.0020),
    ("53", 0.0002),
    ("12", 0.0040),
    ("11", 0.0030),
    ("13", 0.0001),
    ("N2", 0.0040),
    ("N3", 0.0004),
    ("N1", 0.0100),
    ("31", 0.0020),
    ("33", 0.0010),
    ("71", 0.0030),
    ("Y1", 0.0002),
    ("A1", 0.0001),
)
_MIX_PREFIXES = tuple(prefix for prefix, _ in _MIX)
_MIX_WEIGHTS = tuple(weight for _, weight in _MIX)


def generate(
    rng: random.Random,
    *,
    region: str | None = None,
    authority: str | None = None,
    category: str | None = None,
) -> str:
    """A valid USCC. Defaults: authority/category in roughly the register's mix, region a current
    county weighted by province population. Raises InvalidAuthority, InvalidCategory or
    InvalidRegion for arguments that no valid code could carry."""
    if authority is not None and authority not in AUTHORITIES:
        raise InvalidAuthority(authority)
    if authority is None and category is None:
        prefix: str = rng.choices(_MIX_PREFIXES, weights=_MIX_WEIGHTS)[0]
    elif authority is None:
        choices = sorted(p for p in _PREFIXES if p[1] == category)
        if not choices:
            raise InvalidCategory(category)
        prefix = "91" if "91" in choices and category == "1" else rng.choice(choices)
    elif category is None:
        prefix = authority + rng.choice(sorted(AUTHORITIES[authority][2]))
    else:
        prefix = authority + category
        if prefix not in _PREFIXES:
            raise InvalidCategory(prefix)
    if region is None:
        region = regions.sample(rng).code
    elif region != CENTRAL_REGION and region not in regions.valid_codes():
        raise InvalidRegion(region)
    org = orgcode.generate(rng)
    first17 = prefix + region + org
    return first17 + check_character(first17)
