"""Disclosure periods end by themselves: computed from the record and the query date.

``publication_ends(record_type, fields)`` is the last day a record is published, from the
catalog's ``disclosure_period`` (the matching variant's ``length`` or ``max``, counted from its
start field). As 《民法典》第二百零一条、第二百零二条 count periods, the start day is not
counted and the last day is the corresponding day: a penalty decided 2023-03-15 with a 3-year
maximum is published through 2026-03-15 and gone on 2026-03-16. None when the period has no
fixed end (``until`` an event, which the lists lifecycle tracks). ``period_open(…, at)``
compares with the query date — no job has to run; a sweep, if any, only tidies.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from xinyong.catalog.model import RecordType


def period_start(record_type: RecordType, fields: dict[str, Any]) -> date | None:
    rule = record_type.disclosure_period
    if rule is None:
        return None
    for name in rule.start_fields():
        value = fields.get(name)
        if isinstance(value, date):
            return value
        if isinstance(value, str) and value:
            try:
                return date.fromisoformat(value)
            except ValueError:
                continue
    return None


def publication_ends(record_type: RecordType, fields: dict[str, Any]) -> date | None:
    """The last day of publication, or None for no fixed end."""
    rule = record_type.disclosure_period
    start = period_start(record_type, fields)
    if rule is None or start is None:
        return None
    terms = rule.terms_for(fields)
    span = terms.length or terms.max
    if span is None or span.unit == "wd":
        return None
    return span.add_to(start)


def period_open(record_type: RecordType, fields: dict[str, Any], at: date) -> bool:
    end = publication_ends(record_type, fields)
    return end is None or at <= end
