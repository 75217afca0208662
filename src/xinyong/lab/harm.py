"""Who gets hurt: run a synthetic population with injected errors through linking, lists and
measures under a linking policy, and compare with the truth the generator knows.

Policies (``POLICIES``):

- ``code_only`` — what the platform does: a record is attached to the subject whose code it
  carries, or to nobody. Nothing else.
- ``name_and_birthdate`` and ``name_fuzzy`` — **counterfactual**: how other systems match
  people, modelled here only, to measure the harm they would do. They exist in this module and
  nowhere the platform decides. Both use a valid code first, and fall back on names only for a
  record whose code is missing or invalid (the most generous reading of them: matching on names
  alone would hurt more):

  - ``name_and_birthdate``: an individual by exact name and the birth date in the written code
    (positions 7–14 read even when the check digit fails); a record without a readable birth date
    is not matched. An organisation by exact name.
  - ``name_fuzzy``: an individual by the sound of the name (tone-less pinyin: 王伟 = 汪玮 =
    王维); an organisation by its name without the company form (有限公司 …). Every subject that
    matches is attached, as a blocklist checked on names blocks every namesake.

The arithmetic (``evaluate``) is an in-memory (Arrow + Python) re-implementation of linking,
list membership and measures, following the catalog: a list entry runs from the period's start
field for its ``length`` (or ``max``), or until its ending event (``lifted_on``, ``removed_on``),
and is in force at ``at`` when ``start <= at < end``; each punishment measure of the list that
applies to the subject's kind restricts it, and measures with ``role_linked`` also reach the
organisation's legal representative. :func:`pipeline_links` runs the same rows through the
platform's real ingest and link on a database, so the code-only linking can be checked against
it (``tests/lab/test_harm.py``).

Counts (``PolicyResult``), at ``at``:

- ``wrongly_restricted``: people restricted because the policy attached someone else's record
  to them. Zero under ``code_only`` by construction: only a record carrying a person's own
  valid code can reach them.
- ``wrongly_restricted_by_source``: people restricted because the department itself wrote
  their valid code on someone else's record (the ``namesake`` error). No linking policy can see
  this; only an objection repairs it. Counted apart so the policies can be compared.
- ``overdue``: people still restricted after their restriction ended (the ``stale`` error).
- ``missed``: people the truth restricts whom the policy does not restrict (for something).
- ``objections_needed``: wrong (record, subject) attachments in force, each one an objection
  the harmed person would have to file.
- ``multiplier``: mean number of punishment measures per wrong listing; ``agencies`` the mean
  number of implementing agencies applying them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from xinyong.catalog import Catalog, ListDef, Measure
from xinyong.errors import UnusableInput
from xinyong.lab.errors import ERROR_KINDS, ErrorSpec, NamesakeIndex, inject
from xinyong.lab.generator import split
from xinyong.lab.population import organisations, people
from xinyong.lab.records import RecordBatch, SubjectPool, records
from xinyong.lists.rules import RecordView, entries_for, entry_terms

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "POLICIES",
    "HarmReport",
    "LabRun",
    "Link",
    "PolicyResult",
    "evaluate",
    "link_rows",
    "measures_by_list",
    "parse_policies",
    "run_harm",
    "run_pipeline",
    "series_dates",
    "simulate",
]

POLICIES: tuple[str, ...] = ("code_only", "name_and_birthdate", "name_fuzzy")
COUNTERFACTUAL = frozenset({"name_and_birthdate", "name_fuzzy"})
MAX_SUBJECTS = 10_000_000
#: Where ``run_harm`` derives lists and measures and compares: :func:`evaluate` in Python (the
#: reference) or :mod:`xinyong.lab.batch` on DuckDB or Spark.
ENGINES: tuple[str, ...] = ("python", "duckdb", "spark")
DEFAULT_ENGINE = "duckdb"


def parse_policies(values: Sequence[str]) -> list[str]:
    """``--policy`` values (repeatable, ``all``) → policies in canonical order."""
    if not values:
        return ["code_only"]
    wanted: set[str] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part == "all":
                wanted.update(POLICIES)
            elif part in POLICIES:
                wanted.add(part)
            else:
                raise UnusableInput(
                    f"未知匹配策略 {part!r}（可用：{', '.join(POLICIES)}、all）/ unknown policy "
                    f"{part!r} (choose from {', '.join(POLICIES)}, all)"
                )
    return [p for p in POLICIES if p in wanted]


# ---------------------------------------------------------------------------------------------
# The population and its rows


@dataclass
class Population:
    """Every subject of a run, indexed by subject id (ids run 1…n)."""

    people: pa.Table
    organisations: pa.Table
    kind: list[str]
    code: list[str]
    name: list[str]
    region: list[str]
    birth: list[date | None]
    rep: dict[int, int]
    """Organisation subject id → its legal representative's subject id."""
    by_code: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, folk: pa.Table, orgs: pa.Table) -> Population:
        n = folk.num_rows + orgs.num_rows
        ids = folk.column("subject_id").to_pylist() + orgs.column("subject_id").to_pylist()
        if ids != list(range(1, n + 1)):
            raise ValueError("subject ids must run 1…n")

        def column(name: str) -> list[Any]:
            return ["", *folk.column(name).to_pylist(), *orgs.column(name).to_pylist()]

        kind, code, name, region = (column(c) for c in ("kind", "code", "name", "region_code"))
        birth: list[date | None] = [None, *folk.column("birth_date").to_pylist()]
        birth.extend([None] * orgs.num_rows)
        rep = {
            org: person
            for org, person in zip(
                orgs.column("subject_id").to_pylist(),
                orgs.column("legal_rep_id").to_pylist(),
                strict=True,
            )
            if person is not None
        }
        by_code = {c: i for i, c in enumerate(code) if c}
        return cls(folk, orgs, kind, code, name, region, birth, rep, by_code)

    @property
    def size(self) -> int:
        return len(self.kind) - 1


