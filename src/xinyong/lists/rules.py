"""From one record to its list entries: which lists it puts its subject on, from when, until when.

Pure functions over the catalog and a record's values; no database. The rules, in order:

1. **Criteria.** A record meets a list's criterion when its record type matches and every
   ``where`` condition holds on its fields (enum ids, numbers, booleans compared as text).
2. **Start, end, early end and extension** follow the list's ``period`` as
   :mod:`xinyong.catalog.periods` reads it for every part of the platform: from the rule's
   ``from_field`` (or ``fallback_from_field``, then the record's valid-time start); ``valid_to``
   is the last day the entry holds (inclusive), the corresponding day after ``length`` or
   ``max`` (《民法典》第二百零一条、第二百零二条); ``until`` an event, the day before the
   record says it happened; the record's ``valid_until`` ends it early or extends it up to the
   rule's extension (marked *extended*). A record with no date at all lists nobody.
3. **Notice (告知).** Where the list requires notice with a period (e.g. the 7 working days of
   发改财金〔2018〕384/385号), the subject is *notified* on the start day and the entry takes
   effect (is *published*) when the notice period ends; the period runs from that day. Working
   days come from ``xinyong.workdays``; for a year whose holidays nobody knows yet the effective
   date is left unknown and the entry restricts nothing until it is known (never guess against a
   person).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from xinyong.catalog.model import Catalog, Criterion, Duration, ListDef, PeriodRule
from xinyong.catalog.periods import DatedRecord, fact_day, governing_period, period_under, start_of
from xinyong.errors import CalendarUnknown

#: Record statuses that keep a subject on a list. ``under_objection`` keeps measures in force
#: while the objection is examined (法释〔2017〕7号 art. 12: 复议期间不停止原决定的执行), except
#: for the record types below; ``lists.derive`` may be given another set (``derive_subjects``).
LISTING_STATUSES: frozenset[str] = frozenset({"active", "under_objection"})

#: Record types whose records list nobody while an objection against them is examined (status
#: ``under_objection``): the railway and aviation lists' publicity-period rule, 发改财金〔2018〕
#: 384号 / 385号 (公示期内提出异议的，异议期间暂不实施限制). The due-process policy
#: (``xinyong.process.policy``, with the deadlines and legal bases) reads it from here; the
#: SQL derivation (``lists.batch.entries_sql``) applies it as ``lists_subject`` does.
SUSPENDED_UNDER_OBJECTION: frozenset[str] = frozenset(
    {"railway_safety_violation", "aviation_safety_violation"}
)


def lists_subject(
    status: str, record_type: str, statuses: Collection[str] = LISTING_STATUSES
) -> bool:
    """Whether a record with this status and type puts its subject on the lists it meets."""
    if status == "under_objection" and record_type in SUSPENDED_UNDER_OBJECTION:
        return False
    return status in statuses


@dataclass(frozen=True)
class RecordView:
    """What the rules need of a stored record."""

    id: int
    record_key: str
    record_type: str
    subject_id: int
    status: str
    decided_on: date | None
    valid_from: date | None
    valid_to: date | None
    fields: dict[str, Any]


@dataclass(frozen=True)
class EntryTerms:
    """One subject's entry on one list, as one record makes it."""

    list_id: str
    subject_id: int
    record_id: int
    record_key: str
    notified_on: date | None
    valid_from: date | None
    valid_to: date | None
    until_event: str | None
    extended: bool

    def key(self) -> tuple[str, str]:
        return (self.list_id, self.record_key)


def meets(criterion: Criterion, record: RecordView) -> bool:
    """True if ``record`` meets ``criterion``."""
    if criterion.record_type != record.record_type:
        return False
    for name, wanted in criterion.where.items():
        actual = record.fields.get(name)
        options = wanted if isinstance(wanted, list) else [wanted]
        if actual is None or _text(actual) not in {_text(o) for o in options}:
            return False
    return True


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def home_list(catalog: Catalog, record_type: str) -> ListDef | None:
    """The list a record type is the only criterion of (its own list), if there is one."""
    return lists_of(catalog, record_type)[0]


#: Per catalog (by identity; the catalog is immutable): record type → (home list, other lists).
_LISTS_OF: dict[int, tuple[Catalog, dict[str, tuple[ListDef | None, list[ListDef]]]]] = {}


