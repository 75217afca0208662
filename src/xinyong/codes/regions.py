"""Administrative division codes (GB/T 2260), current and historical.

The table lives in ``data/regions.tsv`` (sources in its header; ``scripts/update_regions.py``
regenerates it) and is loaded once, on first use. A historical code is still a valid code: old
companies and old ID numbers keep the code that was in force when they were issued.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Level = Literal["province", "prefecture", "county"]

# Prefecture-level rows that are placeholders, not places: left out of full names.
_PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政单位", "自治区直辖县级行政单位"})


@dataclass(frozen=True, slots=True)
class Region:
    """One GB/T 2260 code. ``historical``: no longer in the current list (still valid)."""

    code: str
    name: str
    full_name: str
    province_code: str
    province: str
    prefecture_code: str | None
    prefecture: str | None
    level: Level
    historical: bool
    in_use: str = ""
    """Years the code was in use (``1983-2010``, ``-2010``), when known; empty if current."""


def _level(code: str) -> Level:
    if code.endswith("0000"):
        return "province"
    return "prefecture" if code.endswith("00") else "county"


@dataclass(frozen=True, slots=True)
class _Table:
    by_code: dict[str, Region]
    valid: frozenset[str]
    current_by_level: dict[str, tuple[Region, ...]]


@cache
def _table() -> _Table:
    text = resources.files("xinyong.codes").joinpath("data/regions.tsv").read_text("utf-8")
    raw: dict[str, tuple[str, bool, str]] = {}
    lines = (line for line in text.splitlines() if line and not line.startswith("#"))
    next(lines)  # column names
    for line in lines:
        code, name, flag, in_use = line.split("\t")
        raw[code] = (name, flag == "1", in_use)

    by_code: dict[str, Region] = {}
    for code, (name, historical, in_use) in raw.items():
        level = _level(code)
        province_code = code[:2] + "0000"
        province = raw.get(province_code, ("", False, ""))[0]
        prefecture_code: str | None = None
        prefecture: str | None = None
        if level == "county":
            prefecture_code = code[:4] + "00"
            prefecture = raw[prefecture_code][0] if prefecture_code in raw else None
        elif level == "prefecture":
            prefecture_code, prefecture = code, name
        parts = [province]
        if level != "province":
            if prefecture and prefecture not in _PLACEHOLDERS and prefecture != province:
                parts.append(prefecture)
            if level == "county" and name not in _PLACEHOLDERS:
                parts.append(name)
        by_code[code] = Region(
            code=code,
            name=name,
            full_name="".join(parts),
            province_code=province_code,
            province=province,
            prefecture_code=prefecture_code,
            prefecture=prefecture,
            level=level,
            historical=historical,
            in_use=in_use,
        )
    current: dict[str, list[Region]] = {"province": [], "prefecture": [], "county": []}
    for region in by_code.values():
        if not region.historical:
            current[region.level].append(region)
    return _Table(
        by_code=by_code,
        valid=frozenset(by_code),
        current_by_level={level: tuple(rows) for level, rows in current.items()},
    )


def lookup(code: str) -> Region | None:
    """The region with this 6-digit code (current or historical), or None."""
    return _table().by_code.get(code)


def valid_codes() -> frozenset[str]:
    """Every known code, current and historical: the set validators test membership in."""
    return _table().valid


@cache
def valid_codes_ascii() -> frozenset[bytes]:
    """:func:`valid_codes` as ASCII bytes, for the validators' fast path."""
    return frozenset(code.encode() for code in valid_codes())


def current(level: str = "county") -> list[Region]:
    """Current regions of one level (``province``, ``prefecture`` or ``county``), by code."""
    rows = _table().current_by_level.get(level)
    if rows is None:
        raise ValueError(f"level must be province, prefecture or county, not {level!r}")
    return list(rows)


def province_of(code: str) -> Region | None:
    """The province-level region a code belongs to, or None if there is none."""
    return _table().by_code.get(code[:2] + "0000") if len(code) >= 2 else None


@cache
def _sampling() -> tuple[tuple[tuple[Region, ...], ...], tuple[int, ...]]:
    """Current counties grouped by province, and the provinces' 2020 census populations."""
    text = resources.files("xinyong.codes").joinpath("data/population.tsv").read_text("utf-8")
    lines = (line for line in text.splitlines() if line and not line.startswith("#"))
    next(lines)  # column names
    counties = current("county")
    groups: list[tuple[Region, ...]] = []
    weights: list[int] = []
    for line in lines:
        province_code, _name, population = line.split("\t")
        group = tuple(r for r in counties if r.province_code == province_code)
        if group:
            groups.append(group)
            weights.append(int(population))
    return tuple(groups), tuple(weights)


def sample(rng: random.Random) -> Region:
    """A current county-level region: province weighted by its 2020 census population (国家统计局
    第七次全国人口普查, ``data/population.tsv``), then a county of it uniformly."""
    groups, weights = _sampling()
    group = rng.choices(groups, weights=weights)[0]
    return rng.choice(group)
