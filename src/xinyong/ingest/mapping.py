"""A department's mapping file: its own headers, constants and wordings → the catalog's fields.

For a file in a layout the catalog does not know (``xinyong ingest FILE --map MAPPING.yaml``)::

    record_type: admin_penalty        # optional; must be the --type given
    columns:                          # the file's header → a field of the record type
      当事人: subject_name
      信用代码: subject_code
    constants:                        # a value for rows that give the field none
      penalising_authority: 某市市场监督管理局
    values:                           # the department's wordings → the catalog's
      severity:
        较重: serious

Checked as the catalog is: an unknown key, an unknown field, a constant that is not a value of
its field (a date that is no date) or a wording mapped to no value of an enum field is refused
with the file and the line (``MappingError``, exit 2). Headers are compared after
``normalise_header``, as the catalog's aliases are.

``suggest_mapping`` writes a draft from header similarity (RapidFuzz) for a person to check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from xinyong.catalog.marked_yaml import MarkedDict, load_marked
from xinyong.catalog.model import Catalog, FieldSpec, RecordType, normalise_header
from xinyong.errors import CatalogError, MappingError, UnusableInput
from xinyong.ingest.plan import Mapping, plan_columns
from xinyong.ingest.validate import ValueProblem, parse_constant

SECTIONS = ("record_type", "columns", "constants", "values")
#: The largest mapping file an upload may carry.
MAX_MAPPING = 1024 * 1024
#: Suggestions below this similarity (0–100) are left for a person to fill in.
SUGGEST_THRESHOLD = 60.0


def load_mapping(path: Path, record_type: RecordType, *, label: str | None = None) -> Mapping:
    """Read and check a mapping file for ``record_type``; ``MappingError`` names file and line."""
    label = label or str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MappingError(f"无法读取 / cannot read: {error.strerror}", file=label) from error
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise MappingError("须为 UTF-8 编码 / must be UTF-8", file=label, line=line) from error
    return parse_mapping(text, record_type, label=label)


def uploaded_mapping(
    catalog: Catalog, record_type: str, data: bytes, file_name: str
) -> Mapping | None:
    """A mapping uploaded with a file (portal and API), or None when none was sent."""
    if not data:
        return None
    if len(data) > MAX_MAPPING:
        raise MappingError("映射文件过大 / mapping file too large (1 MB)", file=file_name)
    label = Path(file_name or "mapping.yaml").name[:200]
    rtype = catalog.record_types.get(record_type)
    if rtype is None:
        raise UnusableInput(f"未知记录类型 / unknown record type {record_type!r}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise MappingError("须为 UTF-8 编码 / must be UTF-8", file=label, line=line) from error
    return parse_mapping(text, rtype, label=label)


def parse_mapping(text: str, record_type: RecordType, *, label: str) -> Mapping:
    """Check mapping ``text`` (YAML) for ``record_type``."""
    try:
        root = load_marked(text, label)
    except CatalogError as error:
        raise MappingError(str(error.detail or error), file=label, line=error.line) from error
    if root is None:
        root = MarkedDict(1)
    if not isinstance(root, MarkedDict):
        raise MappingError(
            f"须是映射（{', '.join(SECTIONS)}）/ must be a mapping of {', '.join(SECTIONS)}",
            file=label,
            line=1,
        )
    for key in root:
        if key not in SECTIONS:
            raise MappingError(
                f"未知的键 {key!r}（允许：{', '.join(SECTIONS)}）/ unknown key {key!r} "
                f"(allowed: {', '.join(SECTIONS)})",
                file=label,
                line=root.line_of(key),
            )
    named = root.get("record_type")
    if named is not None and named != record_type.id:
        raise MappingError(
            f"映射文件用于 {named}，不是 {record_type.id} / the mapping is for {named}, "
            f"not {record_type.id}",
            file=label,
            line=root.line_of("record_type"),
        )
    specs = {f.name: f for f in record_type.fields}
    checker = _Checker(label, record_type, specs)
    columns = {
        normalise_header(str(header)): checker.field(section, header, name)
        for section, header, name in checker.entries(root, "columns")
    }
    constants: dict[str, str] = {}
    for section, name, value in checker.entries(root, "constants"):
        spec = specs[checker.field(section, name, name)]
        text_value = "" if value is None else str(value).strip()
        try:
            parse_constant(spec, text_value)
        except ValueProblem as problem:
            raise MappingError(
                f"常量 {name} 不是该字段的有效值：{problem.zh} / constant {name} is not a value "
                f"of the field: {problem.en}",
                file=label,
                line=section.line_of(name),
            ) from None
        constants[spec.name] = text_value
    values: dict[str, dict[str, str]] = {}
    for section, name, words in checker.entries(root, "values"):
        spec = specs[checker.field(section, name, name)]
        if not isinstance(words, MarkedDict):
            raise MappingError(
                f"values.{name} 须是“原写法: 目录写法”的映射 / values.{name} must map the "
                "department's wording to the catalog's",
                file=label,
                line=section.line_of(name),
            )
        values[spec.name] = {
            normalise_header(str(word)): checker.wording(words, word, spec, target)
            for word, target in words.items()
        }
    return Mapping(label, record_type.id, columns, constants, values)


class _Checker:
    """Field and wording checks, each failure with the line it stands on."""

    def __init__(self, label: str, record_type: RecordType, specs: dict[str, FieldSpec]) -> None:
        self.label, self.record_type, self.specs = label, record_type, specs

    def entries(self, root: MarkedDict, name: str) -> list[tuple[MarkedDict, Any, Any]]:
        section = root.get(name)
        if section is None:
            return []
        if not isinstance(section, MarkedDict):
            raise MappingError(
                f"{name} 须是映射 / {name} must be a mapping",
                file=self.label,
                line=root.line_of(name),
            )
        return [(section, key, value) for key, value in section.items()]

    def field(self, section: MarkedDict, key: Any, name: Any) -> str:
        if not isinstance(name, str) or name not in self.specs:
            known = ", ".join(self.specs)
            raise MappingError(
                f"未知字段 {name!r}：记录类型 {self.record_type.id} 的字段为 {known} / unknown "
                f"field {name!r}: the fields of record type {self.record_type.id} are {known}",
                file=self.label,
                line=section.line_of(key),
            )
        return name

    def wording(self, words: MarkedDict, word: Any, spec: FieldSpec, target: Any) -> str:
        text = "" if target is None else str(target).strip()
        if spec.enum is not None and spec.lookup(text) is None:
            ids = ", ".join(v.id for v in spec.enum)
            raise MappingError(
                f"{word!r} → {text!r}：不是字段 {spec.name} 的取值（{ids}）/ {text!r} is not a "
                f"value of field {spec.name} ({ids})",
                file=self.label,
                line=words.line_of(word),
            )
        return text


def _similarity(header: str, spec: FieldSpec) -> float:
    key = normalise_header(header)
    return max(
        fuzz.WRatio(key, normalise_header(word)) for word in (spec.name, *spec.aliases) if word
    )


def suggest_mapping(record_type: RecordType, headers: list[str], *, file_name: str = "") -> str:
    """A draft mapping (YAML text) for ``headers``, for a person to check before use.

    Headers the catalog already knows are listed as they map; each other header gets the most
    similar field not yet taken (RapidFuzz), with its score, or a commented line to fill in.
    Required fields no column gives are listed under ``constants``, commented out.
    """
    plan = plan_columns(record_type, headers)
    taken = {spec.name for _, spec in plan.columns}
    guesses: list[tuple[float, str, FieldSpec]] = sorted(
        (
            (_similarity(header, spec), header, spec)
            for header in plan.unmapped
            for spec in record_type.fields
            if spec.name not in taken
        ),
        key=lambda item: (-item[0], item[1], item[2].name),
    )
    chosen: dict[str, tuple[FieldSpec, float]] = {}
    for score, header, spec in guesses:
        if score < SUGGEST_THRESHOLD or header in chosen or spec.name in taken:
            continue
        chosen[header] = (spec, score)
        taken.add(spec.name)
    lines = [
        f"# 字段映射草稿 / draft mapping{f' for {file_name}' if file_name else ''}",
        "# 请逐行核对后使用：xinyong ingest FILE --type "
        f"{record_type.id} --map THIS.yaml / check every line, then use it",
        f"record_type: {record_type.id}",
        "columns:",
    ]
    for header, spec in plan.columns:
        lines.append(f"  {_quote(header)}: {spec.name}  # 目录已识别 / known to the catalog")
    for header in plan.unmapped:
        if header in chosen:
            spec, score = chosen[header]
            lines.append(
                f"  {_quote(header)}: {spec.name}  # 相似度 / similarity {score:.0f}, "
                "请核对 / check"
            )
        else:
            lines.append(
                f"  # {_quote(header)}: ?  # 未找到相近字段，不填则随记录原样保留 / no similar "
                "field; left as is, the column is kept with each record under its header"
            )
    missing = [f for f in plan.missing if f.name not in {s.name for s, _ in chosen.values()}]
    lines.append("constants:" if missing else "constants: {}")
    for spec in missing:
        lines.append(
            f"  # {spec.name}: ?  # 必填，文件中没有 / required, not in the file "
            f"({spec.type.value})"
        )
    lines.append("values: {}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
