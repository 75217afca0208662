"""When a record stops counting for a score, and from when it may be repaired.

A points rule ``expires`` at the end of the record's disclosure period (公示期) by default: the
period starts at the record type's ``from_field`` (or its fallback), and ends after the terms'
``max`` or ``length`` for the record's fields (a serious penalty runs longer than a minor one).
Periods that run ``until`` an event (removal, lifting, performance) end on the date field that
records the event, if the record has one. Everything is compared with the scoring date ``at``,
never changed by a job.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from xinyong.catalog.model import Duration, PeriodRule, RecordType
from xinyong.store.queries import StoredRecord

#: Date fields that record the event an open-ended period runs until.
END_FIELDS = ("removed_on", "lifted_on", "resolved_on", "ended_on")


def as_date(value: Any) -> date | None:
    """A stored field value as a date (fields are JSON: dates are ISO strings)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def period_start(rule: PeriodRule, record: StoredRecord) -> date | None:
    for name in rule.start_fields():
        found = record.decided_on if name == "decided_on" else as_date(record.fields.get(name))
        if found is not None:
            return found
    return record.decided_on or record.valid_from


def disclosure_end(record_type: RecordType, record: StoredRecord) -> date | None:
    """The first day the record is no longer disclosed, or None while it has no known end."""
    ends: list[date] = []
    if record.valid_to is not None:
        ends.append(date.fromordinal(record.valid_to.toordinal() + 1))
    rule = record_type.disclosure_period
    if rule is not None:
        terms = rule.terms_for(record.fields)
        length = terms.max or terms.length
        start = period_start(rule, record)
        if length is not None and start is not None and length.unit != "wd":
            ends.append(length.add_to(start))
        if terms.until is not None or rule.until is not None:
            ends += [d for d in (as_date(record.fields.get(f)) for f in END_FIELDS) if d]
    return min(ends) if ends else None


def fixed_end(duration: Duration, record: StoredRecord) -> date | None:
    start = record.decided_on or record.valid_from
    return duration.add_to(start) if start is not None and duration.unit != "wd" else None


def repair_from(record_type: RecordType, record: StoredRecord) -> tuple[bool, date | None]:
    """Whether credit repair is available for the record, and the earliest day to apply."""
    repair = record_type.repair
    if repair is None or not repair.available or repair.earliest == "not_applicable":
        return False, None
    start = record.decided_on or record.valid_from
    if repair.earliest == "after_min_period" and record_type.disclosure_period is not None:
        terms = record_type.disclosure_period.terms_for(record.fields)
        begin = period_start(record_type.disclosure_period, record)
        if terms.min is not None and begin is not None and terms.min.unit != "wd":
            return True, terms.min.add_to(begin)
    return True, start