def lists_of(catalog: Catalog, record_type: str) -> tuple[ListDef | None, list[ListDef]]:
    """The record type's own list (if any), and the other lists with a criterion on it: the only
    lists a record of this type can meet. Worked out once per catalog and record type."""
    cached = _LISTS_OF.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        if len(_LISTS_OF) >= 8:
            _LISTS_OF.clear()
        cached = _LISTS_OF[id(catalog)] = (catalog, {})
    found = cached[1].get(record_type)
    if found is None:
        home = next(
            (
                d
                for d in catalog.lists.values()
                if [c.record_type for c in d.criteria] == [record_type]
            ),
            None,
        )
        others = [
            d
            for d in catalog.lists.values()
            if d is not home and any(c.record_type == record_type for c in d.criteria)
        ]
        found = cached[1][record_type] = (home, others)
    return found


def entries_for(catalog: Catalog, record: RecordView) -> list[EntryTerms]:
    """The list entries one record makes.

    Where a record type has a list of its own (a judgment defaulter's record → the defaulters
    list) and also meets another list (persons under consumption restriction), the other entry
    follows the own list's dates: a listed defaulter is restricted for as long as they are listed
    (法释〔2015〕17号 art. 1), while a consumption restriction order lasts until lifted.
    """
    home, others = lists_of(catalog, record.record_type)
    home_terms = entry_terms(home, record) if home is not None and meets_any(home, record) else None
    out = [home_terms] if home_terms is not None else []
    for list_def in others:
        if not meets_any(list_def, record):
            continue
        if home_terms is None:
            terms = entry_terms(list_def, record)
        elif start_of(_version(list_def.period, record), record) is None:
            terms = None  # no day to run from on this list's rule: no entry, as entry_terms says
        else:  # the own list's dates (the other list's own period would be replaced)
            terms = EntryTerms(
                list_id=list_def.id,
                subject_id=record.subject_id,
                record_id=record.id,
                record_key=record.record_key,
                notified_on=home_terms.notified_on,
                valid_from=home_terms.valid_from,
                valid_to=home_terms.valid_to,
                until_event=home_terms.until_event,
                extended=home_terms.extended,
            )
        if terms is not None:
            out.append(terms)
    return out


def meets_any(list_def: ListDef, record: RecordView) -> bool:
    return any(meets(c, record) for c in list_def.criteria)


def entry_terms(list_def: ListDef, record: RecordView) -> EntryTerms | None:
    """The entry ``record`` makes on ``list_def``: dates per the rules in this module's doc, under
    the version of the list's period that governs the record today
    (:func:`xinyong.catalog.periods.governing_period`)."""
    rule = _version(list_def.period, record)
    start = start_of(rule, record)
    if start is None:
        return None
    notice = list_def.notice
    notified_on: date | None = None
    effective: date | None = start
    if notice is not None and notice.required and notice.period is not None:
        notified_on = start
        effective = _after(start, notice.period)
    period = period_under(rule, record, effective)
    return EntryTerms(
        list_id=list_def.id,
        subject_id=record.subject_id,
        record_id=record.id,
        record_key=record.record_key,
        notified_on=notified_on,
        valid_from=effective,
        valid_to=period.last_shown,
        until_event=period.until_event,
        extended=period.extended,
    )


#: (period rule's identity, fact day, today) → (the rule, the version that governs such a
#: record today): ``governing_period`` once per list and fact day rather than once per record
#: (a catalog's rules are immutable once loaded; the rule is kept, so its id is not reused).
_VERSIONS: dict[tuple[int, date | None, date], tuple[PeriodRule, PeriodRule]] = {}


def _version(rule: PeriodRule, record: DatedRecord) -> PeriodRule:
    """``governing_period(rule, record)``, remembered (see ``_VERSIONS``)."""
    key = (id(rule), fact_day(record), date.today())
    found = _VERSIONS.get(key)
    if found is None or found[0] is not rule:
        if len(_VERSIONS) >= 100_000:
            _VERSIONS.clear()
        found = _VERSIONS[key] = (rule, governing_period(rule, record, key[2]))
    return found[1]


def _after(start: date, period: Duration) -> date | None:
    if period.unit != "wd":
        return period.add_to(start)
    from xinyong.workdays import add_working_days

    try:
        return add_working_days(start, period.amount)
    except CalendarUnknown:
        return None