@dataclass(frozen=True)
class Row:
    """One submitted row: its type, values, and what the truth says about it."""

    index: int
    record_type: str
    values: dict[str, Any]
    subject_id: int
    """The subject the row is really about (the truth)."""
    error: str | None
    truth_key: tuple[str, int]
    """(record type, row number): the same for a duplicate and its original."""


@dataclass
class LabRun:
    """A simulated population with clean rows (the truth) and the rows as submitted."""

    population: Population
    clean: list[Row]
    observed: list[Row]
    catalog: Catalog
    seed: int
    spec: ErrorSpec
    start: date
    end: date
    seconds: dict[str, float] = field(default_factory=dict)

    def error_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ERROR_KINDS, 0)
        for row in self.observed:
            if row.error is not None:
                counts[row.error] += 1
        return counts


def listed_types(catalog: Catalog) -> set[str]:
    """Record types that can put a subject on a black list with a punishment measure."""
    out: set[str] = set()
    for list_def in catalog.lists.values():
        if any(m.polarity == "punishment" for m in catalog.measures_for(list_def.id)):
            out.update(c.record_type for c in list_def.criteria)
    return out


def _rows(batches: Iterable[RecordBatch], first: int) -> list[Row]:
    out: list[Row] = []
    for batch in batches:
        values = batch.rows.to_pylist()
        truth = batch.truth.to_pylist()
        for v, t in zip(values, truth, strict=True):
            out.append(
                Row(
                    first + len(out),
                    batch.record_type.id,
                    v,
                    int(t["subject_id"]),
                    t["error"],
                    (batch.record_type.id, int(t["row_no"])),
                )
            )
    return out


def simulate(
    *,
    subjects: int,
    seed: int,
    spec: ErrorSpec,
    start: date = date(2019, 1, 1),
    end: date = date(2025, 12, 31),
    catalog: Catalog,
) -> LabRun:
    """Generate ``subjects`` subjects and the records that feed black lists, then inject errors.

    One generator, ``numpy.random.default_rng(seed)``: same arguments, same run."""
    if not 1 <= subjects <= MAX_SUBJECTS:
        raise UnusableInput(
            f"主体数须在 1 到 {MAX_SUBJECTS:,} 之间 / subjects must be 1 to {MAX_SUBJECTS:,}"
        )
    if start > end:
        raise UnusableInput("开始日期晚于结束日期 / start is after end")
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    n_people, n_orgs = split(subjects)
    folk = people(rng, n_people, at=end)
    orgs = organisations(rng, n_orgs, folk, at=end, first_id=n_people + 1)
    population = Population.from_tables(folk, orgs)
    officer = catalog.record_types.get("enterprise_officer")
    kinds = set(officer.subject_kinds) if officer is not None else set()
    population.rep = {o: p for o, p in population.rep.items() if population.kind[o] in kinds}
    seconds["population"] = time.perf_counter() - began
    began = time.perf_counter()
    wanted = listed_types(catalog)
    subset = catalog.model_copy(
        update={"record_types": {k: v for k, v in catalog.record_types.items() if k in wanted}}
    )
    clean_batches = list(
        records(rng, SubjectPool.from_tables(folk, orgs), subset, start=start, end=end)
    )
    seconds["records"] = time.perf_counter() - began
    began = time.perf_counter()
    namesakes = NamesakeIndex.from_tables(folk, orgs)
    injector = np.random.default_rng([seed, 1])
    observed_batches = [inject(injector, b, spec, namesakes) for b in clean_batches]
    seconds["inject"] = time.perf_counter() - began
    clean = _rows(clean_batches, 0)
    observed = _rows(observed_batches, 0)
    return LabRun(population, clean, observed, catalog, seed, spec, start, end, seconds)


