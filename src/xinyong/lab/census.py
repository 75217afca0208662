"""Census weights for the synthetic population: provinces, ages, sex.

Facts from the Seventh National Population Census (2020), 国家统计局 communiqués of 2021-05-11
(sources in the headers of ``data/provinces.tsv`` and ``data/ages.tsv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

#: Male 723,339,956 and female 688,438,768 (communiqué no. 4): sex ratio 105.07.
MALE = 723_339_956
FEMALE = 688_438_768
MALE_SHARE = MALE / (MALE + FEMALE)
MAX_AGE = 99


def _read_tsv(name: str) -> list[list[str]]:
    text = resources.files("xinyong.lab").joinpath(f"data/{name}").read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return [line.split("\t") for line in lines[1:]]


@dataclass(frozen=True)
class Census:
    province_codes: tuple[str, ...]
    """Two-digit province codes, in table order."""
    province_p: npt.NDArray[np.float64]
    age_p: npt.NDArray[np.float64]
    """P(age = a) for a = 0 … MAX_AGE in completed years."""


@cache
def census() -> Census:
    rows = _read_tsv("provinces.tsv")
    counts = np.array([int(pop) for _, _, pop in rows], dtype=np.float64)
    ages = np.zeros(MAX_AGE + 1)
    for age_from, age_to, population, shape in _read_tsv("ages.tsv"):
        lo, hi = int(age_from), int(age_to)
        years = np.arange(lo, hi + 1, dtype=np.float64)
        weight = (hi + 1 - years) if shape == "falling" else np.ones_like(years)
        ages[lo : hi + 1] = int(population) * weight / weight.sum()
    return Census(
        province_codes=tuple(code for code, _, _ in rows),
        province_p=counts / counts.sum(),
        age_p=ages / ages.sum(),
    )
