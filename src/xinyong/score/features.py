"""Scorecard features, and the rule that every one comes from the catalog's record types.

A feature is named for what it reads, so a model file says exactly which records it uses:

- ``TYPE.count`` — records of the type that hold on the scoring date;
- ``TYPE.FIELD.sum`` / ``TYPE.FIELD.max`` — of a numeric (integer or decimal) field;
- ``TYPE.FIELD=VALUE.count`` — records whose enum field has that value;
- ``TYPE.days_since_last`` — days from the latest decision to the scoring date (missing if none).

Anything else — a column named for a field outside the catalog, a record type the catalog does
not declare, an age, an address — is refused (:class:`~xinyong.errors.UnusableInput`) with the
column's name: no model may read a field outside the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from xinyong.catalog.model import Catalog, FieldType
from xinyong.errors import UnusableInput
from xinyong.store.queries import StoredRecord

_SHAPE = re.compile(
    r"^(?P<type>[a-z][a-z0-9_]*)\."
    r"(?:(?P<count>count)|(?P<days>days_since_last)"
    r"|(?P<field>[a-z][a-z0-9_]*)(?:\.(?P<agg>sum|max)|=(?P<value>[^.]+)\.count))$"
)
NUMERIC = (FieldType.INTEGER, FieldType.DECIMAL)


@dataclass(frozen=True)
class Feature:
    name: str
    record_type: str
    measure: str  # count | days_since_last | sum | max | value_count
    field: str | None = None
    value: str | None = None


def parse_feature(name: str, catalog: Catalog) -> Feature:
    """The feature a column name stands for; ``UnusableInput`` if it is not a catalog feature."""
    match = _SHAPE.match(name)
    hint = (
        "特征须为 TYPE.count、TYPE.FIELD.sum|max、TYPE.FIELD=VALUE.count 或 "
        "TYPE.days_since_last，且取自目录中的记录类型 / a feature must be TYPE.count, "
        "TYPE.FIELD.sum|max, TYPE.FIELD=VALUE.count or TYPE.days_since_last over a record "
        "type of the catalog"
    )
    if match is None:
        raise UnusableInput(
            f"列 {name!r} 不是目录中的特征 / column {name!r} is not a catalog feature; {hint}"
        )
    rtype = catalog.record_types.get(match["type"])
    if rtype is None:
        raise UnusableInput(
            f"列 {name!r}: 目录中没有记录类型 {match['type']!r} / column {name!r}: the catalog "
            f"has no record type {match['type']!r}"
        )
    if match["count"]:
        return Feature(name, rtype.id, "count")
    if match["days"]:
        return Feature(name, rtype.id, "days_since_last")
    spec = next((f for f in rtype.fields if f.name == match["field"]), None)
    if spec is None:
        raise UnusableInput(
            f"列 {name!r}: 记录类型 {rtype.id} 没有字段 {match['field']!r}，模型不得读取目录以外的"
            f"字段 / column {name!r}: record type {rtype.id} has no field {match['field']!r}; "
            "no model may read a field outside the catalog"
        )
    if match["agg"]:
        if spec.type not in NUMERIC:
            raise UnusableInput(
                f"列 {name!r}: 字段 {spec.name} 不是数值 / column {name!r}: field {spec.name} "
                "is not numeric"
            )
        return Feature(name, rtype.id, match["agg"], spec.name)
    if spec.enum is None or match["value"] not in {v.id for v in spec.enum}:
        raise UnusableInput(
            f"列 {name!r}: {match['value']!r} 不是枚举字段 {spec.name} 的取值 / column {name!r}: "
            f"{match['value']!r} is not a value of enum field {spec.name}"
        )
    return Feature(name, rtype.id, "value_count", spec.name, match["value"])


def feature_value(feature: Feature, records: Sequence[StoredRecord], at: date) -> float | None:
    """The feature for one subject's records that hold on ``at``."""
    mine = [r for r in records if r.record_type == feature.record_type]
    if feature.measure == "count":
        return float(len(mine))
    if feature.measure == "days_since_last":
        days = [(at - r.decided_on).days for r in mine if r.decided_on is not None]
        return float(min(days)) if days else None
    if feature.measure == "value_count":
        return float(
            sum(1 for r in mine if str(r.fields.get(feature.field or "")) == feature.value)
        )
    numbers: list[float] = []
    for r in mine:
        raw = r.fields.get(feature.field or "")
        try:
            numbers.append(float(raw))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    if feature.measure == "sum":
        return float(sum(numbers))
    return max(numbers) if numbers else None
