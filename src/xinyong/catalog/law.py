"""The law by date: which instruments are in force on a day, which rule governs a fact.

Every instrument carries ``effective_on`` and, once repealed or replaced, ``repealed_on`` and
``replaced_by``. A rule that cites instruments — a record type's period and repair rules, a
list and its period, a measure, a scoring model's points and grade rules — holds only while
every instrument of its own ``legal_basis`` is in force: its :class:`~.model.Window`, which the
loader derives once (:func:`bind_windows`) and checks:

- a rule whose instrument leaves force is replaced by a newer version (``earlier:`` holds the
  older versions of a period or repair rule; each ends the day the next one begins), or
  declares a transitional provision (``transitional: {governs_facts_decided_before, legal_basis}``)
  saying that it keeps governing facts decided before that day — otherwise the catalog does not
  load;
- what a rule's variants, extension and notice cite is in force for the rule's whole window.

**Which rule governs a fact** (:func:`governing`), given the day the fact was decided and the
day asked about (``at``): the version in force on ``at``, unless the version in force on the
decision day has a transitional provision covering that day — then that older version (the
fact keeps its own rule). Before the oldest version's first day, the oldest version (the
catalog holds no older law). The same choice in SQL: :func:`version_sql`.

:func:`diff` lists what entered and left force between two days (``xinyong catalog diff``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from xinyong.catalog.model import (
    Catalog,
    Dated,
    Instrument,
    LegalRef,
    ListDef,
    Measure,
    PeriodRule,
    PointsSpec,
    RecordType,
    ScoringModel,
    Window,
)

ONE_DAY = timedelta(days=1)

D = TypeVar("D", bound=Dated)


# -- windows -------------------------------------------------------------------------------------


def window_of(instruments: dict[str, Instrument], refs: Sequence[LegalRef]) -> Window:
    """The days every instrument of ``refs`` is in force (their intersection)."""
    starts = [
        i.effective_on for r in refs if (i := instruments.get(r.instrument)) and i.effective_on
    ]
    ends = [i.repealed_on for r in refs if (i := instruments.get(r.instrument)) and i.repealed_on]
    return Window(start=max(starts, default=None), end=min(ends, default=None))


def own_refs(rule: Dated) -> list[LegalRef]:
    """The legal basis a rule's window comes from: its own ``legal_basis``."""
    refs: list[LegalRef] = list(getattr(rule, "legal_basis", []))
    return refs


def inner_refs(rule: Dated) -> Iterator[tuple[tuple[int | str, ...], LegalRef]]:
    """The references inside a rule that must hold for its whole window: variants', the
    extension's and the notice's legal bases (not the transitional provision's, which cites the
    law that keeps it)."""
    if isinstance(rule, PeriodRule):
        if rule.extension is not None:
            for i, ref in enumerate(rule.extension.legal_basis):
                yield ("extension", "legal_basis", i), ref
        for v, variant in enumerate(rule.variants):
            for i, ref in enumerate(variant.legal_basis):
                yield ("variants", v, "legal_basis", i), ref
    if isinstance(rule, ListDef) and rule.notice is not None:
        for i, ref in enumerate(rule.notice.legal_basis):
            yield ("notice", "legal_basis", i), ref


def dated_rules(entity: Any) -> Iterator[tuple[tuple[int | str, ...], Dated]]:
    """Every dated rule of a catalog entity with its path (versions included)."""
    if isinstance(entity, RecordType):
        for name in ("disclosure_period", "repair"):
            rule = getattr(entity, name)
            if rule is not None:
                yield (name,), rule
                for i, older in enumerate(rule.earlier):
                    yield (name, "earlier", i), older
    elif isinstance(entity, ListDef):
        yield (), entity
        yield ("period",), entity.period
        for i, older in enumerate(entity.period.earlier):
            yield ("period", "earlier", i), older
    elif isinstance(entity, Measure):
        yield (), entity
    elif isinstance(entity, ScoringModel) and isinstance(entity.spec, PointsSpec):
        for i, points in enumerate(entity.spec.rules):
            yield ("spec", "rules", i), points
        for i, grade in enumerate(entity.spec.grade_rules):
            yield ("spec", "grade_rules", i), grade


def bind_windows(entity: Any, instruments: dict[str, Instrument]) -> None:
    """Set the window of every dated rule of ``entity`` (the loader's pass 2)."""
    for _, rule in dated_rules(entity):
        rule.bind_window(window_of(instruments, own_refs(rule)))


