"""Checking one row against its record type: headers to fields, then each value by its type.

Which column gives which field is the file's ``ColumnPlan`` (:mod:`.plan`). A missing required
*column* makes the whole file unusable; a missing or bad *value* rejects only its row, with a
reason that names the field, Chinese first, then English.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from xinyong.catalog.model import (
    UNIT_YUAN,
    Catalog,
    FieldSpec,
    FieldType,
    RecordType,
    normalise_header,
)
from xinyong.codes import regions, ric
from xinyong.codes.identifiers import code_error, qualify, reason_of
from xinyong.errors import InvalidRecord
from xinyong.ingest.plan import ColumnPlan, column_unit, plan_columns
from xinyong.ingest.readers import LOST_KEY, RAW_KEY

_DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?(?:\s.*)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TRUE = {"是", "true", "yes", "y", "1"}
_CODE_TYPES = frozenset({FieldType.USCC, FieldType.RIC, FieldType.ORGCODE, FieldType.SUBJECT_CODE})
_FALSE = {"否", "false", "no", "n", "0"}


class ValueProblem(Exception):
    """One value's problem, in both languages (internal: collected into ``InvalidRecord``)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


@lru_cache(maxsize=8192)
def parse_date(text: str) -> date:
    """2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305 (a time after the date is ignored).

    Cached: a file's dates repeat (a year has 366 of them); a bad date raises every time.
    """
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError as error:
                raise ValueProblem(f"日期不存在：{text}", f"no such date: {text}") from error
    raise ValueProblem(
        f"日期格式无法识别：{text}（可用 2024-03-05、2024/3/5、2024年3月5日、20240305）",
        f"unrecognised date: {text} (use 2024-03-05, 2024/3/5, 2024年3月5日 or 20240305)",
    )


def _excel_number(text: str) -> ValueProblem:
    return ValueProblem(
        f"Excel 把证件号码存成了数字，后几位已丢失，请将该列设为文本后重新导出：{text}",
        "Excel stored the ID number as a number and lost its last digits; format the column "
        f"as text and export again: {text}",
    )


def _code(schemes: tuple[str, ...]) -> Callable[[FieldSpec, str], str]:
    def check(_spec: FieldSpec, text: str) -> str:
        scheme, value, problem = reason_of(text)
        if problem is None and scheme not in schemes:
            problem = "length"
        if problem is not None:
            raise _bad_code(problem, text)
        return value

    return check


def birth_date(code: str) -> date | None:
    """``ric.birth_date(code)`` from the verdict on ``code`` that parsing it cached
    (``reason_of``): a row's code is not checked twice."""
    scheme, value, problem = reason_of(code)
    return ric.birth_date_of_valid(value) if scheme == "ric" and problem is None else None


def _bad_code(problem: str, text: str) -> ValueProblem:
    error = code_error(problem)
    return ValueProblem(
        f"{error.message_zh}（{problem}）：{text}", f"{error.message_en} ({problem}): {text}"
    )


def _qualified(kind: str, text: str) -> str:
    """A code checked by the scheme its column names (``CodeSource.scheme``), qualified so that
    linking takes it by that scheme alone (``xinyong.codes.identifiers.qualify``)."""
    code = qualify(kind, text)
    problem = reason_of(code)[2]
    if problem is not None:
        raise _bad_code(problem, text)
    return code


_ENUM_WORDS: dict[int, tuple[FieldSpec, dict[str, str]]] = {}


def _enum_words(spec: FieldSpec) -> dict[str, str]:
    """Every accepted wording of an enum field (normalised) → the value's id, built once."""
    cached = _ENUM_WORDS.get(id(spec))
    if cached is None or cached[0] is not spec:
        table = {
            normalise_header(word): value.id
            for value in spec.enum or ()
            for word in (value.id, value.label_zh, value.label_en, *value.aliases)
        }
        cached = _ENUM_WORDS[id(spec)] = (spec, table)
    return cached[1]


