"""Masking goes by what a value is (a citizen number), never by length; reports read as Chinese.

Issue 6: the public report of an enterprise with an all-digit USCC showed
``subject_code: 9134**********7491`` inside its record details, as a run-on ``key: value`` line.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.process.conftest import PERSON, defaulter, make_loader, penalty

from xinyong.catalog import Catalog
from xinyong.disclose import issue_report, labels
from xinyong.disclose.masking import (
    is_citizen_number,
    mask_code,
    mask_text,
    masked_parts,
    public_fields,
)

AT = date(2024, 6, 3)
#: A valid USCC of digits only (as many are): shown whole.
DIGIT_USCC = "913401214985787491"
#: A valid USCC whose shape alone looks like a citizen number (province digit, "18" at 7–8).
LOOKALIKE_USCC = "111101180000000517"
LEGACY_ID = "350102820624462"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (PERSON, True),
        ("35010219820624462X", True),
        ("35010219820624462x", True),
        (LEGACY_ID, True),
        (DIGIT_USCC, False),
        (LOOKALIKE_USCC, False),
        ("91350100M000100Y43", False),
        ("12345678901234567", False),  # 17 digits: nothing
        ("", False),
        ("王伟", False),
        ("13800000000", False),
    ],
)
def test_is_citizen_number_by_what_the_value_is(value: str, expected: bool) -> None:
    assert is_citizen_number(value) is expected


def test_masking_leaves_organisation_codes_whole() -> None:
    assert mask_code(DIGIT_USCC) == DIGIT_USCC
    assert mask_code(LOOKALIKE_USCC) == LOOKALIKE_USCC
    assert mask_code(PERSON) == "3501**********4620"
    assert mask_code(LEGACY_ID) == "3501********462"
    assert mask_code(None) is None
    text = f"当事人 {DIGIT_USCC}，法定代表人身份证 {PERSON}，旧证 {LEGACY_ID}"
    assert mask_text(text) == (
        f"当事人 {DIGIT_USCC}，法定代表人身份证 3501**********4620，旧证 3501********462"
    )
    fields = {"subject_code": DIGIT_USCC, "legal_representative_code": PERSON}
    assert public_fields(fields, individual=False) == {
        "subject_code": DIGIT_USCC,
        "legal_representative_code": "3501**********4620",
    }


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3501**********4620", ("3501", "4620", 18)),
        ("350102********4620", ("350102", "4620", 18)),
        ("350102＊＊＊＊＊＊＊＊462x", ("350102", "462X", 18)),
        ("3501********462", ("3501", "462", 15)),
        ("3501*****4620", None),  # neither 15 nor 18 long
        ("35**************20", None),  # too little to search by
        ("王伟", None),
        (DIGIT_USCC, None),
        ("", None),
    ],
)
def test_masked_parts(typed: str, expected: tuple[str, str, int] | None) -> None:
    assert masked_parts(typed) == expected


def test_labels_fall_back_to_the_code_and_pick_the_language(catalog: Catalog) -> None:
    assert labels.label(labels.KINDS, "enterprise") == "企业"
    assert labels.label(labels.KINDS, "enterprise", "en") == "enterprise"
    assert labels.label(labels.STATUSES, "under_objection") == "异议处理中"
    assert labels.label(labels.STATUSES, "repaired") == "已修复"
    assert labels.label(labels.STATUSES, "something_new") == "something_new"
    assert labels.label(labels.STATUSES, None) == ""
    pairs = labels.details(
        catalog,
        "admin_penalty",
        {"severity": "serious", "fine_amount": "2.0", "facts": "", "extra_note": "x"},
    )
    assert pairs == [("罚款金额（万元）", "2.0"), ("失信程度", "严重"), ("Extra note", "x")]
    pairs_en = labels.details(catalog, "admin_penalty", {"severity": "serious"}, "en")
    assert pairs_en == [("Severity", "serious")]
    regions = labels.details(catalog, "judgment_defaulter", {"region": "350102"})
    assert regions == [("省份", "福建省福州市鼓楼区")]


@pytest.fixture()
def digit_enterprise(sqlite_engine: Engine, tmp_path: Path) -> Engine:
    load = make_loader(sqlite_engine, tmp_path)
    load(
        "admin_penalty",
        [
            penalty(
                DIGIT_USCC,
                "合肥市通尔科技（有限合伙）",
                "3401罚〔2024〕2203号",
                "2024-01-10",
                "严重",
            )
        ],
    )
    load("judgment_defaulter", [defaulter(PERSON, "王伟", "（2024）闽0102执9号")], source="court")
    return sqlite_engine


def test_public_report_of_an_enterprise_shows_its_code_whole(
    digit_enterprise: Engine, catalog: Catalog
) -> None:
    with digit_enterprise.begin() as conn:
        data, _ = issue_report(conn, catalog, DIGIT_USCC, fmt="json", at=AT)
        html, _ = issue_report(conn, catalog, DIGIT_USCC, fmt="html", at=AT)
        english, _ = issue_report(conn, catalog, DIGIT_USCC, fmt="html", lang="en", at=AT)
    report = json.loads(data)
    assert report["identity"]["code"] == DIGIT_USCC
    assert report["records"][0]["fields"]["subject_code"] == DIGIT_USCC
    assert "*" not in data.decode()
    text = html.decode()
    assert "*" not in text and DIGIT_USCC in text
    # Chinese words, not codes; a two-column list, not a run-on line; no internal ids.
    assert "企业" in text and "有效" in text
    assert '<th class="label">失信程度</th><td>严重</td>' in text
    assert '<th class="label">处罚机关</th><td>福州市市场监督管理局</td>' in text
    for code in ("enterprise", "active", "serious", "subject_code", "severity", " · severity"):
        assert code not in re.sub(r"<[^>]+>", " ", text.split("<body>")[1]), code
    assert f">{report['records'][0]['id']}<" not in text
    english_text = english.decode()
    assert '<th class="label">Severity</th><td>serious</td>' in english_text
    assert "in force" in english_text and "失信程度" not in english_text


def test_public_report_of_a_person_masks_only_the_person(
    digit_enterprise: Engine, catalog: Catalog
) -> None:
    with digit_enterprise.begin() as conn:
        html, _ = issue_report(conn, catalog, PERSON, fmt="html", at=AT)
    text = html.decode()
    assert PERSON not in text and "3501**********4620" in text
    assert "个人" in text and "身份证号码" in text


def test_stored_bilingual_text_shows_the_half_in_the_language() -> None:
    assert labels.label(labels.PURPOSES, "异议申请 / objection") == "异议申请"
    assert labels.label(labels.PURPOSES, "异议申请 / objection", "en") == "objection"
    assert labels.label(labels.PURPOSES, "self_service", "en") == "own file"
    assert labels.bilingual("a/b") == "a/b"
