"""Words a person reads instead of codes: subject kinds, statuses, fields, enum values, roles.

One table per kind of code, each code → ``(中文, English)``; ``label(TABLE, code, lang)`` picks
one. An unknown code comes back as it is, or, when stored as ``中文 / English``, the half in
``lang`` — never an error: a new status in the store must not break a page. The report, the
portal and the API all read from here.

Field names come from the catalog: in Chinese a field's first alias (the column heading
departments send, e.g. ``处罚决定书文号``), in English the field name made readable
(``fine_amount`` → ``Fine amount``). Enum values use their ``label_zh`` / ``label_en``, regions
their name, booleans 是/否.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xinyong.catalog.model import Catalog, FieldSpec, FieldType
from xinyong.codes import regions
from xinyong.measures.decisions import OUTCOME_LABELS

Labels = Mapping[str, tuple[str, str]]

KINDS: Labels = {
    "enterprise": ("企业", "enterprise"),
    "individual": ("个人", "individual"),
    "sole_trader": ("个体工商户", "sole trader"),
    "organisation": ("社会组织等", "organisation"),
    "government": ("机关", "government body"),
}

STATUSES: Labels = {
    "active": ("有效", "in force"),
    "under_objection": ("异议处理中", "under objection"),
    "corrected": ("已更正", "corrected"),
    "withdrawn": ("已撤销", "withdrawn"),
    "repaired": ("已修复", "repaired"),
}

AUDIENCES: Labels = {
    "public": ("社会公众", "public"),
    "agency": ("实施部门", "implementing agency"),
    "source": ("来源部门", "source department"),
    "subject": ("信用主体本人", "the subject itself"),
    "operator": ("平台运营方", "platform operator"),
}

#: Roles in audit events and log-ins (who read a file).
ROLES: Labels = {
    **AUDIENCES,
    "department": ("数据报送部门", "department"),
    "public": ("社会公众", "public"),
}

#: Audit actions (what was done with a file).
ACTIONS: Labels = {
    "read_file": ("查看档案", "read the file"),
    "disclose.read": ("查看档案", "read the file"),
    "report.issue": ("出具信用报告", "issued a credit report"),
    "objection.file": ("提出异议", "filed an objection"),
    "objection.decide": ("处理异议", "decided an objection"),
    "repair.apply": ("申请信用修复", "applied for repair"),
    "repair.decide": ("决定信用修复", "decided a repair"),
    "commitment.sign": ("签署信用承诺", "signed a commitment"),
    "commitment.fulfil": ("确认承诺履行", "commitment fulfilled"),
    "commitment.breach": ("认定违反承诺", "commitment breached"),
    "check": ("核查", "check"),
    "subject.show": ("查看主体档案（命令行）", "read the file (command line)"),
}

PURPOSES: Labels = {
    "self_service": ("本人查询", "own file"),
}

OBJECTION_STATES: Labels = {
    "open": ("办理中", "open"),
    "upheld": ("异议成立（已更正）", "upheld (corrected)"),
    "rejected": ("异议不成立", "rejected"),
}

REPAIR_STATES: Labels = {
    "pending": ("办理中", "pending"),
    "granted": ("准予修复", "granted"),
    "refused": ("不予修复", "refused"),
}

COMMITMENT_STATES: Labels = {
    "open": ("履行中", "in effect"),
    "fulfilled": ("已履行", "fulfilled"),
    "breached": ("已违诺", "breached"),
}

#: Relations as registration records state them.
RELATION_ROLES: Labels = {
    "legal_representative": ("法定代表人", "legal representative"),
    "principal": ("负责人", "principal"),
    "actual_controller": ("实际控制人", "actual controller"),
    "shareholder": ("股东", "shareholder"),
    "branch": ("分支机构", "branch"),
    "director": ("董事", "director"),
    "supervisor": ("监事", "supervisor"),
    "manager": ("经理", "manager"),
    "officer": ("人员", "officer"),
}

#: Decision outcomes, as ``xinyong check`` prints them.
OUTCOMES: Labels = OUTCOME_LABELS

DISCLOSURES: Labels = {
    "public": ("向社会公开", "public"),
    "shared": ("政务共享", "shared among agencies"),
    "subject_only": ("仅本人", "subject only"),
}

POLARITIES: Labels = {
    "red": ("红名单", "red list"),
    "black": ("黑名单", "black list"),
    "reward": ("激励", "reward"),
    "punishment": ("惩戒", "punishment"),
}

BOOLEANS: Labels = {"true": ("是", "yes"), "false": ("否", "no")}


def label(table: Labels, code: str | None, lang: str = "zh") -> str:
    """``code``'s label in ``lang`` (``zh`` or ``en``); an unknown code as it is; None → ''."""
    if code is None:
        return ""
    pair = table.get(str(code))
    if pair is None:
        return bilingual(str(code), lang)
    return pair[1] if lang == "en" else pair[0]


def bilingual(text: str, lang: str = "zh") -> str:
    """One half of a stored ``中文 / English`` text; any other text as it is."""
    if " / " not in text:
        return text
    zh, en = text.split(" / ", 1)
    return en.strip() if lang == "en" else zh.strip()


def humanise(name: str) -> str:
    """``legal_representative_name`` → ``Legal representative name``."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def field_label(spec: FieldSpec | None, name: str, lang: str = "zh") -> str:
    """A field's heading: its first Chinese alias, or its name made readable."""
    if lang != "en" and spec is not None and spec.aliases:
        return spec.aliases[0]
    return humanise(name)


def value_label(spec: FieldSpec | None, value: Any, lang: str = "zh") -> str:
    """A field's value as a person reads it: enum label, region name, 是/否; else as stored."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return label(BOOLEANS, "true" if value else "false", lang)
    if spec is None:
        return str(value)
    if spec.type is FieldType.ENUM:
        for option in spec.enum or ():
            if option.id == str(value):
                return option.label_en if lang == "en" else option.label_zh
        return str(value)
    if spec.type is FieldType.BOOLEAN and str(value).lower() in ("true", "false"):
        return label(BOOLEANS, str(value).lower(), lang)
    if spec.type is FieldType.REGION:
        region = regions.lookup(str(value))
        return region.full_name if region else str(value)
    return str(value)


#: Fields a record's table row or the report's identity already shows.
SHOWN_ELSEWHERE: frozenset[str] = frozenset(
    {"subject_name", "subject_code", "document_no", "decided_on"}
)


def details(
    catalog: Catalog,
    record_type: str,
    fields: Mapping[str, Any],
    lang: str = "zh",
    *,
    skip: Iterable[str] = SHOWN_ELSEWHERE,
) -> list[tuple[str, str]]:
    """A record's fields as (heading, value) pairs in the catalog's order, empty ones left out.

    Fields the catalog does not declare (older data) come last, their names made readable.
    """
    skipped = set(skip)
    rtype = catalog.record_types.get(record_type)
    specs = {f.name: f for f in rtype.fields} if rtype is not None else {}
    order = [name for name in specs if name in fields]
    order += sorted(name for name in fields if name not in specs)
    out: list[tuple[str, str]] = []
    for name in order:
        value = fields.get(name)
        if name in skipped or value is None or value == "":
            continue
        spec = specs.get(name)
        out.append((field_label(spec, name, lang), value_label(spec, value, lang)))
    return out