def window_problems(
    entity: Any, instruments: dict[str, Instrument]
) -> Iterator[tuple[tuple[int | str, ...], str]]:
    """What the loader refuses about the dates of ``entity``'s rules, with the path of each
    (windows already bound)."""
    for path, rule in dated_rules(entity):
        if "earlier" in path:
            continue  # checked with the rule it is a version of
        versions: list[Any] = list(rule.versions()) if hasattr(rule, "versions") else [rule]
        if versions[-1] is not rule:
            yield (
                path,
                (
                    "规则本身须是最新版本，earlier 只列旧版本 / the rule itself must be its newest "
                    "version (earlier lists older ones, ending where the next begins)"
                ),
            )
            continue
        yield from _version_chain(path, versions)
        for i, version in enumerate(versions):
            end = versions[i + 1].window.start if i + 1 < len(versions) else version.window.end
            where = path if version is rule else (*path, "earlier")
            yield from _inner(where, version, end, instruments)


def _version_chain(
    path: tuple[int | str, ...], versions: list[Any]
) -> Iterator[tuple[tuple[int | str, ...], str]]:
    for i, older in enumerate(versions):
        newer = versions[i + 1] if i + 1 < len(versions) else None
        where = path if older is versions[-1] else (*path, "earlier")
        t = older.transitional
        if newer is None:
            if older.window.end is not None and t is None:
                yield (
                    where,
                    (
                        f"所引文件自 {older.window.end} 起失效，规则须有新版本或过渡条款 "
                        f"(transitional，注明条款) / an instrument it cites leaves force on "
                        f"{older.window.end}: give a newer version or a transitional provision "
                        "citing its article"
                    ),
                )
        else:
            if newer.window.start is None:
                yield (
                    path,
                    (
                        "新版本所引文件须有施行日期 / the newer version's instruments need an "
                        "effective_on"
                    ),
                )
            elif older.window.end != newer.window.start:
                yield (
                    where,
                    (
                        f"旧版本的失效日（{older.window.end or '仍有效'}）须等于新版本的施行日"
                        f"（{newer.window.start}）/ the older version must leave force "
                        f"({older.window.end or 'still in force'}) the day the newer one takes "
                        f"effect ({newer.window.start}): give its instrument repealed_on"
                    ),
                )
        end = older.window.end
        if t is not None and end is not None and t.governs_facts_decided_before > end:
            yield (
                (*where, "transitional"),
                (
                    f"过渡条款的日期晚于规则失效日 {end} / the transitional day is after the "
                    f"rule leaves force ({end})"
                ),
            )


def _inner(
    path: tuple[int | str, ...],
    rule: Dated,
    end: date | None,
    instruments: dict[str, Instrument],
) -> Iterator[tuple[tuple[int | str, ...], str]]:
    start = rule.window.start
    for sub, ref in inner_refs(rule):
        inst = instruments.get(ref.instrument)
        if inst is None:
            continue
        late = inst.effective_on is not None and (start is None or inst.effective_on > start)
        early = inst.repealed_on is not None and (end is None or inst.repealed_on < end)
        if late or early:
            yield (
                (*path, *sub),
                (
                    f"{inst.cite()} 在规则有效期内并非一直有效（{inst.effective_on or '?'} 至 "
                    f"{inst.repealed_on or '今'}），规则自 {start or '?'} 起 / "
                    f"{ref.instrument} is not in force for the rule's whole window (the rule "
                    f"holds from {start or '?'}{'' if end is None else f' to {end - ONE_DAY}'})"
                    ": split the rule into versions"
                ),
            )


# -- which rule governs a fact -------------------------------------------------------------------


def version_on(versions: Sequence[D], day: date) -> D:
    """The version in force on ``day`` (oldest first; before the first, the first)."""
    found = versions[0]
    for version in versions:
        if version.window.start is None or version.window.start <= day:
            found = version
    return found


def governing(rule: D, fact_on: date | None, at: date) -> D:
    """The version of ``rule`` (a period or repair rule with ``earlier`` versions, or any dated
    rule) that governs a fact decided on ``fact_on`` asked about on ``at``."""
    versions: list[D] = list(rule.versions()) if hasattr(rule, "versions") else [rule]
    now = version_on(versions, at)
    if fact_on is None:
        return now
    then = version_on(versions, fact_on)
    kept = then.transitional
    if then is not now and kept is not None and fact_on < kept.governs_facts_decided_before:
        return then
    return now