# ---------------------------------------------------------------------------------------------
# Linking


@dataclass(frozen=True)
class Link:
    """A row attached to a subject, and how: ``code`` or ``name`` (or ``truth``)."""

    row: int
    subject_id: int
    method: str


def _ric_birth(code: str | None) -> date | None:
    """The birth date written in a citizen number, read whatever its check digit says."""
    if not code:
        return None
    code = code.strip()
    if len(code) == 18:
        digits = code[6:14]
    elif len(code) == 15:
        digits = "19" + code[6:12]
    else:
        return None
    if not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def _org_key(name: str) -> str:
    from xinyong.link.names import COMPANY_FORMS

    for form in COMPANY_FORMS:
        if name.endswith(form) and len(name) > len(form):
            return name[: -len(form)]
    return name


class _Pinyin:
    """Tone-less pinyin of individual names, one character at a time (cached)."""

    def __init__(self) -> None:
        self.chars: dict[str, str] = {}

    def key(self, name: str) -> str:
        from pypinyin import lazy_pinyin

        out = []
        for ch in name:
            syllable = self.chars.get(ch)
            if syllable is None:
                syllable = "".join(lazy_pinyin(ch))
                self.chars[ch] = syllable
            out.append(syllable)
        return "".join(out)


class _NameMatcher:
    """The counterfactual matchers' indexes over the population, built for the names needed."""

    def __init__(self, population: Population, policy: str, wanted: Sequence[Row]) -> None:
        self.policy = policy
        self.pinyin = _Pinyin()
        self.people: dict[Any, list[int]] = defaultdict(list)
        self.orgs: dict[str, list[int]] = defaultdict(list)
        names = [str(r.values.get("subject_name") or "") for r in wanted]
        if policy == "name_fuzzy":
            keys = {self.pinyin.key(n) for n in names}
        org_keys = {_org_key(n) for n in names}
        plain = set(names)
        for sid in range(1, population.size + 1):
            name = population.name[sid]
            if population.kind[sid] == "individual":
                if policy == "name_and_birthdate":
                    if name in plain:
                        self.people[(name, population.birth[sid])].append(sid)
                else:
                    key = self.pinyin.key(name)
                    if key in keys:
                        self.people[key].append(sid)
            else:
                key = name if policy == "name_and_birthdate" else _org_key(name)
                if key in org_keys or key in plain:
                    self.orgs[key].append(sid)

    def match(self, row: Row) -> list[int]:
        name = str(row.values.get("subject_name") or "")
        code = row.values.get("subject_code")
        if self.policy == "name_and_birthdate":
            birth = _ric_birth(code)
            found = list(self.people.get((name, birth), ())) if birth is not None else []
            return found + list(self.orgs.get(name, ()))
        return list(self.people.get(self.pinyin.key(name), ())) + list(
            self.orgs.get(_org_key(name), ())
        )


def _valid(code: str) -> bool:
    from xinyong.codes.identifiers import reason_of

    kind, _value, problem = reason_of(code)
    return kind is not None and problem is None


