"""Load the catalog from YAML in two passes, refusing anything it cannot stand behind.

Pass 1 reads every file (the shipped ones under ``catalog/data/``, then each operator directory
in order), turns each entity into its typed model and refuses bad shapes and duplicate ids.
Pass 2 resolves every reference once: authorities, instruments and their articles, record types,
lists, actions, the fields that conditions and periods name (scoring rules' too), and whether a
measure may reach people through their role. Every refusal is a
:class:`~xinyong.errors.CatalogError` naming the file, the line and the entity.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from xinyong.catalog.law import bind_windows, window_problems
from xinyong.catalog.marked_yaml import MarkedDict, line_at, load_marked, read_text
from xinyong.catalog.model import (
    ID_PATTERN,
    SECTIONS,
    Catalog,
    ListDef,
    Measure,
    Origin,
    RecordType,
    check_where,
)
from xinyong.catalog.model import LegalRef as LegalRefModel
from xinyong.errors import CatalogError

SHIPPED_DIR = Path(__file__).resolve().parent / "data"
CATALOG_SERIES = "2026.1"
"""The release series of the shipped catalog; the version adds a hash of every file loaded."""

SINGULAR = {
    "authorities": "authority",
    "instruments": "instrument",
    "record_types": "record_type",
    "lists": "list",
    "measures": "measure",
    "actions": "action",
    "scoring_models": "scoring_model",
}

_CLOSED_SETS = {
    "categories": "类别",
    "category": "类别",
    "field_types": "字段类型",
    "roles": "角色",
    "subject_kinds": "主体类型",
}


@dataclass(frozen=True)
class _Parsed:
    """One entity after pass 1, with the YAML it came from (for lines in pass-2 errors)."""

    section: str
    entity: Any
    body: MarkedDict
    file: str
    line: int

    @property
    def name(self) -> str:
        return f"{SINGULAR[self.section]}:{self.entity.id}"

    def error(self, detail: str, path: Sequence[int | str] = ()) -> CatalogError:
        return CatalogError(
            detail, file=self.file, line=line_at(self.body, path, self.line), entity=self.name
        )


def load_catalog(extra_dirs: Sequence[Path | str] = ()) -> Catalog:
    """The shipped catalog plus every ``*.yaml``/``*.yml`` file in ``extra_dirs`` (in order).

    Raises :class:`CatalogError` (file, line, entity) for anything it refuses.
    """
    files = [(f"xinyong/catalog/data/{p.name}", p) for p in _yaml_files(SHIPPED_DIR)]
    for directory in extra_dirs:
        path = Path(directory)
        if not path.is_dir():
            raise CatalogError("目录不存在或不是文件夹 / no such directory", file=str(path))
        files.extend((str(p), p) for p in _yaml_files(path))
    return _build(files)


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


def _build(files: Sequence[tuple[str, Path]]) -> Catalog:
    digest = hashlib.sha256()
    parsed: dict[str, dict[str, _Parsed]] = {name: {} for name in SECTIONS}
    for label, path in files:
        text = read_text(path, label)
        digest.update(label.rsplit("/", 1)[-1].encode() + b"\0" + text.encode() + b"\0")
        for item in _parse_file(text, label):
            earlier = parsed[item.section].get(item.entity.id)
            if earlier is not None:
                raise CatalogError(
                    f"重复的标识（已在 {earlier.file}:{earlier.line} 定义）/ duplicate id "
                    f"(already defined at {earlier.file}:{earlier.line})",
                    file=item.file,
                    line=item.line,
                    entity=item.name,
                )
            parsed[item.section][item.entity.id] = item
    _resolve(parsed)
    sections = {name: {k: p.entity for k, p in items.items()} for name, items in parsed.items()}
    return Catalog(
        version=f"{CATALOG_SERIES}+{digest.hexdigest()[:12]}",
        files=[label for label, _ in files],
        **sections,
    )


# ---------------------------------------------------------------------------------------------
# Pass 1: shapes


def _parse_file(text: str, label: str) -> Iterator[_Parsed]:
    root = load_marked(text, label)
    if root is None:
        return
    if not isinstance(root, MarkedDict):
        raise CatalogError(
            "目录文件的顶层须是映射（authorities、record_types …）/ a catalog file must be a "
            "mapping of sections (authorities, record_types, …)",
            file=label,
            line=1,
        )
    for section, entries in root.items():
        line = root.line_of(section)
        if section not in SECTIONS:
            if section in _CLOSED_SETS:
                detail = (
                    f"{_CLOSED_SETS[section]}是代码中的封闭集合，不能由目录文件扩展 / "
                    f"{section} is a closed set in code and cannot be extended from a catalog file"
                )
            else:
                detail = (
                    f"未知的部分 {section!r}（允许：{', '.join(SECTIONS)}）/ unknown section "
                    f"{section!r} (allowed: {', '.join(SECTIONS)})"
                )
            raise CatalogError(detail, file=label, line=line)
        if entries is None:
            continue
        if not isinstance(entries, MarkedDict):
            raise CatalogError(
                f"{section} 须是以标识为键的映射 / {section} must map ids to entries",
                file=label,
                line=line,
            )
        for entity_id, body in entries.items():
            yield _parse_entity(section, entity_id, body, label, entries.line_of(entity_id))


def _parse_entity(section: str, entity_id: Any, body: Any, label: str, line: int) -> _Parsed:
    name = f"{SINGULAR[section]}:{entity_id}"
    if not isinstance(entity_id, str) or not ID_PATTERN.match(entity_id):
        raise CatalogError(
            f"标识须为英文 snake_case / an id must be English snake_case: {entity_id!r}",
            file=label,
            line=line,
            entity=name,
        )
    if not isinstance(body, MarkedDict):
        raise CatalogError(
            "条目须是映射 / an entry must be a mapping", file=label, line=line, entity=name
        )
    if "origin" in body:
        raise CatalogError(
            "origin 由加载器填写 / origin is set by the loader",
            file=label,
            line=body.line_of("origin"),
            entity=name,
        )
    if "id" in body and body["id"] != entity_id:
        raise CatalogError(
            f"id {body['id']!r} 与键 {entity_id!r} 不一致 / id does not match its key",
            file=label,
            line=body.line_of("id"),
            entity=name,
        )
    data = {**body, "id": entity_id, "origin": Origin(file=label, line=line)}
    model: type[BaseModel] = SECTIONS[section]
    try:
        entity = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        more = len(exc.errors()) - 1
        detail = _describe(first)
        if more:
            detail += f"（另有 {more} 处 / and {more} more）"
        raise CatalogError(detail, file=label, line=line_at(body, loc, line), entity=name) from None
    return _Parsed(section, entity, body, label, line)


def _describe(error: Any) -> str:
    loc = ".".join(str(p) for p in error["loc"]) or "(entry)"
    kind = error["type"]
    if kind == "missing":
        return f"缺少必填项 {loc} / missing required key {loc}"
    if kind == "extra_forbidden":
        return f"未知的键 {loc} / unknown key {loc}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in {"too_short", "list_too_short"} and error["loc"]:
        return f"{loc} 不能为空 / {loc} cannot be empty"
    if kind == "enum":
        return f"{loc}: {error.get('input')!r} 不在允许的取值中 / not allowed: {message}"
    return f"{loc}: {message}"


# ---------------------------------------------------------------------------------------------
# Pass 2: references


def _resolve(parsed: dict[str, dict[str, _Parsed]]) -> None:
    instruments = parsed["instruments"]
    record_types = parsed["record_types"]
    lists = parsed["lists"]

    def need(item: _Parsed, section: str, ref: str, path: Sequence[int | str], what: str) -> None:
        if ref not in parsed[section]:
            raise item.error(
                f"引用了未知的{what} {ref!r} / names an unknown {SINGULAR[section]} {ref!r}", path
            )

    for section in SECTIONS:
        for item in parsed[section].values():
            for path, ref in legal_refs(item.entity, ()):
                _check_legal_ref(item, ref, path, instruments)

    for item in instruments.values():
        for i, issuer in enumerate(item.entity.issuers):
            need(item, "authorities", issuer, ("issuers", i), "机关")
        if item.entity.replaced_by is not None:
            need(item, "instruments", item.entity.replaced_by, ("replaced_by",), "文件")

    _check_dates(parsed)

    for item in record_types.values():
        rt: RecordType = item.entity
        need(item, "authorities", rt.authority, ("authority",), "机关")
        for i, source in enumerate(rt.sources):
            need(item, "authorities", source, ("sources", i), "来源机关")
        if rt.repair is not None and rt.repair.decided_by is not None:
            need(item, "authorities", rt.repair.decided_by, ("repair", "decided_by"), "机关")

    for item in record_types.values():
        lifts = item.entity.lifts
        if lifts is None:
            continue
        for i, list_id in enumerate(lifts.lists):
            need(item, "lists", list_id, ("lifts", "lists", i), "名单")
        spec = item.entity.field(lifts.action_field)
        for value in spec.enum or ():
            need(item, "actions", value.id, ("fields",), "行为")

    for item in lists.values():
        lst: ListDef = item.entity
        need(item, "authorities", lst.authority, ("authority",), "机关")
        for i, criterion in enumerate(lst.criteria):
            need(
                item,
                "record_types",
                criterion.record_type,
                ("criteria", i, "record_type"),
                "记录类型",
            )
            target: RecordType = record_types[criterion.record_type].entity
            try:
                check_where(target, dict(criterion.where))
                for start in lst.period.start_fields():
                    if start not in {f.name for f in target.fields}:
                        raise ValueError(
                            f"期限起算字段 {start!r} 不是记录类型 {target.id} 的字段 / the "
                            f"period starts from {start!r}, not a field of {target.id}"
                        )
                for variant in lst.period.variants:
                    check_where(target, variant.when)
            except ValueError as exc:
                raise item.error(str(exc), ("criteria", i)) from None

    for item in parsed["measures"].values():
        measure: Measure = item.entity
        need(item, "authorities", measure.implementing_agency, ("implementing_agency",), "实施部门")
        wanted = "black" if measure.polarity == "punishment" else "red"
        for i, list_id in enumerate(measure.lists):
            need(item, "lists", list_id, ("lists", i), "名单")
            if lists[list_id].entity.polarity != wanted:
                raise item.error(
                    f"{measure.polarity} 措施不能由 {lists[list_id].entity.polarity} 名单触发 / a "
                    f"{measure.polarity} cannot hang on the {lists[list_id].entity.polarity} "
                    f"list {list_id}",
                    ("lists", i),
                )
        for i, action_id in enumerate(measure.actions):
            need(item, "actions", action_id, ("actions", i), "行为")
        _check_role_linked(item, measure, instruments)

    for item in parsed["scoring_models"].values():
        need(item, "authorities", item.entity.authority, ("authority",), "机关")
        # ScoringModel.check_references, condition by condition, for the line of each.
        for name, condition in item.entity.conditions():
            path = tuple(int(p) if p.isdigit() else p for p in name.split("."))
            need(item, "record_types", condition.record_type, (*path, "record_type"), "记录类型")
            try:
                check_where(record_types[condition.record_type].entity, dict(condition.where))
            except ValueError as exc:
                raise item.error(f"{name}: {exc}", (*path, "where")) from None


def _check_dates(parsed: dict[str, dict[str, _Parsed]]) -> None:
    """Bind every rule's window to its instruments' dates, then refuse rules that cite an
    instrument not in force for their whole window (:mod:`xinyong.catalog.law`)."""
    instruments = {k: p.entity for k, p in parsed["instruments"].items()}
    for section in ("record_types", "lists", "measures", "scoring_models"):
        for item in parsed[section].values():
            bind_windows(item.entity, instruments)
    for section in ("record_types", "lists", "measures", "scoring_models"):
        for item in parsed[section].values():
            for path, problem in window_problems(item.entity, instruments):
                raise item.error(problem, path)


def legal_refs(
    obj: Any, path: tuple[int | str, ...]
) -> Iterator[tuple[tuple[int | str, ...], LegalRefModel]]:
    """Every legal reference inside an entity, with its path (for the line of an error)."""
    if isinstance(obj, LegalRefModel):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from legal_refs(getattr(obj, name), (*path, name))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from legal_refs(value, (*path, i))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from legal_refs(value, (*path, key))


def _check_legal_ref(
    item: _Parsed, ref: LegalRefModel, path: Sequence[int | str], instruments: dict[str, _Parsed]
) -> None:
    found = instruments.get(ref.instrument)
    if found is None:
        raise item.error(
            f"法律依据引用了未知的文件 {ref.instrument!r} / the legal basis names an unknown "
            f"instrument {ref.instrument!r}",
            path,
        )
    articles = found.entity.articles
    if not articles:
        return
    if ref.article is None:
        raise item.error(
            f"法律依据须指明 {ref.instrument} 的条款（{', '.join(articles)}）/ the legal basis "
            f"must name an article of {ref.instrument} ({', '.join(articles)})",
            path,
        )
    if ref.article not in articles:
        raise item.error(
            f"{ref.instrument} 没有条款 {ref.article!r}（已列：{', '.join(articles)}）/ "
            f"{ref.instrument} has no article {ref.article!r} (listed: {', '.join(articles)})",
            (*path, "article"),
        )


def _check_role_linked(item: _Parsed, measure: Measure, instruments: dict[str, _Parsed]) -> None:
    """A measure reaches people by role only where one of its legal bases authorises that role."""
    if not measure.role_linked:
        return
    authorised: set[str] = set()
    for ref in measure.legal_basis:
        if ref.article is not None:
            article = instruments[ref.instrument].entity.articles.get(ref.article)
            if article is not None:
                authorised.update(article.authorises_roles)
    for i, role in enumerate(measure.role_linked):
        if role not in authorised:
            raise item.error(
                f"角色关联 {role!r} 没有法律依据：所引条款均未授权及于该角色 / role_linked "
                f"{role!r} has no legal basis: none of the cited articles authorises reaching "
                "that role",
                ("role_linked", i),
            )