def _enum(spec: FieldSpec, text: str) -> str:
    found = _enum_words(spec).get(normalise_header(text))
    if found is None:
        ids = ", ".join(v.id for v in spec.enum or ())
        raise ValueProblem(f"未知取值：{text}", f"unknown value {text!r} (one of: {ids})")
    return found


def _integer(_spec: FieldSpec, text: str) -> int:
    try:
        return int(text.replace(",", ""))
    except ValueError as error:
        raise ValueProblem(f"不是整数：{text}", f"not an integer: {text}") from error


def _decimal(_spec: FieldSpec, text: str) -> str:
    cleaned = text.replace(",", "").replace("，", "").removesuffix("元")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueProblem(f"不是数值：{text}", f"not a number: {text}") from error
    if not value.is_finite():
        raise ValueProblem(f"不是数值：{text}", f"not a number: {text}")
    return str(value)


def _boolean(_spec: FieldSpec, text: str) -> bool:
    key = text.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueProblem(f"应为 是/否：{text}", f"expected yes/no: {text}")


def _region(_spec: FieldSpec, text: str) -> str:
    """A GB/T 2260 code is checked; a name as published (北京, 广东省) is kept as written."""
    if text.isdigit() and regions.lookup(text) is None:
        raise ValueProblem(f"行政区划代码无效：{text}", f"unknown division code: {text}")
    return text


def _date(_spec: FieldSpec, text: str) -> date:
    return parse_date(text)


def _text(_spec: FieldSpec, text: str) -> str:
    return text


#: Field type → parser, one line each.
PARSERS: dict[FieldType, Callable[[FieldSpec, str], Any]] = {
    FieldType.STRING: _text,
    FieldType.TEXT: _text,
    FieldType.INTEGER: _integer,
    FieldType.DECIMAL: _decimal,
    FieldType.DATE: _date,
    FieldType.BOOLEAN: _boolean,
    FieldType.ENUM: _enum,
    FieldType.USCC: _code(("uscc",)),
    FieldType.RIC: _code(("ric",)),
    FieldType.ORGCODE: _code(("orgcode",)),
    FieldType.SUBJECT_CODE: _code(("uscc", "ric", "orgcode")),
    FieldType.REGION: _region,
}


#: One column's check, compiled once per file: (field name, header, required, is a code, parse).
_Column = tuple[str, str, bool, bool, Callable[[str], Any]]

#: ``subject_category`` value → the kind of subject a new code creates (``legal_person``: the
#: kind the code itself names).
CATEGORY_KINDS: dict[str, str] = {"individual": "individual", "sole_trader": "sole_trader"}
#: A code printed with its middle starred, as court and tax lists publish individuals' numbers.
_MASKED = re.compile(r"^[0-9A-Za-z]{2,8}[*＊]{3,}[0-9A-Za-z]{0,6}$")
#: Where a masked code is kept (it identifies nobody, but it is what the file said).
MASKED_KEY = "subject_code_masked"


def _bound(parse: Callable[[FieldSpec, str], Any], spec: FieldSpec) -> Callable[[str], Any]:
    return lambda text: parse(spec, text)


def _money(spec: FieldSpec, unit: str) -> Callable[[str], str]:
    """A money column: ``5``, ``5万元``, ``50,000元`` → the field's unit (``unit`` for bare
    numbers)."""
    target = UNIT_YUAN[spec.unit or unit]

    def parse(text: str) -> str:
        cleaned = text.replace(",", "").replace("，", "").strip()
        given = unit
        if cleaned.endswith(("万元", "万")):
            cleaned, given = cleaned.removesuffix("元").removesuffix("万"), "ten_thousand_yuan"
        elif cleaned.endswith("元"):
            cleaned, given = cleaned.removesuffix("元"), "yuan"
        try:
            value = Decimal(cleaned)
        except InvalidOperation as error:
            raise ValueProblem(f"不是数值：{text}", f"not a number: {text}") from error
        if not value.is_finite():
            raise ValueProblem(f"不是数值：{text}", f"not a number: {text}")
        value = value * UNIT_YUAN[given] / target
        return format(value.normalize(), "f") if value else "0"

    return parse