def link_rows(population: Population, rows: Sequence[Row], policy: str) -> list[Link]:
    """Attach ``rows`` to subjects under ``policy`` (see the module docstring)."""
    if policy not in POLICIES:
        raise UnusableInput(f"未知匹配策略 / unknown policy {policy!r}")
    links: list[Link] = []
    fallback: list[Row] = []
    for row in rows:
        code = row.values.get("subject_code")
        sid = population.by_code.get(code) if code else None
        if sid is not None:
            links.append(Link(row.index, sid, "code"))
        elif code and _valid(code):
            # A valid code of nobody in the population: the platform would open a new subject,
            # a person who does not exist here; no one in the population is reached.
            continue
        elif policy in COUNTERFACTUAL:
            fallback.append(row)
    if fallback:
        matcher = _NameMatcher(population, policy, fallback)
        for row in fallback:
            links.extend(Link(row.index, sid, "name") for sid in matcher.match(row))
    return links


def truth_links(rows: Sequence[Row]) -> list[Link]:
    return [Link(r.index, r.subject_id, "truth") for r in rows]


# ---------------------------------------------------------------------------------------------
# Lists and measures


@dataclass(frozen=True)
class Entry:
    """A subject on a list from ``valid_from`` to ``valid_to`` (inclusive; None: open), because
    of one row linked by ``method``."""

    subject_id: int
    list_id: str
    valid_from: date | None
    valid_to: date | None
    row: int
    method: str

    def holds(self, at: date) -> bool:
        return (
            self.valid_from is not None
            and self.valid_from <= at
            and (self.valid_to is None or at <= self.valid_to)
        )


def record_view(row: Row, subject_id: int) -> RecordView:
    """A submitted row as the list rules see a stored record (as ``ingest`` stores it)."""
    values = row.values
    return RecordView(
        id=row.index,
        record_key=str(row.index),
        record_type=row.record_type,
        subject_id=subject_id,
        status="active",
        decided_on=values.get("decided_on"),
        valid_from=values.get("valid_from")
        or values.get("decided_on")
        or values.get("published_on"),
        valid_to=values.get("valid_until"),
        fields=values,
    )


def entries(catalog: Catalog, rows: Sequence[Row], links: Sequence[Link]) -> list[Entry]:
    """Every black-list entry the linked rows make, by the platform's own list rules
    (``xinyong.lists.entries_for``), given these links."""
    black = {k for k, v in catalog.lists.items() if v.polarity == "black"}
    listed = {c.record_type for k in black for c in catalog.lists[k].criteria}
    out: list[Entry] = []
    for link in links:
        row = rows[link.row]
        if row.record_type not in listed:
            continue
        for terms in entries_for(catalog, record_view(row, link.subject_id)):
            if terms.list_id in black:
                out.append(
                    Entry(
                        link.subject_id,
                        terms.list_id,
                        terms.valid_from,
                        terms.valid_to,
                        link.row,
                        link.method,
                    )
                )
    return out


def window(list_def: ListDef, values: Mapping[str, Any]) -> tuple[date, date | None] | None:
    """``(valid_from, valid_to)`` of the entry a record with ``values`` makes on ``list_def``
    by itself (the platform's rule, ``xinyong.lists.entry_terms``)."""
    view = RecordView(0, "0", "", 0, "active", values.get("decided_on"), None, None, dict(values))
    terms = entry_terms(list_def, view)
    if terms is None or terms.valid_from is None:
        return None
    return terms.valid_from, terms.valid_to


def measures_by_list(catalog: Catalog) -> dict[str, list[Measure]]:
    """Each list's punishment measures, in catalog order."""
    return {
        list_id: [m for m in catalog.measures_for(list_id) if m.polarity == "punishment"]
        for list_id in catalog.lists
    }


@dataclass(frozen=True)
class Restriction:
    """A (subject, measure) in force, reached through one entry."""

    subject_id: int
    measure_id: str
    agency: str
    entry: Entry


def reaches(measure: Measure, kind: str) -> bool:
    """Whether a measure on an entry of a ``kind`` subject reaches its legal representative
    (as the restriction index does: role-linked, the listed subject not a person)."""
    return (
        "legal_representative" in measure.role_linked
        and kind != "individual"
        and "individual" in measure.applies_to
    )


def restrictions(
    catalog: Catalog, population: Population, active: Iterable[Entry]
) -> list[Restriction]:
    """The punishment measures that entries in force put on subjects and, for role-linked
    measures, on an organisation's legal representative (``xinyong.measures`` does the same
    from the relations registration records make)."""
    measures = measures_by_list(catalog)
    out: list[Restriction] = []
    for entry in active:
        kind = population.kind[entry.subject_id]
        for measure in measures.get(entry.list_id, ()):
            if kind in measure.applies_to:
                out.append(
                    Restriction(entry.subject_id, measure.id, measure.implementing_agency, entry)
                )
            rep = population.rep.get(entry.subject_id)
            if rep is not None and reaches(measure, kind):
                out.append(Restriction(rep, measure.id, measure.implementing_agency, entry))
    return out


