"""Policy what-ifs: change a list's period or a measure in the catalog, rerun the lists and
measures on the same snapshot, and count who would be affected, by region and kind, over time.

A snapshot is a lab run (:func:`xinyong.lab.harm.simulate`): the rows as submitted, linked by
code as the platform links them. Changes, each ``ENTITY ID KEY=VALUE…`` (``--change``):

- ``list ID period=3y`` — the list's entries last 3 years from their start (replacing the
  period's length, maximum, ``until`` event and variants);
- ``measure ID period=3y`` — the measure applies only for the first 3 years of each entry;
- ``measure ID off`` — the measure is dropped;
- ``measure ID applies_to=individual,enterprise`` / ``lists=…`` / ``actions=…``.

An overlay (``--overlay FILE``) is a YAML catalog fragment with ``lists:`` and ``measures:``
sections, each id mapping to the keys to replace (an unknown id adds a whole new entity); the
result is validated by the catalog's own model, so an overlay cannot do what a catalog file
could not (a measure without a legal basis, a list that does not exist …).

"Affected" at a date: a subject that gains a punishment measure in the changed world
(``newly_restricted``) or loses one (``released``); the series also counts subjects under any
punishment measure in each world.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from xinyong.catalog import Catalog, Duration, ListDef, Measure
from xinyong.catalog.periods import last_day
from xinyong.errors import UnusableInput
from xinyong.lab.harm import (
    Entry,
    LabRun,
    Population,
    entries,
    link_rows,
    reaches,
)

__all__ = ["CatalogChange", "WhatIfResult", "apply", "load_overlay", "parse_change", "whatif"]

_SECTIONS: dict[str, type[ListDef] | type[Measure]] = {"list": ListDef, "measure": Measure}


@dataclass(frozen=True)
class CatalogChange:
    """One ``--change``: an entity, and the keys to set (``off`` drops a measure)."""

    section: str
    entity_id: str
    settings: Mapping[str, str]
    text: str


def parse_change(text: str) -> CatalogChange:
    """``measure serious_dishonesty_flight_ban period=3y`` → a change; ``UnusableInput`` if bad."""
    parts = text.split()
    if len(parts) < 3 or parts[0] not in _SECTIONS:
        raise UnusableInput(
            f"改动应为 'list|measure ID 键=值…' / a change is 'list|measure ID KEY=VALUE…', "
            f"not {text!r}"
        )
    section, entity_id, *rest = parts
    settings: dict[str, str] = {}
    for part in rest:
        key, sep, value = part.partition("=")
        if part == "off" and section == "measure":
            settings["off"] = "true"
            continue
        allowed = {"period"} if section == "list" else {"period", "applies_to", "lists", "actions"}
        if not sep or key not in allowed or not value:
            raise UnusableInput(
                f"{section} 不能改 {part!r}（可改：{', '.join(sorted(allowed))}）/ cannot set "
                f"{part!r} on a {section} (settable: {', '.join(sorted(allowed))})"
            )
        settings[key] = value
    return CatalogChange(section, entity_id, settings, text)


def _duration(text: str) -> Duration:
    try:
        return Duration.model_validate(text)
    except ValidationError as error:
        raise UnusableInput(
            f"期限格式应为 180d、3m 或 2y / a period looks like 180d, 3m or 2y, not {text!r}"
        ) from error


def _validated(section: str, entity_id: str, data: dict[str, Any]) -> ListDef | Measure:
    model = _SECTIONS[section]
    try:
        return model.model_validate({**data, "id": entity_id})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise UnusableInput(
            f"{section} {entity_id} 改动后无效 / {section} {entity_id} is invalid after the "
            f"change: {where}: {first['msg']}"
        ) from error


def _replace(catalog: Catalog, section: str, entity: ListDef | Measure | None, key: str) -> Catalog:
    name = "lists" if section == "list" else "measures"
    current = dict(getattr(catalog, name))
    if entity is None:
        current.pop(key, None)
    else:
        current[key] = entity
    new = catalog.model_copy(update={name: current})
    for measure in new.measures.values():
        missing = [x for x in measure.lists if x not in new.lists]
        unknown = [a for a in measure.actions if a not in new.actions]
        if missing or unknown:
            raise UnusableInput(
                f"措施 {measure.id} 引用了不存在的 {', '.join(missing + unknown)} / measure "
                f"{measure.id} refers to unknown {', '.join(missing + unknown)}"
            )
    return new


def apply(
    catalog: Catalog, changes: Sequence[CatalogChange]
) -> tuple[Catalog, dict[str, Duration]]:
    """The catalog with ``changes`` made, and measure id → the period it is capped to."""
    caps: dict[str, Duration] = {}
    for change in changes:
        section = "lists" if change.section == "list" else "measures"
        table: Mapping[str, ListDef | Measure] = getattr(catalog, section)
        if change.entity_id not in table:
            raise UnusableInput(
                f"目录中没有 {change.section} {change.entity_id} / the catalog has no "
                f"{change.section} {change.entity_id}"
            )
        data = table[change.entity_id].model_dump(exclude={"origin"})
        if change.settings.get("off"):
            catalog = _replace(catalog, change.section, None, change.entity_id)
            continue
        for key, value in change.settings.items():
            if key == "period" and change.section == "list":
                start = data["period"]
                data["period"] = {
                    "length": str(_duration(value)),
                    "from_field": start["from_field"],
                    "fallback_from_field": start.get("fallback_from_field"),
                    "legal_basis": start.get("legal_basis", []),
                }
            elif key == "period":
                caps[change.entity_id] = _duration(value)
            else:
                data[key] = value.split(",")
        entity = _validated(change.section, change.entity_id, data)
        catalog = _replace(catalog, change.section, entity, change.entity_id)
    return catalog, caps


def load_overlay(catalog: Catalog, path: Path) -> Catalog:
    """``catalog`` with an overlay file's ``lists:`` and ``measures:`` merged in."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UnusableInput(f"{path}: {error.strerror}") from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UnusableInput(f"{path}: 不是有效的 YAML / not valid YAML") from error
    if not isinstance(data, dict) or not set(data) <= {"lists", "measures"} or not data:
        raise UnusableInput(
            f"{path}: 覆盖文件只能有 lists 和 measures 两节 / an overlay has only lists: and "
            "measures: sections"
        )
    for name, section in (("lists", "list"), ("measures", "measure")):
        entries_ = data.get(name) or {}
        if not isinstance(entries_, dict):
            raise UnusableInput(f"{path}: {name} 应为映射 / {name} must be a mapping")
        for entity_id, settings in entries_.items():
            if not isinstance(settings, dict):
                raise UnusableInput(f"{path}: {name}.{entity_id} 应为映射 / must be a mapping")
            current = getattr(catalog, name).get(entity_id)
            base = current.model_dump(exclude={"origin"}) if current is not None else {}
            entity = _validated(section, str(entity_id), {**base, **settings})
            catalog = _replace(catalog, section, entity, str(entity_id))
    return catalog