def in_force_sql(rule: Dated, fact_sql: str, at_sql: str) -> str | None:
    """:meth:`~.model.Dated.governs` in SQL (None: the rule holds always)."""

    def holds(day: str) -> str | None:
        w = rule.window
        tests = [f"{day} >= DATE '{w.start.isoformat()}'"] if w.start else []
        tests += [f"{day} < DATE '{w.end.isoformat()}'"] if w.end else []
        return " AND ".join(tests) or None

    now = holds(at_sql)
    if now is None:
        return None
    t = rule.transitional
    if t is None:
        return f"({now})"
    then = holds(fact_sql) or "true"
    before = f"DATE '{t.governs_facts_decided_before.isoformat()}'"
    return f"(({now}) OR ({fact_sql} IS NOT NULL AND {fact_sql} < {before} AND {then}))"


def version_sql(versions: Sequence[Dated], fact_sql: str, at_sql: str) -> str:
    """:func:`governing` in SQL: the index of the governing version (oldest first)."""
    if len(versions) == 1:
        return "0"

    def on(day: str) -> str:
        whens = [
            f"WHEN {day} >= DATE '{v.window.start.isoformat()}' THEN {i}"
            for i, v in reversed(list(enumerate(versions)))
            if v.window.start is not None
        ]
        return f"(CASE {' '.join(whens)} ELSE 0 END)"

    now, then = on(at_sql), on(fact_sql)
    keep = []
    for i, v in enumerate(versions):
        t = v.transitional
        if t is None:
            continue
        before = f"DATE '{t.governs_facts_decided_before.isoformat()}'"
        keep.append(
            f"WHEN {fact_sql} IS NOT NULL AND {then} = {i} AND {fact_sql} < {before} THEN {i}"
        )
    if not keep:
        return now
    return f"(CASE {' '.join(keep)} ELSE {now} END)"


# -- the instruments in force, and what changed --------------------------------------------------


@dataclass(frozen=True)
class LawChange:
    """One instrument or rule that entered or left force between two days."""

    kind: str  # "instrument" or a section/rule path: "record_types/admin_penalty/disclosure_period"
    id: str
    name_zh: str
    name_en: str
    change: str  # "entered" or "left"
    on: date
    instruments: tuple[str, ...]
    unconfirmed: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "change": self.change,
            "on": self.on.isoformat(),
            "instruments": list(self.instruments),
            "unconfirmed": self.unconfirmed,
        }


def diff(catalog: Catalog, start: date, end: date) -> list[LawChange]:
    """Instruments and rules that entered force after ``start`` up to ``end`` (inclusive), or
    left it (no longer in force on a day in that span), ordered by day."""
    changes: list[LawChange] = []

    def crossed(day: date | None) -> bool:
        return day is not None and start < day <= end

    for inst in catalog.instruments.values():
        for change, day, key in (
            ("entered", inst.effective_on, "effective_on"),
            ("left", inst.repealed_on, "repealed_on"),
        ):
            if crossed(day):
                assert day is not None
                changes.append(
                    LawChange(
                        "instrument",
                        inst.id,
                        inst.number or f"《{inst.title_zh}》",
                        inst.title_en,
                        change,
                        day,
                        (inst.id,),
                        key in inst.unconfirmed,
                    )
                )
    for section in ("record_types", "lists", "measures", "scoring_models"):
        for entity in catalog.section(section).values():
            for path, rule in dated_rules(entity):
                name_zh = str(getattr(entity, "name_zh", entity.id))
                name_en = str(getattr(entity, "name_en", entity.id))
                refs = own_refs(rule)
                cited = tuple(dict.fromkeys(r.instrument for r in refs))
                unconfirmed = any(
                    "effective_on" in catalog.instruments[i].unconfirmed
                    or "repealed_on" in catalog.instruments[i].unconfirmed
                    for i in cited
                )
                where = "/".join([section, entity.id, *(str(p) for p in path)])
                for change, day in (("entered", rule.window.start), ("left", rule.window.end)):
                    if crossed(day):
                        assert day is not None
                        changes.append(
                            LawChange(
                                where, entity.id, name_zh, name_en, change, day, cited, unconfirmed
                            )
                        )
    changes.sort(key=lambda c: (c.on, c.change != "left", c.kind, c.id))
    return changes
