"""Periods (期间): the days a record is disclosed, listed and counted, and when it may be repaired.

One rule for every part of the platform — disclosure (``disclose``), list entries (``lists``),
scores (``score``) and credit repair (``process.repair``) — and for the SQL engines, whose
expressions are generated here from the same catalog rule (:func:`last_shown_sql`).

The convention, from the law:

- **The start day is not counted** (《中华人民共和国民法典》第二百零一条：按照年、月、日计算期间的，
  开始的当日不计入，自下一日开始计算; the Civil Procedure Law counts court periods the same way:
  期间开始的时和日，不计算在期间内). The start day is still inside the period: a decision
  takes effect the day it is made.
- **The period ends on the corresponding day** (第二百零二条：按照年、月计算期间的，到期月的对应日
  为期间的最后一日；没有对应日的，月末日为期间的最后一日). So the last day is ``start + length``
  (:meth:`Duration.add_to`, months clamped to the month's last day): a penalty decided
  2023-03-15 with a 3-year maximum is shown through 2026-03-15 (``last_shown``) and gone on
  2026-03-16 (``first_hidden``); 2024-02-29 + 1 year ends 2025-02-28; 180 days from 2024-01-01
  end 2024-06-29.
- **The last day runs to 24:00 and is not moved** (第二百零三条). Its first paragraph (a last day
  on a public holiday moves to the day after the holiday) protects a party who must *act* by the
  last day; those deadlines are counted in working days by ``process.calendar`` and
  ``process.policy.deadline_after``. A period of disclosure or listing asks no act of anyone, and
  moving its end would only lengthen a burden, so it ends on its corresponding day.
- **Periods count years, months or days**, never working days: a catalog rule with a length in
  working days is refused when the catalog loads (``PeriodRule``). A list's *notice* period may
  be in working days; ``lists`` counts it with the calendar and passes the day the entry takes
  effect as ``start``.

What a record adds to its rule (:func:`period_of`):

- **Start**: the rule's ``from_field``, else its ``fallback_from_field`` (``decided_on``: the
  record's column, else the field), else the record's own ``valid_from``. No date at all: no
  start and no end (the period is open).
- **Terms**: the first variant whose ``when`` matches the record's fields, else the rule's own
  (``PeriodRule.terms_for``); the end is the terms' ``length`` or ``max``.
- **Until an event** (``until``: performance, an order lifted, removal): the day the record says
  the event happened (:data:`UNTIL_FIELDS`) is the first day hidden — on the day an order is
  lifted it no longer holds. Until then the period has no end. With a length as well, the
  earlier end wins.
- **The record's own end** (``valid_to``, from ``valid_until``; inclusive) before the period's
  end ends it early (提前删除); after it, where the rule allows an ``extension``, extends it up
  to the extension's ``max`` counted from the period's last day, and the period is *extended*.
  A record type without a period rule is shown until its ``valid_to``.
- **Earliest repair** (the record type's ``repair``): ``any_time`` — from the start;
  ``after_min_period`` — the day after the terms' ``min`` period ends (最短公示期届满后), or from
  the start where the terms give no minimum; ``not_applicable`` or unavailable — never.

**Which version of the rule** (:func:`xinyong.catalog.law.governing`): a rule may have
``earlier`` versions under earlier law. The record's fact day (``decided_on``, else
``valid_from``) and the day asked about (``at``, default today) pick one: the version in force
on ``at``, unless the version in force on the fact day keeps governing facts decided before a
day by a transitional provision. A penalty decided 2026-03-20 keeps NDRC order No. 58's periods;
one decided 2026-04-02 gets order No. 36's. The repair rule is the version in force on ``at``
(a repair is decided, and its effects apply, under the law of the day).

Everything is compared with the date asked about (:meth:`Period.is_open`); no job changes it.
``tests/catalog/test_periods.py`` holds one table of cases (shipped record types and lists) and
runs it through this rule, its SQL, and every user.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from xinyong.catalog.law import governing, version_sql
from xinyong.catalog.model import Duration, FieldType, PeriodRule, RecordType, RepairRule, Until
from xinyong.errors import UnusableInput

ONE_DAY = timedelta(days=1)

#: The fields that say when the event a period runs ``until`` happened, per event.
UNTIL_FIELDS: dict[Until, tuple[str, ...]] = {
    "performance": ("performed_on", "fare_paid_on", "resolved_on"),
    "lifted": ("lifted_on",),
    "removal": ("removed_on",),
}


class DatedRecord(Protocol):
    """What a period reads of a record (``StoredRecord``, ``lists.rules.RecordView``)."""

    @property
    def decided_on(self) -> date | None: ...
    @property
    def valid_from(self) -> date | None: ...
    @property
    def valid_to(self) -> date | None: ...
    @property
    def fields(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Period:
    """The days one record's period runs: ``start`` … ``last_shown`` (both inclusive; None: no
    known end), and from when the record may be repaired."""

    start: date | None
    last_shown: date | None
    until_event: Until | None = None
    extended: bool = False
    repairable: bool = False
    earliest_repair: date | None = None

    @property
    def first_hidden(self) -> date | None:
        """The first day after the period (None: no known end)."""
        return None if self.last_shown is None else self.last_shown + ONE_DAY

    def is_open(self, at: date) -> bool:
        """The period is not over on ``at`` (``at <= last_shown``, or no known end). Whether
        the record has begun on ``at`` is its valid time's question (``valid_from``), which the
        store's queries ask."""
        return self.last_shown is None or at <= self.last_shown