def _in_force(all_entries: Iterable[Entry], at: date) -> list[Entry]:
    return [e for e in all_entries if e.holds(at)]


# ---------------------------------------------------------------------------------------------
# Comparison with the truth


@dataclass
class PolicyResult:
    """One policy's harm at one date (see the module docstring for each count)."""

    policy: str
    subjects: int
    at: str
    wrongly_restricted: int
    wrongly_restricted_individuals: int
    wrongly_restricted_by_source: int
    overdue: int
    missed: int
    missed_individuals: int
    restricted: int
    truly_restricted: int
    wrong_restrictions: int
    missed_restrictions: int
    wrong_listings: int
    objections_needed: int
    multiplier: float
    agencies: float
    by_error: dict[str, dict[str, int]]
    counterfactual: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Derived:
    entries: list[Entry]
    links: list[Link]


def _derive(run: LabRun, policy: str | None) -> _Derived:
    if policy is None:
        links = truth_links(run.clean)
        return _Derived(entries(run.catalog, run.clean, links), links)
    links = link_rows(run.population, run.observed, policy)
    return _Derived(entries(run.catalog, run.observed, links), links)


def _compare(run: LabRun, policy: str, truth: _Derived, seen: _Derived, at: date) -> PolicyResult:
    population = run.population
    t_restr = restrictions(run.catalog, population, _in_force(truth.entries, at))
    o_active = _in_force(seen.entries, at)
    o_restr = restrictions(run.catalog, population, o_active)
    t_pairs = {(r.subject_id, r.measure_id) for r in t_restr}
    o_pairs = {(r.subject_id, r.measure_id) for r in o_restr}
    t_listings = {(e.subject_id, e.list_id) for e in _in_force(truth.entries, at)}
    causes: dict[int, set[str]] = defaultdict(set)
    by_error: dict[str, dict[str, int]] = {
        k: {"wrongly_restricted": 0, "missed": 0} for k in (*ERROR_KINDS, "none")
    }
    wrong_people_by_error: dict[str, set[int]] = defaultdict(set)
    for r in o_restr:
        if (r.subject_id, r.measure_id) in t_pairs:
            continue
        row = run.observed[r.entry.row]
        listed = r.entry.subject_id
        if listed != row.subject_id:
            cause = "linking" if r.entry.method == "name" else "source"
        else:
            cause = "overdue"
        causes[r.subject_id].add(cause)
        wrong_people_by_error[row.error or "none"].add(r.subject_id)
    linking = {s for s, c in causes.items() if "linking" in c}
    source = {s for s, c in causes.items() if "source" in c and s not in linking}
    overdue = {s for s, c in causes.items() if c == {"overdue"}}
    # Missed: truth pairs the policy lacks; blame the error of the row behind the truth entry.
    observed_error = {row.truth_key: row.error for row in run.observed if row.error != "duplicate"}
    missed_pairs = t_pairs - o_pairs
    missed_people: dict[int, set[str]] = defaultdict(set)
    for r in t_restr:
        if (r.subject_id, r.measure_id) in missed_pairs:
            error = observed_error.get(run.clean[r.entry.row].truth_key)
            missed_people[r.subject_id].add(error or "none")
    for kind, people_ in wrong_people_by_error.items():
        by_error[kind]["wrongly_restricted"] = len(people_)
    for errors in missed_people.values():
        for kind in errors:
            by_error[kind]["missed"] += 1
    # Wrong listings (any cause) and how many measures, agencies each brings.
    wrong_entries = [
        e
        for e in o_active
        if (e.subject_id, e.list_id) not in t_listings
        or run.observed[e.row].subject_id != e.subject_id
    ]
    wrong_listings = {(e.subject_id, e.list_id) for e in wrong_entries}
    measures = measures_by_list(run.catalog)
    counts, agencies = [], []
    for subject_id, list_id in wrong_listings:
        kind = population.kind[subject_id]
        reach = [m for m in measures.get(list_id, ()) if kind in m.applies_to]
        if subject_id in population.rep:
            reach += [m for m in measures.get(list_id, ()) if reaches(m, kind)]
        counts.append(len(reach))
        agencies.append(len({m.implementing_agency for m in reach}))
    objections = {
        (e.row, e.subject_id)
        for e in wrong_entries
        if run.observed[e.row].subject_id != e.subject_id or run.observed[e.row].error == "stale"
    }
    individuals = {s for s in linking if population.kind[s] == "individual"}
    missed_individuals = {s for s in missed_people if population.kind[s] == "individual"}
    return PolicyResult(
        policy=policy,
        subjects=population.size,
        at=at.isoformat(),
        wrongly_restricted=len(linking),
        wrongly_restricted_individuals=len(individuals),
        wrongly_restricted_by_source=len(source),
        overdue=len(overdue),
        missed=len(missed_people),
        missed_individuals=len(missed_individuals),
        restricted=len({s for s, _ in o_pairs}),
        truly_restricted=len({s for s, _ in t_pairs}),
        wrong_restrictions=len(o_pairs - t_pairs),
        missed_restrictions=len(missed_pairs),
        wrong_listings=len(wrong_listings),
        objections_needed=len(objections),
        multiplier=round(sum(counts) / len(counts), 3) if counts else 0.0,
        agencies=round(sum(agencies) / len(agencies), 3) if agencies else 0.0,
        by_error=by_error,
        counterfactual=policy in COUNTERFACTUAL,
    )


