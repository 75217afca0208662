"""Checking one row against its record type: headers to fields, then each value by its type.

Headers may be the catalog's field names or any of its Chinese aliases (compared after
``normalise_header``: full-width folded, spaces and a trailing ``*`` dropped). A missing required
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

from xinyong.catalog.model import FieldSpec, FieldType, RecordType, normalise_header
from xinyong.codes import regions
from xinyong.codes.identifiers import code_error, reason_of
from xinyong.errors import InvalidRecord, UnusableInput
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
            error = code_error(problem)
            raise ValueProblem(
                f"{error.message_zh}（{problem}）：{text}",
                f"{error.message_en} ({problem}): {text}",
            )
        return value

    return check


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


def _bound(parse: Callable[[FieldSpec, str], Any], spec: FieldSpec) -> Callable[[str], Any]:
    return lambda text: parse(spec, text)


@dataclass(frozen=True)
class RowValidator:
    """Validates rows of one record type whose columns are ``headers``.

    Each column's parser is bound to its field once (``compiled``), so a row costs one call per
    cell and no lookups by type or name.
    """

    record_type: RecordType
    columns: tuple[tuple[str, FieldSpec], ...]  # (header as written, field)
    compiled: tuple[_Column, ...] = ()

    @classmethod
    def for_headers(cls, record_type: RecordType, headers: list[str]) -> RowValidator:
        """Map headers to fields; ``UnusableInput`` for a missing required column or a field
        given twice."""
        mapping = record_type.header_map()
        specs = {f.name: f for f in record_type.fields}
        columns: list[tuple[str, FieldSpec]] = []
        seen: dict[str, str] = {}
        for header in headers:
            name = mapping.get(normalise_header(header))
            if name is None:
                continue  # a column the record type does not hold: ignored, kept in rejects
            if name in seen:
                raise UnusableInput(
                    f"列 {seen[name]!r} 与 {header!r} 都对应字段 {name} / columns {seen[name]!r} "
                    f"and {header!r} both give field {name}"
                )
            seen[name] = header
            columns.append((header, specs[name]))
        missing = [f for f in record_type.fields if f.required and f.name not in seen]
        if missing:
            zh = "、".join(f"{f.name}（{f.aliases[0] if f.aliases else f.name}）" for f in missing)
            en = ", ".join(f.name for f in missing)
            raise UnusableInput(
                f"缺少必填列 {zh} / missing required column(s) {en} for record type "
                f"{record_type.id}"
            )
        compiled = tuple(
            (
                spec.name,
                header,
                spec.required,
                spec.type in _CODE_TYPES,
                _bound(PARSERS[spec.type], spec),
            )
            for header, spec in columns
        )
        return cls(record_type, tuple(columns), compiled)

    def validate(self, row: dict[str, str]) -> dict[str, Any]:
        """The row's values by field name, parsed; raises ``InvalidRecord`` with every problem."""
        if RAW_KEY in row and len(row) == 1:
            raise InvalidRecord(
                {"_row": "不是 JSON 对象 / not a JSON object"},
                detail="行：不是 JSON 对象 / row: not a JSON object",
            )
        values: dict[str, Any] = {}
        problems: list[tuple[str, ValueProblem]] | None = None
        lost = row.get(LOST_KEY)
        for name, header, required, is_code, parse in self.compiled:
            text = row.get(header)
            if text:
                text = text.strip()
            if lost is not None and is_code and header in lost.split("\x1f"):
                problems = problems or []
                problems.append((name, _excel_number(text or "")))
                continue
            if not text:
                if required:
                    problems = problems or []
                    problems.append((name, ValueProblem("必填值为空", "required value missing")))
                continue
            try:
                values[name] = parse(text)
            except ValueProblem as problem:
                problems = problems or []
                problems.append((name, problem))
        if problems:
            zh = "；".join(f"{name}：{p.zh}" for name, p in problems)
            en = "; ".join(f"{name}: {p.en}" for name, p in problems)
            raise InvalidRecord({name: f"{p.zh} / {p.en}" for name, p in problems}, f"{zh} / {en}")
        return values
