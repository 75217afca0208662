"""The synthetic population: individuals and organisations as columnar batches.

``people(rng, n)`` and ``organisations(rng, n, people)`` return :class:`pyarrow.Table` batches
(``.to_pylist()`` gives dict rows). Draws are vectorised with numpy; every code is valid.

Individuals: birth province by the 2020 census totals, county uniform within the province
(current GB/T 2260 codes), age by the census age groups, sex by the census ratio (105.07),
names from :mod:`xinyong.lab.names`.

Organisations: kind, registration authority and category in the proportions of the real
registers per person (``KIND_MIX``), names of the form region + trade name + industry + form,
legal representatives who are adults of the same batch, registration dates that grow with the
register (more recent registrations are more common).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from xinyong.codes import regions
from xinyong.lab import identifiers
from xinyong.lab.census import MALE_SHARE, census
from xinyong.lab.names import name_model


@dataclass(frozen=True)
class OrgKind:
    """One line of the organisation mix: how many per 1,000 people, and how they are coded."""

    kind: str
    authority: str
    category: str
    per_thousand: float
    words: str
    """Which ``organisation_words.tsv`` list ends the name (``form`` means industry + form)."""
    first_year: int
    growth: float
    """Yearly growth of registrations (0 = flat): recent years weigh ``exp(growth)`` more."""


#: Registered organisations per 1,000 residents (population 1,411.78 million, census 2020).
#: Market entities (SAMR, end of 2023): about 184 million, of which enterprises 58.27 million,
#: sole traders (个体工商户) 124 million, farmers' cooperatives about 2.2 million. Social
#: organisations (MCA statistical bulletin 2022, about 0.89 million): 社会团体 ~0.37 million,
#: 社会服务机构 (民办非企业单位) ~0.51 million, 基金会 ~9,000. Public institutions and organs:
#: no single published total was found; about 0.9 and 0.25 million are assumed.
KIND_MIX: tuple[OrgKind, ...] = (
    OrgKind("enterprise", "9", "1", 41.27, "form", 1990, 0.13),
    OrgKind("sole_trader", "9", "2", 87.83, "sole_trader", 1995, 0.12),
    OrgKind("organisation", "9", "3", 1.56, "cooperative", 2007, 0.10),
    OrgKind("organisation", "5", "1", 0.26, "social", 1990, 0.05),
    OrgKind("organisation", "5", "2", 0.36, "social", 1995, 0.08),
    OrgKind("organisation", "5", "3", 0.0064, "social", 2004, 0.08),
    OrgKind("organisation", "1", "2", 0.64, "institution", 1950, 0.0),
    OrgKind("government", "1", "1", 0.18, "government", 1950, 0.0),
)
ORGS_PER_PERSON = sum(k.per_thousand for k in KIND_MIX) / 1000

_PLACEHOLDER_COUNTIES = frozenset({"市辖区"})
_PLACEHOLDER_PREFECTURES = frozenset(
    {"市辖区", "县", "省直辖县级行政单位", "自治区直辖县级行政单位"}
)
_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})

PEOPLE_SCHEMA = pa.schema(
    [
        ("subject_id", pa.int64()),
        ("kind", pa.string()),
        ("code", pa.string()),
        ("name", pa.string()),
        ("sex", pa.string()),
        ("birth_date", pa.date32()),
        ("region_code", pa.string()),
    ]
)
ORGANISATION_SCHEMA = pa.schema(
    [
        ("subject_id", pa.int64()),
        ("kind", pa.string()),
        ("code", pa.string()),
        ("name", pa.string()),
        ("region_code", pa.string()),
        ("registered_on", pa.date32()),
        ("legal_rep_id", pa.int64()),
        ("legal_rep_code", pa.string()),
        ("legal_rep_name", pa.string()),
    ]
)


@dataclass(frozen=True)
class _Places:
    counties: dict[str, npt.NDArray[np.int64]]
    """Current county codes per two-digit province code."""
    label: dict[int, str]
    """County code → the place name an organisation's name starts with (city or county)."""