def evaluate(
    run: LabRun, policies: Sequence[str], at: date, *, series_points: int = 0
) -> tuple[list[PolicyResult], dict[str, list[dict[str, Any]]]]:
    """Each policy's result at ``at``, and (``series_points`` > 0) the counts over time."""
    truth = _derive(run, None)
    results: list[PolicyResult] = []
    series: dict[str, list[dict[str, Any]]] = {}
    for policy in policies:
        seen = _derive(run, policy)
        results.append(_compare(run, policy, truth, seen, at))
        if series_points:
            points = []
            for when in series_dates(run.start, run.end, series_points):
                r = _compare(run, policy, truth, seen, when)
                points.append(
                    {
                        "at": when.isoformat(),
                        "wrongly_restricted": r.wrongly_restricted,
                        "wrongly_restricted_by_source": r.wrongly_restricted_by_source,
                        "overdue": r.overdue,
                        "missed": r.missed,
                        "restricted": r.restricted,
                    }
                )
            series[policy] = points
    return results, series


def series_dates(start: date, end: date, n: int) -> list[date]:
    """``n`` days spread evenly after ``start``, the last one ``end``: the series' dates."""
    span = (end - start).days
    return [start + timedelta(days=round(span * (i + 1) / n)) for i in range(n)]


@dataclass
class HarmReport:
    """Everything ``xinyong lab harm`` shows: per-policy results, series, the run's facts."""

    subjects: int
    seed: int
    errors: str
    at: str
    start: str
    end: str
    results: list[PolicyResult]
    series: dict[str, list[dict[str, Any]]]
    injected: dict[str, int]
    rows: int
    seconds: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)
    engine: str = "python"
    """Where lists, measures and the comparison ran (``ENGINES``)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_harm(
    *,
    subjects: int,
    seed: int,
    spec: ErrorSpec,
    policies: Sequence[str] = ("code_only",),
    start: date = date(2019, 1, 1),
    end: date = date(2025, 12, 31),
    at: date | None = None,
    series_points: int = 14,
    catalog: Catalog,
    pipeline_url: str | None = None,
    engine: str = DEFAULT_ENGINE,
    master: str = "local[2]",
) -> HarmReport:
    """Simulate, inject, link under each policy, derive lists and measures, compare.

    ``engine``: where lists, measures and the comparison run (:data:`ENGINES`): ``python``
    (:func:`evaluate`, the reference), ``duckdb`` or ``spark`` (:mod:`xinyong.lab.batch`, the
    same counts from one SQL text; ``master`` is Spark's master URL). Linking is Python on all.
    ``pipeline_url``: also load the rows through the platform's ingest and link into that
    (empty) database and compare its code-only links with the arithmetic's (``extra``)."""
    if engine not in ENGINES:
        raise UnusableInput(
            f"未知引擎 {engine!r}（可用：{', '.join(ENGINES)}）/ unknown engine {engine!r} "
            f"(choose from {', '.join(ENGINES)})"
        )
    at = at or end
    run = simulate(subjects=subjects, seed=seed, spec=spec, start=start, end=end, catalog=catalog)
    began = time.perf_counter()
    if engine == "python":
        results, series = evaluate(run, policies, at, series_points=series_points)
    else:
        results, series = _evaluate_on(engine, master, run, policies, at, series_points)
    run.seconds["evaluate"] = time.perf_counter() - began
    extra: dict[str, Any] = {}
    if pipeline_url is not None:
        extra = compare_pipeline(run, pipeline_url, at)
    return HarmReport(
        subjects=subjects,
        seed=seed,
        errors=str(spec),
        at=at.isoformat(),
        start=start.isoformat(),
        end=end.isoformat(),
        results=results,
        series=series,
        injected=run.error_counts(),
        rows=len(run.observed),
        seconds={k: round(v, 3) for k, v in run.seconds.items()},
        extra=extra,
        engine=engine,
    )


def _evaluate_on(
    engine: str,
    master: str,
    run: LabRun,
    policies: Sequence[str],
    at: date,
    series_points: int,
) -> tuple[list[PolicyResult], dict[str, list[dict[str, Any]]]]:
    """:func:`xinyong.lab.batch.evaluate_batch` on a fresh DuckDB, or on the Spark session at
    ``master`` (kept running: a session belongs to whoever started it, this process's exit
    stops it)."""
    from xinyong.batch.engines import BatchEngine, DuckDBEngine, spark_engine
    from xinyong.lab.batch import evaluate_batch

    runner: BatchEngine = DuckDBEngine() if engine == "duckdb" else spark_engine(master)
    try:
        return evaluate_batch(runner, run, policies, at, series_points=series_points)
    finally:
        runner.close()


# ---------------------------------------------------------------------------------------------
# The platform's own pipeline, for code_only on a database


def officer_rows(run: LabRun) -> list[dict[str, Any]]:
    """One ``enterprise_officer`` row per organisation naming its legal representative by code:
    the registration facts from which the platform learns whom role-linked measures reach."""
    orgs = run.population.organisations
    out = []
    for sid, registered in zip(
        orgs.column("subject_id").to_pylist(), orgs.column("registered_on").to_pylist(), strict=True
    ):
        rep = run.population.rep.get(sid)
        if rep is None:
            continue
        out.append(
            {
                "subject_name": run.population.name[sid],
                "subject_code": run.population.code[sid],
                "document_no": f"登记〔{registered.year}〕{sid:08d}号",
                "decided_on": registered,
                "person_name": run.population.name[rep],
                "person_code": run.population.code[rep],
                "role": "legal_representative",
            }
        )
    return out


@dataclass
class PipelineRun:
    """What the platform's own pipeline made of the submitted rows."""

    links: list[Link]
    pairs: set[tuple[int, str]]
    """(subject id, measure id) in the restriction index at the run's date."""
    restricted: set[int]
    """Subjects that ``xinyong.measures.check`` denies or reviews for some action."""
    decisions: int
    seconds: float


def run_pipeline(run: LabRun, url: str, work_dir: Path, at: date) -> PipelineRun:
    """Load the officer rows, then the submitted rows, with the platform's ``ingest_file``
    (link → lists → measures in one transaction per batch) into the database at ``url``; read
    back the links and the restriction index, and ask ``check`` for every subject the index or
    the truth restricts, for every action a punishment measure governs.

    The database should be empty; it is created or upgraded (``xinyong init``) first. Rows are
    matched back by (record type, document number, code); subjects by their primary code."""
    from sqlalchemy import select

    from xinyong.ingest import ingest_file
    from xinyong.lab.records import arrow_schema
    from xinyong.lab.writers import open_writer
    from xinyong.measures import check
    from xinyong.measures.reach import reach_of, way_of
    from xinyong.measures.tables import restrictions as index_table
    from xinyong.store.engine import connect
    from xinyong.store.schema import upgrade
    from xinyong.store.tables import records as records_table
    from xinyong.store.tables import subjects as subjects_table

    began = time.perf_counter()
    engine = connect(url)
    upgrade(engine)
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    if "enterprise_officer" in run.catalog.record_types:
        batches.append(("enterprise_officer", officer_rows(run)))
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in run.observed:
        by_type[row.record_type].append(row.values)
    batches.extend(sorted(by_type.items()))
    work_dir.mkdir(parents=True, exist_ok=True)
    for type_id, values in batches:
        rtype = run.catalog.record_types[type_id]
        schema = arrow_schema(rtype)
        writer = open_writer("csv", work_dir / type_id, schema, rtype)
        writer.write(pa.Table.from_pylist(values, schema=schema))
        writer.close()
        ingest_file(engine, writer.path, type_id, rtype.authority, catalog=run.catalog, at=at)
    index = {
        (r.record_type, r.values.get("document_no"), r.values.get("subject_code") or None): r.index
        for r in run.observed
    }
    by_code = run.population.by_code
    links: list[Link] = []
    pairs: set[tuple[int, str]] = set()
    with engine.connect() as conn:
        query = (
            select(
                records_table.c.record_type,
                records_table.c.document_no,
                records_table.c.subject_code,
                subjects_table.c.primary_code,
            )
            .join(subjects_table, subjects_table.c.id == records_table.c.subject_id)
            .where(records_table.c.superseded_at.is_(None))
        )
        for type_id, doc, code, primary in conn.execute(query):
            found = index.get((type_id, doc, code or None))
            sid = by_code.get(primary)
            if found is not None and sid is not None:
                links.append(Link(found, sid, "code"))
        r = index_table.c
        reach = reach_of(run.catalog)
        query = (
            select(subjects_table.c.primary_code, r.list_id, r.subject_kind, r.role)
            .join(subjects_table, subjects_table.c.id == r.subject_id)
            .where(
                r.superseded_at.is_(None),
                (r.valid_from.is_(None)) | (r.valid_from <= at),
                (r.valid_to.is_(None)) | (r.valid_to >= at),
            )
        )
        for code, list_id, kind, role in conn.execute(query):
            if code in by_code:
                pairs.update(
                    (by_code[code], m.id)
                    for m in reach.measures(list_id, way_of(kind, role))
                    if m.effect in ("deny", "review")
                )
        truth = _derive(run, None)
        t_restr = restrictions(run.catalog, run.population, _in_force(truth.entries, at))
        asked = sorted({s for s, _ in pairs} | {x.subject_id for x in t_restr})
        actions = sorted(
            {
                a
                for m in run.catalog.measures.values()
                if m.polarity == "punishment"
                for a in m.actions
            }
        )
        restricted: set[int] = set()
        decisions = 0
        for sid in asked:
            for action in actions:
                decision = check(
                    conn, run.population.code[sid], action, at, catalog=run.catalog, log=False
                )
                decisions += 1
                if decision.outcome in ("deny", "review"):
                    restricted.add(sid)
    engine.dispose()
    links.sort(key=lambda link: (link.row, link.subject_id))
    return PipelineRun(links, pairs, restricted, decisions, time.perf_counter() - began)


def compare_pipeline(run: LabRun, url: str, at: date) -> dict[str, Any]:
    """Code-only through the platform's ingest → link → lists → measures → check, against the
    arithmetic: links, restriction index, people restricted, and the harm counts."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="xinyong-harm-") as work:
        real = run_pipeline(run, url, Path(work), at)
    mine = sorted(
        link_rows(run.population, run.observed, "code_only"),
        key=lambda link: (link.row, link.subject_id),
    )
    truth = _derive(run, None)
    seen = _Derived(entries(run.catalog, run.observed, mine), mine)
    arithmetic_pairs = {
        (x.subject_id, x.measure_id)
        for x in restrictions(run.catalog, run.population, _in_force(seen.entries, at))
    }
    real_seen = _Derived(entries(run.catalog, run.observed, real.links), real.links)
    real_result = _compare(run, "code_only", truth, real_seen, at)
    return {
        "links_agree": [(x.row, x.subject_id) for x in real.links]
        == [(x.row, x.subject_id) for x in mine],
        "index_agrees": real.pairs == arithmetic_pairs,
        "decisions_agree": real.restricted == {s for s, _ in arithmetic_pairs},
        "links": len(real.links),
        "index_rows": len(real.pairs),
        "decisions": real.decisions,
        "restricted_by_decisions": len(real.restricted),
        "wrongly_restricted": real_result.wrongly_restricted,
        "wrongly_restricted_by_source": real_result.wrongly_restricted_by_source,
        "missed": real_result.missed,
        "seconds": round(real.seconds, 3),
        "rows_per_second": round(len(run.observed) / real.seconds, 1) if real.seconds else 0.0,
    }
