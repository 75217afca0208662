"""The synthetic population: valid codes, census proportions, names at calibrated rates."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from xinyong.codes import ric, uscc
from xinyong.lab import name_model, organisations, people
from xinyong.lab.census import MALE_SHARE, census
from xinyong.lab.identifiers import Issued
from xinyong.lab.names import CALIBRATION_POPULATION

AT = date(2025, 12, 31)


@pytest.fixture(scope="module")
def folk() -> pa.Table:
    return people(np.random.default_rng(20250101), 100_000, at=AT)


@pytest.fixture(scope="module")
def orgs(folk: pa.Table) -> pa.Table:
    return organisations(np.random.default_rng(7), 20_000, folk, at=AT, first_id=100_001)


def test_every_citizen_number_is_valid_distinct_and_matches_sex_and_birth(folk: pa.Table) -> None:
    codes = folk.column("code").to_pylist()
    assert all(ric.is_valid(code) for code in codes)
    assert len(set(codes)) == len(codes)
    for row in folk.slice(0, 2000).to_pylist():
        assert row["code"][6:14] == row["birth_date"].strftime("%Y%m%d")
        assert (int(row["code"][16]) % 2 == 1) == (row["sex"] == "男")
        assert row["code"][:6] == row["region_code"]


def test_province_distribution_follows_the_census(folk: pa.Table) -> None:
    table = census()
    seen = Counter(code[:2] for code in folk.column("region_code").to_pylist())
    observed = np.array([seen.get(code, 0) for code in table.province_codes], dtype=float)
    expected = table.province_p * folk.num_rows
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    # 30 degrees of freedom: the 99.9th percentile of chi-square is 59.7
    assert chi2 < 59.7, chi2
    assert (
        observed[table.province_codes.index("44")] > observed[table.province_codes.index("54")] * 20
    )


def test_sex_ratio_and_age_structure(folk: pa.Table) -> None:
    male = np.array(folk.column("sex").to_pylist()) == "男"
    assert abs(male.mean() - MALE_SHARE) < 4 * np.sqrt(MALE_SHARE * (1 - MALE_SHARE) / male.size)
    births = folk.column("birth_date").to_numpy().astype("datetime64[D]")
    age = (np.datetime64(AT, "D") - births).astype(np.int64) / 365.2425
    child_share = float((age < 15).mean())
    assert abs(child_share - census().age_p[:15].sum()) < 0.01
    assert age.max() < 100


def test_homonyms_scale_with_population_as_calibrated(folk: pa.Table) -> None:
    model = name_model()
    # The anchor holds exactly; 王伟 is not an anchor and still lands near its reported count.
    assert round(model.expected_count("张伟", CALIBRATION_POPULATION)) == 290_607
    assert 0.85 < model.expected_count("王伟", CALIBRATION_POPULATION) / 281_568 < 1.15
    n = 200_000
    names = model.draw(np.random.default_rng(99), np.random.default_rng(98).random(n) < MALE_SHARE)
    counts = Counter(names)
    for full_name in ("王伟", "张伟", "李娜", "王芳"):
        expected = model.expected_count(full_name, n)
        assert abs(counts[full_name] - expected) < 4 * np.sqrt(expected) + 1, full_name
    # the most common full names are shared by dozens at n=200,000: homonyms are the point
    assert counts.most_common(1)[0][1] > 30
    assert counts["王伟"] > 0 and counts["王伟"] * 4 > model.expected_count("王伟", n)


def test_names_and_surnames_are_gbk_encodable(folk: pa.Table) -> None:
    for name in folk.column("name").to_pylist()[:20_000]:
        name.encode("gbk")


def test_organisations_have_valid_codes_and_adult_representatives(
    folk: pa.Table, orgs: pa.Table
) -> None:
    codes = orgs.column("code").to_pylist()
    assert all(uscc.is_valid(code) for code in codes)
    assert len({c[8:17] for c in codes}) == len(codes)
    by_id = {row["subject_id"]: row for row in folk.to_pylist()}
    kinds = Counter(orgs.column("kind").to_pylist())
    assert kinds["sole_trader"] > kinds["enterprise"] > kinds["organisation"]
    for row in orgs.slice(0, 3000).to_pylist():
        assert row["registered_on"] <= AT
        assert row["code"][2:8] == row["region_code"]
        if row["kind"] == "enterprise":
            assert row["code"][:2] == "91"
            assert row["name"].endswith(("公司", "（有限合伙）", "厂"))
        rep = by_id.get(row["legal_rep_id"])
        if rep is not None:
            assert rep["name"] == row["legal_rep_name"] and rep["code"] == row["legal_rep_code"]
            assert (row["registered_on"] - rep["birth_date"]).days >= 18 * 365


def test_issued_codes_detect_repeats_within_and_across_batches() -> None:
    issued = Issued()
    first = np.array([5, 3, 5, 9], dtype=np.int64)
    assert issued.clashes(first).tolist() == [False, False, True, False]
    issued.add(np.array([5, 3, 9], dtype=np.int64))
    assert issued.clashes(np.array([1, 9, 2], dtype=np.int64)).tolist() == [False, True, False]