def _with_words(words: dict[str, str], parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """A department's own wordings (mapping ``values``) read as the catalog's."""
    return lambda text: parse(words.get(normalise_header(text), text))


def parse_constant(spec: FieldSpec, text: str) -> Any:
    """A mapping constant parsed as its field's values are; ``ValueProblem`` if it is not one."""
    return PARSERS[spec.type](spec, text)


def _when_holds(when: dict[str, Any], values: dict[str, Any]) -> bool:
    for name, wanted in when.items():
        options = wanted if isinstance(wanted, list) else [wanted]
        if values.get(name) not in options:
            return False
    return True


@dataclass(frozen=True)
class RowValidator:
    """Validates rows of one record type as one file's ``ColumnPlan`` reads them.

    Each column's parser is bound to its field once (``compiled``), so a row costs one call per
    cell and no lookups by type or name. Unmapped columns are kept under their header as written;
    mapping constants fill fields a row leaves empty; an empty ``subject_code`` is taken from the
    record type's ``code_from`` columns.
    """

    record_type: RecordType
    columns: tuple[tuple[str, FieldSpec], ...]  # (header as written, field)
    compiled: tuple[_Column, ...] = ()
    unmapped: tuple[str, ...] = ()
    constants: tuple[tuple[str, Any], ...] = ()
    code_parse: Callable[[str], Any] | None = None
    #: The record type's ``adults_only`` articles, cited (``法释〔2017〕7号 第四条``); empty when
    #: the type may concern minors.
    adults_only: str = ""

    @classmethod
    def for_headers(
        cls, record_type: RecordType, headers: list[str], catalog: Catalog
    ) -> RowValidator:
        """Map headers to fields by the catalog; ``UnusableInput`` for a missing required
        column or a field given twice."""
        return cls.for_plan(plan_columns(record_type, headers), catalog)

    @classmethod
    def for_plan(cls, plan: ColumnPlan, catalog: Catalog) -> RowValidator:
        """The validator for ``plan``; ``UnusableInput`` if a required field has no column.
        ``catalog`` cites the articles of the record type's rules in a row's reason."""
        plan.require_complete()
        record_type = plan.record_type
        compiled = []
        for header, spec in plan.columns:
            unit = column_unit(header, spec)
            parse = _money(spec, unit) if unit else _bound(PARSERS[spec.type], spec)
            words = plan.vocabulary(spec.name)
            if words:
                parse = _with_words(words, parse)
            compiled.append((spec.name, header, spec.required, spec.type in _CODE_TYPES, parse))
        specs = {f.name: f for f in record_type.fields}
        constants = tuple(
            (name, parse_constant(specs[name], text)) for name, text in plan.constants().items()
        )
        code = specs["subject_code"]
        adults = record_type.adults_only
        return cls(
            record_type,
            plan.columns,
            tuple(compiled),
            plan.unmapped,
            constants,
            _bound(PARSERS[code.type], code),
            "、".join(catalog.cite(ref) for ref in adults.legal_basis) if adults else "",
        )

    def validate(self, row: dict[str, str]) -> dict[str, Any]:
        """The row's values by field name, parsed; raises ``InvalidRecord`` with every problem."""
        if RAW_KEY in row and len(row) == 1:
            raise InvalidRecord(
                {"_row": "不是 JSON 对象 / not a JSON object"},
                detail="行：不是 JSON 对象 / row: not a JSON object",
            )
        values: dict[str, Any] = {}
        problems: list[tuple[str, ValueProblem]] = []
        lost = row.get(LOST_KEY)
        for name, header, required, is_code, parse in self.compiled:
            text = row.get(header)
            if text:
                text = text.strip()
            if lost is not None and is_code and header in lost.split("\x1f"):
                problems.append((name, _excel_number(text or "")))
                continue
            if not text:
                if required and not any(name == c for c, _ in self.constants):
                    problems.append((name, ValueProblem("必填值为空", "required value missing")))
                continue
            if name == "subject_code" and _MASKED.match(text):
                values[MASKED_KEY] = text  # a published, masked number: no code to link by
                continue
            try:
                values[name] = parse(text)
            except ValueProblem as problem:
                problems.append((name, problem))
        for name, value in self.constants:
            values.setdefault(name, value)
        for header in self.unmapped:
            values[header] = (row.get(header) or "").strip()
        if not problems:
            self._subject(values, problems)
        if not problems and self.adults_only:
            self._adult(values, problems)
        if problems:
            zh = "；".join(f"{name}：{p.zh}" for name, p in problems)
            en = "; ".join(f"{name}: {p.en}" for name, p in problems)
            raise InvalidRecord({name: f"{p.zh} / {p.en}" for name, p in problems}, f"{zh} / {en}")
        return values

    def _adult(self, values: dict[str, Any], problems: list[tuple[str, ValueProblem]]) -> None:
        """A person under 18 on the decision date (else the publication date, else today) may
        not be the subject of this record type: by the birth date in the citizen number, or by
        the published age where the number is masked or missing."""
        on = values.get("decided_on") or values.get("published_on") or date.today()
        code = values.get("subject_code")
        age = values.get("age")
        born = birth_date(str(code)) if code else None
        if born is not None and ric.age_on(born, on) < ric.ADULT_AGE:  # ric.is_minor_on
            zh_why = f"出生日期 {born}，{on} 未满十八周岁"
            en_why = f"born {born}, under 18 on {on}"
        elif not code and isinstance(age, int) and age < ric.ADULT_AGE:
            zh_why, en_why = f"公布的年龄为 {age} 岁", f"the published age is {age}"
        else:
            return
        field = "subject_code" if code else "age"
        problems.append(
            (
                field,
                ValueProblem(
                    f"未成年人不得纳入（{self.adults_only}）：{zh_why}",
                    f"a minor may not be listed ({self.adults_only}): {en_why}",
                ),
            )
        )

    def _subject(self, values: dict[str, Any], problems: list[tuple[str, ValueProblem]]) -> None:
        """The code a row is linked by, from ``code_from`` when its own cell is empty; its
        category agrees with the code; a row with no code only where the type allows."""
        rtype = self.record_type
        if not values.get("subject_code") and self.code_parse is not None:
            for source in rtype.code_from:
                text = values.get(source.field)
                if not text or not _when_holds(source.when, values):
                    continue
                try:
                    values["subject_code"] = (
                        _qualified(source.scheme, str(text))
                        if source.scheme
                        else self.code_parse(str(text))
                    )
                except ValueProblem as problem:
                    problems.append((source.field, problem))
                    return
                break
        code = values.get("subject_code")
        category = values.get("subject_category")
        if code and category:
            scheme = reason_of(code)[0]
            if (category == "individual") != (scheme == "ric") and category != "sole_trader":
                problems.append(
                    (
                        "subject_category",
                        ValueProblem(
                            f"行政相对人类别与代码不符：{category}，{code}",
                            f"the subject category does not fit the code: {category}, {code}",
                        ),
                    )
                )
        if not code and not rtype.name_only_rows:
            problems.append(
                (
                    "subject_code",
                    ValueProblem(
                        "没有可据以关联的代码（统一社会信用代码、组织机构代码、工商注册号或"
                        "身份证号码），此类记录须有代码",
                        "no code to link by (USCC, organisation code, registration number or "
                        "citizen ID number); this record type requires one",
                    ),
                )
            )
