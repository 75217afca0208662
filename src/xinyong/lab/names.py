"""Full names for the synthetic population, with homonyms at their real rate.

Surnames come from ``data/surnames.tsv`` (per-cent shares from PyPI ``faker``'s zh_CN table,
extracted by ``scripts/update_names.py``), renormalised to 100%. Given names have no official
frequency table, so they are *modelled* (``data/given_names.tsv`` holds the ranked lists):

- with probability ``alpha[sex]`` a *whole* given name (伟, 秀英 …), drawn by rank ``r`` with
  weight ``r ** -WHOLE_EXPONENT``;
- otherwise two *characters*, each drawn by rank with weight ``r ** -CHAR_EXPONENT``, the second
  different from the first (a long tail of rarer names).

``alpha`` is solved at load time so that, in a population of ``CALIBRATION_POPULATION`` with the
census sex ratio, the expected number of 张伟 is 290,607 and of 李娜 270,000 (see
``docs/lab.md`` for the arithmetic). Surname and given name are drawn independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

from xinyong.lab.census import MALE_SHARE

WHOLE_EXPONENT = 0.5
CHAR_EXPONENT = 0.3
CALIBRATION_POPULATION = 1_400_000_000
#: Anchors: (full name, sex, expected holders in CALIBRATION_POPULATION).
CALIBRATION_TARGETS = (("张伟", "M", 290_607), ("李娜", "F", 270_000))

Sex = str  # "M" or "F"


def _read_tsv(name: str) -> list[list[str]]:
    text = resources.files("xinyong.lab").joinpath(f"data/{name}").read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return [line.split("\t") for line in lines[1:]]


def _zipf(n: int, exponent: float) -> npt.NDArray[np.float64]:
    weights: npt.NDArray[np.float64] = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    shares: npt.NDArray[np.float64] = weights / weights.sum()
    return shares


@dataclass(frozen=True)
class _SexModel:
    alpha: float
    whole: npt.NDArray[np.str_]
    whole_p: npt.NDArray[np.float64]
    chars: npt.NDArray[np.str_]
    char_p: npt.NDArray[np.float64]

    def probability(self, given: str) -> float:
        """P(given name | sex) under the mixture, counting both ways a name can arise."""
        p = 0.0
        hits = np.flatnonzero(self.whole == given)
        if hits.size:
            p += self.alpha * float(self.whole_p[hits[0]])
        if len(given) == 2 and given[0] != given[1]:
            first = np.flatnonzero(self.chars == given[0])
            second = np.flatnonzero(self.chars == given[1])
            if first.size and second.size:
                p1 = float(self.char_p[first[0]])
                p += (1 - self.alpha) * p1 * float(self.char_p[second[0]]) / (1 - p1)
        return p


@dataclass(frozen=True)
class NameModel:
    """Surname and given-name distributions; ``draw`` is vectorised, ``probability`` exact."""

    surnames: npt.NDArray[np.str_]
    surname_p: npt.NDArray[np.float64]
    by_sex: dict[Sex, _SexModel]

    def surname_probability(self, surname: str) -> float:
        hits = np.flatnonzero(self.surnames == surname)
        return float(self.surname_p[hits[0]]) if hits.size else 0.0

    def probability(self, full_name: str, sex: Sex) -> float:
        """P(full name | sex): every split into a known surname (王 or 欧阳) and a given name."""
        return sum(
            self.surname_probability(full_name[:cut])
            * self.by_sex[sex].probability(full_name[cut:])
            for cut in (1, 2)
            if len(full_name) > cut
        )

    def expected_count(self, full_name: str, population: int) -> float:
        """Expected holders of ``full_name`` among ``population`` people (both sexes)."""
        return population * (
            MALE_SHARE * self.probability(full_name, "M")
            + (1 - MALE_SHARE) * self.probability(full_name, "F")
        )

    def draw(self, rng: np.random.Generator, male: npt.NDArray[np.bool_]) -> list[str]:
        """One full name per entry of ``male`` (a boolean array)."""
        n = male.shape[0]
        surnames = self.surnames[rng.choice(self.surnames.shape[0], size=n, p=self.surname_p)]
        given = np.empty(n, dtype=object)
        for sex, mask in (("M", male), ("F", ~male)):
            model = self.by_sex[sex]
            idx = np.flatnonzero(mask)
            use_whole = rng.random(idx.shape[0]) < model.alpha
            w = idx[use_whole]
            given[w] = model.whole[
                rng.choice(model.whole.shape[0], size=w.shape[0], p=model.whole_p)
            ]
            c = idx[~use_whole]
            k = model.chars.shape[0]
            first = np.asarray(rng.choice(k, size=c.shape[0], p=model.char_p), dtype=np.int64)
            second = np.asarray(rng.choice(k, size=c.shape[0], p=model.char_p), dtype=np.int64)
            clash = np.flatnonzero(first == second)
            while clash.size:  # rejection: the second character differs from the first
                second[clash] = rng.choice(k, size=clash.shape[0], p=model.char_p)
                clash = clash[first[clash] == second[clash]]
            given[c] = np.char.add(model.chars[first], model.chars[second])
        return [s + g for s, g in zip(surnames.tolist(), given.tolist(), strict=True)]


@cache
def name_model() -> NameModel:
    """The shipped model, calibrated on first use."""
    rows = _read_tsv("surnames.tsv")
    surnames = np.array([name for name, _ in rows])
    shares = np.array([float(share) for _, share in rows])
    surname_p = shares / shares.sum()

    given_rows = _read_tsv("given_names.tsv")
    partial: dict[Sex, _SexModel] = {}
    for sex in ("M", "F"):
        whole = np.array([n for kind, s, n in given_rows if kind == "whole" and s == sex])
        chars = np.array([n for kind, s, n in given_rows if kind == "char" and s == sex])
        partial[sex] = _SexModel(
            alpha=0.0,
            whole=whole,
            whole_p=_zipf(whole.shape[0], WHOLE_EXPONENT),
            chars=chars,
            char_p=_zipf(chars.shape[0], CHAR_EXPONENT),
        )
    model = NameModel(surnames=surnames, surname_p=surname_p, by_sex=partial)
    by_sex: dict[Sex, _SexModel] = {}
    for full_name, sex, count in CALIBRATION_TARGETS:
        base = partial[sex]
        sex_share = MALE_SHARE if sex == "M" else 1 - MALE_SHARE
        # count = N · P(surname) · P(sex) · alpha · P_whole(given)  ⇒  solve for alpha
        surname, given = full_name[0], full_name[1:]
        hits = np.flatnonzero(base.whole == given)
        alpha = count / (
            CALIBRATION_POPULATION
            * model.surname_probability(surname)
            * sex_share
            * float(base.whole_p[hits[0]])
        )
        by_sex[sex] = _SexModel(alpha, base.whole, base.whole_p, base.chars, base.char_p)
    return NameModel(surnames=surnames, surname_p=surname_p, by_sex=by_sex)