def as_date(value: Any) -> date | None:
    """A field value as a date: a date, or a text that starts with an ISO date (fields are JSON,
    dates are stored as ISO text); anything else is None."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def last_day(start: date, length: Duration) -> date:
    """The last day of a period of ``length`` that starts on ``start`` (第二百零一、二百零二条)."""
    return length.add_to(start)


def start_of(rule: PeriodRule | None, record: DatedRecord) -> date | None:
    """The day the period runs from: the rule's start fields in order, else the record's
    valid_from (no rule: the record's decision date, else its valid_from)."""
    if rule is None:
        return record.decided_on or record.valid_from
    for name in rule.start_fields():
        found = as_date(record.fields.get(name))
        if name == "decided_on" and record.decided_on is not None:
            found = record.decided_on
        if found is not None:
            return found
    return record.valid_from


def fact_day(record: DatedRecord) -> date | None:
    """The day the fact was decided, which picks the rule of its time: the decision date, else
    the day the record holds from."""
    return record.decided_on or record.valid_from


def governing_period(rule: PeriodRule, record: DatedRecord, at: date | None = None) -> PeriodRule:
    """The version of ``rule`` that governs ``record`` on ``at`` (default today)."""
    return governing(rule, fact_day(record), at or date.today())


def governing_repair(
    repair: RepairRule | None, record: DatedRecord, at: date | None = None
) -> RepairRule | None:
    """The version of a repair rule in force on ``at`` (default today)."""
    return None if repair is None else governing(repair, None, at or date.today())


def period_of(
    rule: PeriodRule | None,
    record: DatedRecord,
    *,
    repair: RepairRule | None = None,
    at: date | None = None,
) -> Period:
    """The period ``rule`` gives ``record`` from its own start (:func:`start_of`); ``repair``:
    the record type's repair rule, for ``earliest_repair``; ``at``: the day asked about, which
    with the record's fact day picks the rule's version (default today)."""
    version = None if rule is None else governing_period(rule, record, at)
    start = start_of(version, record)
    return period_under(version, record, start, repair=governing_repair(repair, record, at))


def period_from(
    rule: PeriodRule | None,
    record: DatedRecord,
    start: date | None,
    *,
    repair: RepairRule | None = None,
    at: date | None = None,
) -> Period:
    """The period ``rule`` gives ``record`` from ``start`` (this module's rules): for a caller
    that knows the start better (a list entry takes effect after its notice period; None: not
    known yet, so no length can run)."""
    version = None if rule is None else governing_period(rule, record, at)
    return period_under(version, record, start, repair=governing_repair(repair, record, at))


def period_under(
    rule: PeriodRule | None,
    record: DatedRecord,
    start: date | None,
    *,
    repair: RepairRule | None = None,
) -> Period:
    """:func:`period_from` under the versions that govern the record already picked
    (:func:`governing_period`, :func:`governing_repair`): for a caller that picks them once for
    many records (the list rules, per list and fact day). Picking again changes nothing: an
    earlier version has no versions of its own, and the newest picks the same one again."""
    if rule is None:
        return Period(start, record.valid_to, None, False, *_repair(repair, None, start))
    terms = rule.terms_for(record.fields)
    ends: list[date] = []
    length = terms.length or terms.max
    if length is not None and start is not None:
        ends.append(last_day(start, length))
    if terms.until is not None:
        happened = _event_day(terms.until, record.fields)
        if happened is not None:
            ends.append(happened - ONE_DAY)
    last = min(ends) if ends else None
    extended = False
    given = record.valid_to
    if given is not None:
        if last is None or given < last:
            last = given
        elif given > last and rule.extension is not None:
            last = min(given, last_day(last, rule.extension.max))
            extended = True
    return Period(start, last, terms.until, extended, *_repair(repair, terms.min, start))


def disclosure(record_type: RecordType, record: DatedRecord, at: date | None = None) -> Period:
    """The record's disclosure period (公示期) under its type's ``disclosure_period`` and
    ``repair`` rules, in the versions that govern it on ``at`` (default today)."""
    return period_of(record_type.disclosure_period, record, repair=record_type.repair, at=at)


def repair_ends_sharing(record_type: RecordType, at: date) -> bool:
    """Whether a repair, under the repair rule in force on ``at``, also ends sharing among
    authorities (NDRC order No. 36), not only publication (order No. 58)."""
    rule = governing_repair(record_type.repair, _NoRecord(), at)
    return rule is not None and rule.available and rule.ends_sharing


@dataclass(frozen=True)
class _NoRecord:
    decided_on: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


def _event_day(until: Until, fields: Mapping[str, Any]) -> date | None:
    return next(
        (d for d in (as_date(fields.get(f)) for f in UNTIL_FIELDS[until]) if d is not None), None
    )


def _repair(
    repair: RepairRule | None, minimum: Duration | None, start: date | None
) -> tuple[bool, date | None]:
    """Whether the record may be repaired, and from which day (None: not known)."""
    if repair is None or not repair.available or repair.earliest == "not_applicable":
        return False, None
    if repair.earliest == "after_min_period" and minimum is not None and start is not None:
        return True, last_day(start, minimum) + ONE_DAY
    return True, start


# -- the same in SQL (DuckDB's dialect; the batch layer transpiles it for Spark) -----------------
#
# Input columns: ``decided_on``, ``valid_from``, ``valid_to`` (DATE) and ``fields`` (the record's
# fields as JSON text). ``tests/catalog/test_periods.py`` runs every case of the table through
# both and compares.


def sql_literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def field_sql(name: str) -> str:
    """A field of the record as text (NULL when absent or JSON null)."""
    path = '$."' + name.replace('"', '\\"') + '"'
    return f"json_extract_string(fields, {sql_literal(path)})"


def date_sql(text: str) -> str:
    """:func:`as_date` of a text: its first ten characters as an ISO date, else NULL."""
    head = f"substr({text}, 1, 10)"
    return (
        f"CASE WHEN regexp_full_match({head}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
        f"THEN TRY_CAST({head} AS DATE) END"
    )


def interval_sql(duration: Duration) -> str:
    """A duration as an SQL interval; working days (a scoring window may be written in them)
    need the calendar, which the SQL does not have: ``UnusableInput``."""
    unit = {"d": "DAY", "m": "MONTH", "y": "YEAR"}.get(duration.unit)
    if unit is None:
        raise UnusableInput(
            f"批处理无法按工作日计算期限 / the batch engines cannot count working days: {duration}"
        )
    return f"INTERVAL {duration.amount} {unit}"


def last_day_sql(start: str, length: Duration) -> str:
    """:func:`last_day` in SQL."""
    return f"CAST({start} + {interval_sql(length)} AS DATE)"


def start_sql(rule: PeriodRule | None) -> str:
    """:func:`start_of` in SQL."""
    if rule is None:
        return "COALESCE(decided_on, valid_from)"
    starts = []
    for name in rule.start_fields():
        if name == "decided_on":  # the column, else the field
            starts.append(f"COALESCE(decided_on, {date_sql(field_sql(name))})")
        else:
            starts.append(date_sql(field_sql(name)))
    return f"COALESCE({', '.join([*starts, 'valid_from'])})"


def variant_sql(rule: PeriodRule, boolean_fields: Collection[str] = ()) -> str:
    """The index of the variant ``terms_for`` picks, -1 for the rule's own terms.

    ``boolean_fields``: fields of the record type that are booleans, read ``true``/``false`` from
    JSON but matched as ``str(True)`` in Python."""
    if not rule.variants:
        return "-1"
    whens = []
    for i, variant in enumerate(rule.variants):
        tests = []
        for name, wanted in variant.when.items():
            options = sorted(set(wanted if isinstance(wanted, list) else [wanted]))
            if name in boolean_fields:
                texts = {"True": "true", "False": "false"}
                options = sorted({texts[o] for o in options if o in texts})
            listed = ", ".join(sql_literal(o) for o in options)
            tests.append(f"{field_sql(name)} IN ({listed})" if options else "false")
        whens.append(f"WHEN {' AND '.join(tests)} THEN {i}")
    return f"CASE {' '.join(whens)} ELSE -1 END"


def until_sql(rule: PeriodRule, variant: str) -> str:
    """The event the record's terms run until (text), NULL for none."""
    events = [
        f"WHEN {i} THEN {sql_literal(t.until)}"
        for i, t in [*enumerate(rule.variants), (-1, rule)]
        if t.until is not None
    ]
    return f"CASE {variant} {' '.join(events)} END" if events else "CAST(NULL AS VARCHAR)"


def base_end_sql(rule: PeriodRule, variant: str, start: str) -> str:
    """The terms' last day before the record's ``valid_to`` (length or max, the day before the
    event), NULL while there is none."""
    whens = []
    for i, terms in [*enumerate(rule.variants), (-1, rule)]:
        ends = []
        length = terms.length or terms.max
        if length is not None:
            ends.append(last_day_sql(start, length))
        if terms.until is not None:
            happened = ", ".join(date_sql(field_sql(f)) for f in UNTIL_FIELDS[terms.until])
            ends.append(f"CAST(COALESCE({happened}) - INTERVAL 1 DAY AS DATE)")
        if not ends:
            end = "CAST(NULL AS DATE)"
        elif len(ends) == 1:
            end = ends[0]
        else:  # the earlier of the two, either where the other is not known (yet)
            end = f"LEAST(COALESCE({ends[0]}, {ends[1]}), COALESCE({ends[1]}, {ends[0]}))"
        whens.append(f"WHEN {i} THEN {end}")
    return f"CAST(CASE {variant} {' '.join(whens)} END AS DATE)"


def last_shown_sql(rule: PeriodRule | None, base: str) -> tuple[str, str]:
    """``(last_shown, extended)`` from the terms' end ``base`` and the record's ``valid_to``."""
    if rule is None:
        return "valid_to", "false"
    if rule.extension is not None:
        extended_to = f"LEAST(valid_to, {last_day_sql(base, rule.extension.max)})"
        final = (
            f"CASE WHEN valid_to IS NULL THEN {base} WHEN {base} IS NULL OR valid_to < {base} "
            f"THEN valid_to WHEN valid_to > {base} THEN {extended_to} ELSE {base} END"
        )
        return final, f"COALESCE(valid_to > {base}, false)"
    final = (
        f"CASE WHEN valid_to IS NOT NULL AND ({base} IS NULL OR valid_to < {base}) "
        f"THEN valid_to ELSE {base} END"
    )
    return final, "false"


FACT_DAY_SQL = "COALESCE(decided_on, valid_from)"
""":func:`fact_day` in SQL."""


def disclosure_last_shown_sql(record_type: RecordType, at_sql: str = "CURRENT_DATE") -> str:
    """The last day of :func:`disclosure` in SQL, for one record type; ``at_sql``: the day asked
    about (an SQL date expression), which picks the rule's version with the record's fact day."""
    rule = record_type.disclosure_period
    if rule is None:
        return last_shown_sql(None, "NULL")[0]
    booleans = {f.name for f in record_type.fields if f.type is FieldType.BOOLEAN}
    versions = rule.versions()
    shown = []
    for version in versions:
        base = base_end_sql(version, variant_sql(version, booleans), start_sql(version))
        shown.append(last_shown_sql(version, f"({base})")[0])
    if len(shown) == 1:
        return shown[0]
    pick = version_sql(versions, FACT_DAY_SQL, at_sql)
    whens = " ".join(f"WHEN {i} THEN {sql}" for i, sql in enumerate(shown))
    return f"CAST(CASE {pick} {whens} END AS DATE)"