@cache
def _places() -> _Places:
    counties: dict[str, list[int]] = {}
    label: dict[int, str] = {}
    for region in regions.current("county"):
        if region.name in _PLACEHOLDER_COUNTIES:
            continue
        counties.setdefault(region.code[:2], []).append(int(region.code))
        prefecture = region.prefecture or ""
        # 北京市朝阳区… → 朝阳区; 福州市鼓楼区 → 福州市; 省直辖县级行政单位 → the county itself
        real_prefecture = prefecture and prefecture not in _PLACEHOLDER_PREFECTURES
        municipality = region.code[:2] in _MUNICIPALITIES
        label[int(region.code)] = (
            prefecture if real_prefecture and not municipality else region.name
        )
    return _Places({p: np.array(sorted(c), dtype=np.int64) for p, c in counties.items()}, label)


@dataclass(frozen=True)
class _Words:
    lists: dict[str, tuple[npt.NDArray[np.str_], npt.NDArray[np.float64]]] = field(
        default_factory=dict
    )

    def draw(self, rng: np.random.Generator, kind: str, n: int) -> npt.NDArray[np.str_]:
        words, p = self.lists[kind]
        return words[rng.choice(words.shape[0], size=n, p=p)]


@cache
def _words() -> _Words:
    text = resources.files("xinyong.lab").joinpath("data/organisation_words.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    grouped: dict[str, list[tuple[str, float]]] = {}
    for kind, word, weight in rows[1:]:
        grouped.setdefault(kind, []).append((word, float(weight)))
    lists = {}
    for kind, pairs in grouped.items():
        weights = np.array([w for _, w in pairs])
        lists[kind] = (np.array([w for w, _ in pairs]), weights / weights.sum())
    return _Words(lists)


def place_name(region_code: str) -> str:
    """The place an organisation or court in this county is named after (city or county)."""
    return _places().label.get(int(region_code), "")


def draw_regions(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    """County codes: province by census weight, county uniform within it."""
    table = census()
    places = _places()
    province = rng.choice(len(table.province_codes), size=n, p=table.province_p)
    out = np.empty(n, dtype=np.int64)
    for i, code in enumerate(table.province_codes):
        idx = np.flatnonzero(province == i)
        options = places.counties[code]
        out[idx] = options[rng.integers(0, options.shape[0], size=idx.shape[0])]
    return out


def _days(d: date) -> np.int64:
    return np.datetime64(d, "D").astype(np.int64)


def people(
    rng: np.random.Generator,
    n: int,
    *,
    at: date,
    first_id: int = 1,
    issued: identifiers.Issued | None = None,
) -> pa.Table:
    """``n`` individuals alive at ``at``: valid, distinct citizen ID numbers and realistic names.

    ``issued`` holds the 17-digit bodies issued in earlier batches of a run; it is updated.
    """
    male = rng.random(n) < MALE_SHARE
    age = rng.choice(census().age_p.shape[0], size=n, p=census().age_p)
    offset = (age * 365.2425 + rng.random(n) * 365.2425).astype(np.int64)
    birth = (_days(at) - offset).astype("datetime64[D]")
    region = draw_regions(rng, n)
    body = identifiers.ric_body(region, birth, identifiers.ric_sequence(rng, male))
    issued = issued if issued is not None else identifiers.Issued()
    clash = issued.clashes(body)
    while clash.any():  # redraw the order code of a body already issued
        idx = np.flatnonzero(clash)
        body[idx] = body[idx] // 1000 * 1000 + identifiers.ric_sequence(rng, male[idx])
        clash = issued.clashes(body)
    issued.add(body)
    names = name_model().draw(rng, male)
    return pa.table(
        {
            "subject_id": np.arange(first_id, first_id + n, dtype=np.int64),
            "kind": pa.repeat("individual", n) if n else pa.array([], pa.string()),
            "code": identifiers.ric_from_body(body),
            "name": names,
            "sex": np.where(male, "男", "女"),
            "birth_date": birth,
            "region_code": region.astype(str),
        },
        schema=PEOPLE_SCHEMA,
    )


def organisations(
    rng: np.random.Generator,
    n: int,
    adults: pa.Table,
    *,
    at: date,
    first_id: int,
    kinds: Sequence[OrgKind] = KIND_MIX,
    issued: identifiers.Issued | None = None,
) -> pa.Table:
    """``n`` organisations registered by ``at``, legal representatives drawn from ``adults``
    (a :func:`people` table), each old enough (18) on the registration date."""
    weights = np.array([k.per_thousand for k in kinds])
    which = rng.choice(len(kinds), size=n, p=weights / weights.sum())
    end_year = at.year
    year = np.empty(n, dtype=np.int64)
    for i, k in enumerate(kinds):
        idx = np.flatnonzero(which == i)
        years = np.arange(k.first_year, end_year + 1)
        w = np.exp(k.growth * (years - end_year))
        year[idx] = years[rng.choice(years.shape[0], size=idx.shape[0], p=w / w.sum())]
    day_of_year = rng.integers(0, 365, size=n)
    start = np.array([f"{y}-01-01" for y in year.tolist()], dtype="datetime64[D]")
    registered = np.minimum(start + day_of_year, np.datetime64(at, "D"))

    # Legal representatives: adults born at least 18 years before registration.
    births = adults.column("birth_date").to_numpy().astype("datetime64[D]")
    order = np.argsort(births, kind="stable")
    sorted_births = births[order]
    limit = registered - np.timedelta64(6575, "D")  # 18 × 365.25 days
    eligible = np.searchsorted(sorted_births, limit, side="right")
    has_rep = eligible > 0
    pick = order[np.minimum((rng.random(n) * eligible).astype(np.int64), len(order) - 1)]
    rep_ids = adults.column("subject_id").to_numpy()[pick]
    rep_codes = np.array(adults.column("code").to_pylist(), dtype=object)[pick]
    rep_names = np.array(adults.column("name").to_pylist(), dtype=object)[pick]

    region = draw_regions(rng, n)
    names = _org_names(rng, which, region, kinds, rep_names)
    authority = np.array([kinds[i].authority for i in which.tolist()])
    category = np.array([kinds[i].category for i in which.tolist()])
    org = identifiers.org_body(rng, year)
    issued = issued if issued is not None else identifiers.Issued()
    clash = issued.clashes(identifiers.org_key(org))
    while clash.any():  # organisation codes are unique nationwide: redraw any repeat
        idx = np.flatnonzero(clash)
        org[idx] = identifiers.org_body(rng, year[idx])
        clash = issued.clashes(identifiers.org_key(org))
    issued.add(identifiers.org_key(org))
    codes = identifiers.uscc(authority, category, region.astype(str), org)
    return pa.table(
        {
            "subject_id": np.arange(first_id, first_id + n, dtype=np.int64),
            "kind": np.array([kinds[i].kind for i in which.tolist()]),
            "code": codes,
            "name": names,
            "region_code": region.astype(str),
            "registered_on": registered,
            "legal_rep_id": pa.array(rep_ids, mask=~has_rep),
            "legal_rep_code": pa.array(rep_codes.tolist(), pa.string(), mask=~has_rep),
            "legal_rep_name": pa.array(rep_names.tolist(), pa.string(), mask=~has_rep),
        },
        schema=ORGANISATION_SCHEMA,
    )


def _org_names(
    rng: np.random.Generator,
    which: npt.NDArray[np.int64],
    region: npt.NDArray[np.int64],
    kinds: Sequence[OrgKind],
    rep_names: npt.NDArray[np.object_],
) -> list[str]:
    words = _words()
    label = _places().label
    n = which.shape[0]
    trade = np.char.add(words.draw(rng, "trade", n), words.draw(rng, "trade", n))
    out = np.empty(n, dtype=object)
    for i, k in enumerate(kinds):
        idx = np.flatnonzero(which == i)
        m = idx.shape[0]
        places = [label[c] for c in region[idx].tolist()]
        if k.words == "form":
            tail = np.char.add(words.draw(rng, "industry", m), words.draw(rng, "form", m))
            middle = trade[idx]
        elif k.words in ("institution", "government"):
            tail, middle = words.draw(rng, k.words, m), np.full(m, "")
        else:
            tail, middle = words.draw(rng, k.words, m), trade[idx]
        out[idx] = [
            p + t + w for p, t, w in zip(places, middle.tolist(), tail.tolist(), strict=True)
        ]
    return [str(x) for x in out.tolist()]
