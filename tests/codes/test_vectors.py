"""Known codes from the standards and public documents, and hand-computed vectors."""

from __future__ import annotations

import datetime
import random

import pytest

from xinyong import codes
from xinyong.codes import orgcode, regions, ric, uscc
from xinyong.errors import (
    InvalidAuthority,
    InvalidBirthDate,
    InvalidCategory,
    InvalidCharset,
    InvalidChecksum,
    InvalidCode,
    InvalidLength,
    InvalidOrgChecksum,
    InvalidRegion,
)

# Seen on public documents (codes.md).
PUBLIC_USCCS = ["91350100M000100Y43", "914403001922038216"]


def reference_uscc_check(first17: str) -> str:
    """GB 32100 check character, written straight from codes.md (a slow second opinion)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(ch) * w for ch, w in zip(first17, weights, strict=True))
    return alphabet[(31 - total % 31) % 31]


@pytest.mark.parametrize("code", PUBLIC_USCCS)
def test_public_usccs_are_valid(code: str) -> None:
    assert uscc.validate(code) == code
    assert uscc.is_valid(code)
    assert reference_uscc_check(code[:17]) == code[17]


def test_parse_uscc_names_every_part() -> None:
    parsed = uscc.parse("91350100M000100Y43")
    assert parsed["authority"] == {"code": "9", "name_zh": "工商", "name_en": "market regulation"}
    assert parsed["category"] == {"code": "1", "name_zh": "企业", "name_en": "enterprise"}
    assert parsed["region"] == {"code": "350100", "name": "福建省福州市", "historical": False}
    assert parsed["orgcode"] == "M000100Y4"
    assert orgcode.is_valid(parsed["orgcode"])


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("91350100M000100Y44", InvalidChecksum),
        ("91350100M000100Y4", InvalidLength),
        ("91350100M000100Y433", InvalidLength),
        ("91350100M000100I43", InvalidCharset),  # I is not in the alphabet
        ("9135010OM000100Y43", InvalidCharset),  # nor O
        ("91350100M000100Y4!", InvalidCharset),
        ("B1350100M000100Y43", InvalidAuthority),
        ("0135010000000000X0", InvalidAuthority),
        ("94350100M000100Y43", InvalidCategory),  # 9 has categories 1-3 only
        ("Y2350100M000100Y43", InvalidCategory),  # Y has category 1 only
        ("91990100M000100Y43", InvalidRegion),
        ("91350100M000100Y53", InvalidOrgChecksum),
    ],
)
def test_uscc_failures_name_their_reason(code: str, error: type[InvalidCode]) -> None:
    with pytest.raises(error) as caught:
        uscc.validate(code)
    assert caught.value.reason == error.reason
    assert not uscc.is_valid(code)


def test_charset_is_checked_before_length() -> None:
    with pytest.raises(InvalidCharset):
        uscc.validate("91350100M000100I4")  # too short and a bad character: format first


def _with_check(first17: str) -> str:
    return first17 + uscc.check_character(first17)


@pytest.mark.parametrize("authority", ["A", "N", "Y"])
def test_letter_authorities_are_valid(authority: str) -> None:
    # python-stdnum 2.2 rejects these: it wants eight leading digits.
    category = "1"
    code = _with_check(f"{authority}{category}350100" + "M000100Y4")
    assert uscc.is_valid(code)
    assert uscc.parse(code)["authority"]["code"] == authority


def test_central_registrations_use_region_100000() -> None:
    code = _with_check("11100000" + "000013127")
    assert orgcode.is_valid("000013127")
    assert uscc.parse(code)["region"]["code"] == "100000"


def test_historical_region_is_valid_and_flagged() -> None:
    code = _with_check("91110103" + "M000100Y4")  # 北京市崇文区, merged into 东城区 in 2010
    parsed = uscc.parse(code)
    assert parsed["region"] == {"code": "110103", "name": "北京市崇文区", "historical": True}
    result = codes.check(code)
    assert result.valid
    assert result.fields["region"]["historical"] is True


# Citizen numbers: check characters computed by hand from codes.md (weights 7 9 10 5 8 4 2 1 6
# 3 7 9 10 5 8 4 2; check = "10X98765432"[Σ mod 11]).
# 11010519491231002: 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 → X.
# 44052418800101001: 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195; 195 mod 11 = 8 → 4.
RIC_VECTORS = {
    "11010519491231002X": ("110105", "1949-12-31", "female"),
    "440524188001010014": ("440524", "1880-01-01", "male"),
}


@pytest.mark.parametrize(("code", "expected"), RIC_VECTORS.items())
def test_ric_hand_vectors(code: str, expected: tuple[str, str, str]) -> None:
    parsed = ric.parse(code)
    assert (parsed["region"]["code"], parsed["birth_date"], parsed["sex"]) == expected
    assert ric.check_character(code[:17]) == code[17]


def test_ric_lower_case_x_is_normalised() -> None:
    assert ric.validate("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("110105194912310021", InvalidChecksum),
        ("11010519491231002", InvalidLength),
        ("1101051949123100X2", InvalidCharset),
        ("999999194912310021", InvalidRegion),
        ("110105194902300028", InvalidBirthDate),  # 30 February
        ("110105187912310020", InvalidBirthDate),  # before 1880
    ],
)
def test_ric_failures(code: str, error: type[InvalidCode]) -> None:
    first17 = code[:17]
    if error is not InvalidChecksum and len(code) == 18 and first17.isdigit():
        code = first17 + ric.check_character(first17)  # only the named check may fail
    with pytest.raises(error):
        ric.validate(code)


def test_ric_birth_date_in_the_future_is_invalid() -> None:
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    first17 = f"110105{tomorrow:%Y%m%d}002"
    with pytest.raises(InvalidBirthDate):
        ric.validate(first17 + ric.check_character(first17))
    today = datetime.date.today()
    first17 = f"110105{today:%Y%m%d}002"
    assert ric.is_valid(first17 + ric.check_character(first17))


def test_legacy_15_digit_form() -> None:
    legacy = "110105491231002"
    assert ric.validate(legacy) == legacy
    assert ric.to_18(legacy) == "11010519491231002X"
    parsed = ric.parse(legacy)
    assert parsed["legacy"] is True
    assert parsed["birth_date"] == "1949-12-31"
    with pytest.raises(InvalidBirthDate):
        ric.validate("110105491331002")  # month 13
    with pytest.raises(InvalidRegion):
        ric.validate("999999491231002")


def test_ric_historical_region_is_valid() -> None:
    code = "440524188001010014"  # 潮阳县, in use 1983-1993
    assert ric.parse(code)["region"]["historical"] is True


def test_orgcode_vectors() -> None:
    # D2143569: 13·3 + 2·7 + 1·9 + 4·10 + 3·5 + 5·8 + 6·4 + 9·2 = 199; 199 mod 11 = 1; 11-1 = 10 → X
    assert orgcode.validate("D2143569-X") == "D2143569X"
    assert orgcode.parse("d2143569-x") == {"code": "D2143569X", "body": "D2143569", "check": "X"}
    with pytest.raises(InvalidChecksum):
        orgcode.validate("D21435690")
    with pytest.raises(InvalidLength):
        orgcode.validate("D2143569")
    with pytest.raises(InvalidCharset):
        orgcode.validate("D2143569Y")


def test_orgcode_with_z_takes_the_slow_path() -> None:
    body = "ZZZZ1234"
    check = orgcode.body_check(body)
    assert check is not None
    assert orgcode.is_valid(body + check)


def test_orgcode_mod_11_misses_substitutions_eleven_apart() -> None:
    # A limit of GB 11714 itself, not of this code: 1 (value 1) and C (value 12) weigh the same
    # mod 11, so this substitution keeps the check character. Inside a USCC the mod-31 check
    # catches it.
    assert orgcode.is_valid("D2143569X") and orgcode.is_valid("D2C43569X")
    assert not uscc.is_valid("91350100M0001C0Y43")


def test_detect_kind_by_shape() -> None:
    assert codes.detect_kind("91350100M000100Y43") == "uscc"
    assert codes.detect_kind("914403001922038216") == "uscc"
    assert codes.detect_kind("11010519491231002X") == "ric"
    assert codes.detect_kind("110105491231002") == "ric"
    assert codes.detect_kind("D2143569-X") == "orgcode"
    assert codes.detect_kind("123") is None
    assert codes.detect_kind("") is None


def test_check_dict_shape() -> None:
    valid = codes.check("91350100M000100Y43").to_dict()
    assert set(valid) == {"code", "valid", "kind", "reason", "fields"}
    assert valid["valid"] is True and valid["reason"] is None
    assert set(valid["fields"]) >= {"region", "authority", "category", "orgcode"}
    person = codes.check("11010519491231002X").to_dict()
    assert person["kind"] == "ric"
    assert set(person["fields"]) >= {"region", "birth_date", "sex"}
    bad = codes.check("91350100M000100Y44").to_dict()
    assert bad == {
        "code": "91350100M000100Y44",
        "valid": False,
        "kind": "uscc",
        "reason": "checksum",
        "fields": {},
    }


def test_check_with_a_forced_kind() -> None:
    assert codes.check("91350100M000100Y43", kind="ric").reason == "charset"
    assert codes.check("914403001922038216", kind="ric").reason == "region"
    assert codes.check("11010519491231002X", kind="uscc").reason == "region"  # 010519
    with pytest.raises(ValueError, match="kind"):
        codes.check("x", kind="iban")


def test_generate_honours_its_arguments() -> None:
    rng = random.Random(7)
    code = uscc.generate(rng, region="350100", authority="N", category="2")
    assert code.startswith("N2350100") and uscc.is_valid(code)
    assert uscc.generate(rng, authority="5")[0] == "5"
    assert uscc.generate(rng, category="3")[1] == "3"
    person = ric.generate(rng, region="110103", birth_date=datetime.date(1970, 5, 6), sex="male")
    assert person.startswith("11010319700506")
    assert int(person[16]) % 2 == 1
    assert ric.parse(person)["sex"] == "male"
    with pytest.raises(InvalidAuthority):
        uscc.generate(rng, authority="B")
    with pytest.raises(InvalidCategory):
        uscc.generate(rng, authority="9", category="9")
    with pytest.raises(InvalidRegion):
        uscc.generate(rng, region="999999")
    with pytest.raises(InvalidBirthDate):
        ric.generate(rng, birth_date=datetime.date(1870, 1, 1))


def test_default_generator_mix_looks_like_the_register() -> None:
    rng = random.Random(11)
    sample = [uscc.generate(rng) for _ in range(2000)]
    sole_traders = sum(code.startswith("92") for code in sample)
    enterprises = sum(code.startswith("91") for code in sample)
    assert sole_traders > enterprises > 0.2 * len(sample)
    provinces = {regions.province_of(code[2:8]) for code in sample}
    assert len(provinces) > 20  # spread over the country
