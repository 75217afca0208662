"""Which column of a file gives which field: the plan a file is read by, decided once per file.

A header goes to a field by the department's mapping file first (``--map``), then by the
catalog (the field's name or any alias, compared after ``normalise_header``: full-width and
half-width parentheses alike, spaces and a trailing ``*`` or colon dropped). A header that goes to
no field is *unmapped*: its cells are kept with each record under the header as written, and
reported. A required field that no column and no constant gives is *missing*: the file cannot
be used, and the message lists the headers seen and the aliases known.

The plan also names the published layout the headers match best (``RecordType.layouts``), so a
person sees at once that a file is, say, the newer double-publicity penalty standard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xinyong.catalog.model import UNIT_YUAN, FieldSpec, FieldType, RecordType, normalise_header
from xinyong.errors import UnusableInput

#: A layout is named when at least this share of its columns is in the file.
LAYOUT_SHARE = 0.6


@dataclass(frozen=True)
class Mapping:
    """A department's own mapping (``xinyong ingest --map FILE``), validated on loading.

    ``columns``: normalised header → field; ``constants``: field → text, for rows that give the
    field no value; ``values``: field → normalised wording → the wording the catalog knows.
    """

    file: str
    record_type: str
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LayoutMatch:
    """The published layout a file's headers match best, and how well."""

    id: str
    name_zh: str
    name_en: str
    matched: int
    of: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "matched": self.matched,
            "of": self.of,
        }

    def describe(self) -> str:
        return f"{self.name_zh} / {self.name_en} ({self.id}, {self.matched}/{self.of})"


@dataclass(frozen=True)
class ColumnPlan:
    """How one file's headers are read as ``record_type``'s fields."""

    record_type: RecordType
    headers: tuple[str, ...]
    columns: tuple[tuple[str, FieldSpec], ...]  # (header as written, field)
    unmapped: tuple[str, ...]
    missing: tuple[FieldSpec, ...]
    layout: LayoutMatch | None
    mapping: Mapping | None = None
    #: Headers whose field the mapping file gave (the rest came from the catalog).
    from_mapping: frozenset[str] = frozenset()

    def require_complete(self) -> None:
        """``UnusableInput`` when a required field has no column: the headers seen, the aliases
        known."""
        if not self.missing:
            return
        zh = "、".join(
            f"{f.name}（{'、'.join(f.aliases) if f.aliases else f.name}）" for f in self.missing
        )
        en = "; ".join(f"{f.name} ({', '.join([f.name, *f.aliases])})" for f in self.missing)
        seen = ", ".join(self.headers)
        raise UnusableInput(
            f"缺少必填列 {zh}；文件的表头：{seen} / missing required column(s) for record type "
            f"{self.record_type.id}: {en}; the file's headers: {seen} "
            "(name the column in a mapping file: --map, see --suggest-map)"
        )

    def mapping_json(self) -> list[dict[str, str]]:
        return [
            {
                "header": header,
                "field": spec.name,
                "by": "mapping" if header in self.from_mapping else "catalog",
            }
            for header, spec in self.columns
        ]

    def constants(self) -> dict[str, str]:
        return dict(self.mapping.constants) if self.mapping else {}

    def vocabulary(self, name: str) -> dict[str, str]:
        return self.mapping.values.get(name, {}) if self.mapping else {}


def header_unit(header: str) -> str | None:
    """The money unit a header names: ``罚款金额（万元）`` ten_thousand_yuan, ``（元）`` yuan."""
    text = normalise_header(header)
    if "万元" in text:
        return "ten_thousand_yuan"
    if "(元)" in text or text.endswith("元"):
        return "yuan"
    return None


def column_unit(header: str, spec: FieldSpec) -> str | None:
    """The unit a money column's bare numbers are in (the header's, else the field's)."""
    if spec.type is not FieldType.DECIMAL or spec.unit is None:
        return None
    unit = header_unit(header)
    return unit if unit in UNIT_YUAN else spec.unit


def detect_layout(record_type: RecordType, headers: list[str]) -> LayoutMatch | None:
    """The layout with the largest share of its columns among ``headers`` (at least 60%)."""
    present = {normalise_header(h) for h in headers}
    best: LayoutMatch | None = None
    best_share = 0.0
    for layout in record_type.layouts:
        wanted = {normalise_header(c) for c in layout.columns}
        matched = len(wanted & present)
        share = matched / len(wanted)
        if share >= LAYOUT_SHARE and share > best_share:
            best_share = share
            best = LayoutMatch(layout.id, layout.name_zh, layout.name_en, matched, len(wanted))
    return best


def plan_columns(
    record_type: RecordType, headers: list[str], mapping: Mapping | None = None
) -> ColumnPlan:
    """The plan for ``headers``; ``UnusableInput`` if two columns give the same field.

    Missing required fields are in the plan (``require_complete`` refuses them), so a dry run
    can show them next to everything else.
    """
    catalog_map = record_type.header_map()
    own = mapping.columns if mapping else {}
    specs = {f.name: f for f in record_type.fields}
    columns: list[tuple[str, FieldSpec]] = []
    unmapped: list[str] = []
    from_mapping: set[str] = set()
    seen: dict[str, str] = {}
    for header in headers:
        key = normalise_header(header)
        if not key:
            continue
        name = own.get(key)
        if name is not None:
            from_mapping.add(header)
        else:
            name = catalog_map.get(key)
        if name is None:
            unmapped.append(header)
            continue
        if name in seen:
            raise UnusableInput(
                f"列 {seen[name]!r} 与 {header!r} 都对应字段 {name} / columns {seen[name]!r} "
                f"and {header!r} both give field {name}"
            )
        seen[name] = header
        columns.append((header, specs[name]))
    constants = mapping.constants if mapping else {}
    missing = tuple(
        f
        for f in record_type.fields
        if f.required and f.name not in seen and f.name not in constants
    )
    return ColumnPlan(
        record_type,
        tuple(headers),
        tuple(columns),
        tuple(unmapped),
        missing,
        detect_layout(record_type, headers),
        mapping,
        frozenset(from_mapping),
    )