@dataclass
class WhatIfResult:
    """Baseline and changed worlds, compared at each date."""

    changes: list[str]
    subjects: int
    at: str
    series: list[dict[str, Any]]
    by_region: list[dict[str, Any]]
    by_kind: dict[str, dict[str, int]]
    newly_restricted: int
    released: int
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _restricted(
    catalog: Catalog,
    population: Population,
    all_entries: Sequence[Entry],
    at: date,
    caps: Mapping[str, Duration],
) -> set[tuple[int, str]]:
    """(subject, measure) pairs in force at ``at``."""
    out: set[tuple[int, str]] = set()
    measures = {
        list_id: [m for m in catalog.measures_for(list_id) if m.polarity == "punishment"]
        for list_id in catalog.lists
    }
    for entry in all_entries:
        if not entry.holds(at):
            continue
        kind = population.kind[entry.subject_id]
        for measure in measures.get(entry.list_id, ()):
            cap = caps.get(measure.id)
            if (
                cap is not None
                and entry.valid_from is not None
                and at > last_day(entry.valid_from, cap)  # through the corresponding day
            ):
                continue
            if kind in measure.applies_to:
                out.add((entry.subject_id, measure.id))
            rep = population.rep.get(entry.subject_id)
            if rep is not None and reaches(measure, kind):
                out.add((rep, measure.id))
    return out


def _people(pairs: set[tuple[int, str]]) -> set[int]:
    return {subject for subject, _ in pairs}


def _province(code: str) -> str:
    from xinyong.codes.regions import province_of

    region = province_of(code)
    return region.name if region is not None else code[:2]


def whatif(
    run: LabRun,
    changed: Catalog,
    *,
    caps: Mapping[str, Duration] | None = None,
    changes: Sequence[str] = (),
    at: date | None = None,
    points: int = 14,
) -> WhatIfResult:
    """Compare the run's catalog with ``changed`` on the same rows, linked by code."""
    import time

    began = time.perf_counter()
    caps = caps or {}
    at = at or run.end
    links = link_rows(run.population, run.observed, "code_only")
    base_entries = entries(run.catalog, run.observed, links)
    new_entries = entries(changed, run.observed, links)
    span = (at - run.start).days
    dates = [run.start + timedelta(days=round(span * (i + 1) / points)) for i in range(points)]
    series = []
    for when in dates:
        base = _restricted(run.catalog, run.population, base_entries, when, {})
        new = _restricted(changed, run.population, new_entries, when, caps)
        gained, lost = _people(new - base), _people(base - new)
        series.append(
            {
                "at": when.isoformat(),
                "baseline": len(_people(base)),
                "changed": len(_people(new)),
                "newly_restricted": len(gained),
                "released": len(lost),
            }
        )
    base = _restricted(run.catalog, run.population, base_entries, at, {})
    new = _restricted(changed, run.population, new_entries, at, caps)
    gained, lost = _people(new - base), _people(base - new)
    pop = run.population
    regions: dict[str, Counter[str]] = {}
    kinds: dict[str, Counter[str]] = {}
    for label, people in (("newly_restricted", gained), ("released", lost)):
        for sid in people:
            province = pop.region[sid][:2] + "0000"
            regions.setdefault(province, Counter())[label] += 1
            kinds.setdefault(pop.kind[sid], Counter())[label] += 1
    by_region = [
        {
            "region": code,
            "name": _province(code),
            "newly_restricted": counts["newly_restricted"],
            "released": counts["released"],
        }
        for code, counts in sorted(regions.items(), key=lambda x: (-x[1].total(), x[0]))
    ]
    return WhatIfResult(
        changes=list(changes),
        subjects=pop.size,
        at=at.isoformat(),
        series=series,
        by_region=by_region,
        by_kind={
            k: {"newly_restricted": c["newly_restricted"], "released": c["released"]}
            for k, c in sorted(kinds.items())
        },
        newly_restricted=len(gained),
        released=len(lost),
        seconds=round(time.perf_counter() - began, 3),
    )
