"""The list rules as one SQL text: every record's list entries, for DuckDB and (transpiled) Spark.

:func:`entries_sql` compiles the rules of :mod:`xinyong.lists.rules` from the catalog into one
statement in DuckDB's dialect, the way ``score.batch.compile_sql`` compiles a points model; the
batch layer (:mod:`xinyong.batch`) runs it on DuckDB or transpiles it for Spark. No UDFs. Its
rows are exactly what ``entries_for`` gives for each record whose status keeps a subject listed:

1. **Criteria**: per list, ``record_type`` and every ``where`` value compared as text (booleans
   as ``true``/``false``, as ``rules.meets`` does).
2. **Start, end, early end and extension**: the period's SQL from
   :mod:`xinyong.catalog.periods`, generated from the same rule as the Python (``start_sql``,
   ``variant_sql``, ``base_end_sql``, ``last_shown_sql``), run from the effective day; no start,
   no entry.
3. **Notice**: in working days, through the calendar as data (:func:`workdays_table`: every
   day of the years ``xinyong.workdays`` knows, with the running count of working
   days). A count that reaches a day the calendar does not know leaves the effective date NULL,
   as ``CalendarUnknown`` does in Python.
4. **The home list**: where a record type has a list of its own (``rules.lists_of``), its other
   lists take the home entry's dates.

Input relations: ``records`` (:data:`RECORDS_SCHEMA`, the store's current records with their
fields as JSON text) and ``xy_workdays`` (:func:`workdays_for`: the calendar, only when a list
needs it); the batch layer (``batch.jobs.prepare_calendar``) loads them into its engine.

Not compiled (the SQL refuses at compile time with ``UnusableInput`` rather than guess): a
notice counted in working days that is not required to be given. Periods themselves never count
working days (the catalog refuses them). Dates in fields are read in the ISO form the store
normalises them to (``YYYY-MM-DD``, possibly followed by a time); Python's ``date.fromisoformat``
also reads ``YYYYMMDD``, which the store never holds.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, timedelta

import pyarrow as pa

from xinyong.catalog.law import version_sql
from xinyong.catalog.model import Catalog, Duration, FieldType, ListDef, PeriodRule, RecordType
from xinyong.catalog.periods import (
    FACT_DAY_SQL,
    base_end_sql,
    field_sql,
    last_day_sql,
    last_shown_sql,
    sql_literal,
    start_sql,
    until_sql,
    variant_sql,
)
from xinyong.lists.rules import LISTING_STATUSES, SUSPENDED_UNDER_OBJECTION, lists_of
from xinyong.workdays import default_calendar

#: The records the rules read: the store's current, code-linked records, fields as JSON text.
RECORDS_SCHEMA = pa.schema(
    [
        ("record_id", pa.int64()),
        ("record_key", pa.string()),
        ("record_type", pa.string()),
        ("subject_id", pa.int64()),
        ("status", pa.string()),
        ("decided_on", pa.date32()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("fields", pa.string()),
    ]
)

#: The calendar as data: every known day, the running count of working days up to and including
#: it, whether it is one, and which run of consecutive known years it belongs to.
WORKDAYS_SCHEMA = pa.schema(
    [("day", pa.date32()), ("n", pa.int64()), ("working", pa.bool_()), ("run", pa.int64())]
)

#: Output columns of :func:`entries_sql`, in order (``EntryTerms``' fields).
ENTRY_COLUMNS = (
    "list_id", "subject_id", "record_id", "record_key", "notified_on", "valid_from", "valid_to",
    "until_event", "extended",
)  # fmt: skip

_ONE_DAY = timedelta(days=1)


def workdays_table(first: date, last: date) -> pa.Table:
    """The days from ``first`` to ``last`` in years the working-day calendar knows
    (:data:`WORKDAYS_SCHEMA`); unknown years are absent, and each run of consecutive known years
    counts on its own (a count never crosses an unknown year)."""
    calendar = default_calendar()
    known = set(calendar.known_years())
    days: list[date] = []
    counts: list[int] = []
    working: list[bool] = []
    runs: list[int] = []
    day, n, run, previous = first, 0, 0, None
    while day <= last:
        if day.year in known:
            if previous is None or day - previous != _ONE_DAY:
                run += 1
            is_working = calendar.is_working_day(day)
            n += is_working
            days.append(day)
            counts.append(n)
            working.append(is_working)
            runs.append(run)
            previous = day
        day += _ONE_DAY
    return pa.table(
        [
            pa.array(days, pa.date32()),
            pa.array(counts, pa.int64()),
            pa.array(working, pa.bool_()),
            pa.array(runs, pa.int64()),
        ],
        schema=WORKDAYS_SCHEMA,
    )


def calendar_span() -> tuple[date, date]:
    """The first and last day of the years the working-day calendar knows."""
    years = default_calendar().known_years()
    return date(years[0], 1, 1), date(years[-1], 12, 31)


def workdays_for(catalog: Catalog) -> pa.Table | None:
    """The relation ``xy_workdays`` (the whole known calendar) if a list of ``catalog`` counts
    its notice in working days, else None."""
    if any(_working_day_notice(d) is not None for d in catalog.lists.values()):
        return workdays_table(*calendar_span())
    return None


# -- SQL pieces ----------------------------------------------------------------------------------


def _text_of(value: object) -> str:
    """A criterion's value as ``rules._text`` writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _in(expr: str, options: Sequence[str]) -> str:
    if not options:
        return "false"
    return f"{expr} IN ({', '.join(sql_literal(o) for o in options)})"


def _meets_sql(list_def: ListDef) -> str:
    """``rules.meets_any``: the record meets one of the list's criteria."""
    tests = []
    for criterion in list_def.criteria:
        parts = [f"record_type = {sql_literal(criterion.record_type)}"]
        for name, wanted in criterion.where.items():
            options = wanted if isinstance(wanted, list) else [wanted]
            parts.append(_in(field_sql(name), sorted({_text_of(o) for o in options})))
        tests.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(tests)


def _boolean_fields(catalog: Catalog, list_def: ListDef) -> set[str]:
    """The boolean fields of the record types a list's criteria name (a variant matches them as
    ``str(True)`` in Python, ``true`` in JSON)."""
    types: list[RecordType] = [
        catalog.record_types[c.record_type]
        for c in list_def.criteria
        if c.record_type in catalog.record_types
    ]
    return {f.name for rt in types for f in rt.fields if f.type is FieldType.BOOLEAN}


def _working_day_notice(list_def: ListDef) -> Duration | None:
    notice = list_def.notice
    if notice is None or not notice.required or notice.period is None:
        return None
    return notice.period if notice.period.unit == "wd" else None


def _list_sql(catalog: Catalog, list_def: ListDef, records: str, home_types: list[str]) -> str:
    """One list's own entries (``rules.entry_terms``), with ``home``: whether it is the home
    list of the record's type. The period's SQL is :mod:`xinyong.catalog.periods`'; a period
    with versions under earlier law is one part per version, each for the records it governs
    (:func:`xinyong.catalog.law.version_sql`, on the engine's today as ``entry_terms`` uses)."""
    versions = list_def.period.versions()
    if len(versions) == 1:
        return _version_sql(catalog, list_def, versions[0], records, home_types, "true")
    pick = version_sql(versions, FACT_DAY_SQL, "CURRENT_DATE")
    return "\nUNION ALL\n".join(
        _version_sql(catalog, list_def, v, records, home_types, f"{pick} = {i}")
        for i, v in enumerate(versions)
    )


def _version_sql(
    catalog: Catalog,
    list_def: ListDef,
    rule: PeriodRule,
    records: str,
    home_types: list[str],
    governed: str,
) -> str:
    """The entries of the records ``governed`` (an SQL condition) by one version of the list's
    period."""
    variant = variant_sql(rule, _boolean_fields(catalog, list_def))
    home = _in("record_type", home_types)

    # Notice: notified on the start day, effective when the notice period has run.
    notice = list_def.notice
    joins = ""
    if notice is not None and notice.required and notice.period is not None:
        notified = "start"
        if notice.period.unit == "wd":
            k = notice.period.amount
            joins = (
                " LEFT JOIN xy_workdays w0 ON w0.day = CAST(b.start + INTERVAL 1 DAY AS DATE)"
                " LEFT JOIN xy_workdays w1 ON w1.working AND w1.run = w0.run"
                f" AND w1.n = w0.n - CASE WHEN w0.working THEN 1 ELSE 0 END + {k}"
            )
            effective = "w1.day"
        else:
            effective = last_day_sql("b.start", notice.period)
    else:
        notified = "NULL"
        effective = "b.start"

    last_shown, extended = last_shown_sql(rule, "base_to")
    return f"""
SELECT {sql_literal(list_def.id)} AS list_id, subject_id, record_id, record_key, home,
       notified_on, effective AS valid_from, {last_shown} AS valid_to, until_event,
       {extended} AS extended
FROM (
    SELECT *, {base_end_sql(rule, "variant", "effective")} AS base_to,
           {until_sql(rule, "variant")} AS until_event
    FROM (
        SELECT b.*, CAST({notified} AS DATE) AS notified_on, CAST({effective} AS DATE) AS effective
        FROM (
            SELECT record_id, record_key, subject_id, valid_to, fields, {home} AS home,
                   {start_sql(rule)} AS start, {variant} AS variant
            FROM {records}
            WHERE {_meets_sql(list_def)} AND {governed}
        ) b{joins}
        WHERE b.start IS NOT NULL
    ) n
) e
"""


def entries_sql(
    catalog: Catalog,
    records: str = "records",
    listing_statuses: Collection[str] = LISTING_STATUSES,
) -> str:
    """Every list entry the records in ``records`` make (:data:`ENTRY_COLUMNS`): the rows
    ``rules.entries_for`` gives for each record with a subject and one of ``listing_statuses``
    (as ``lists.derive`` takes it), but none for a record under objection of a type in
    ``rules.SUSPENDED_UNDER_OBJECTION`` (``rules.lists_subject``)."""
    statuses = sorted(listing_statuses)
    types = sorted({c.record_type for d in catalog.lists.values() for c in d.criteria})
    suspended = sorted(SUSPENDED_UNDER_OBJECTION) or ["-"]  # rules.lists_subject
    if not catalog.lists or not statuses:
        return (
            "SELECT CAST(NULL AS VARCHAR) AS list_id, CAST(NULL AS BIGINT) AS subject_id, "
            "CAST(NULL AS BIGINT) AS record_id, CAST(NULL AS VARCHAR) AS record_key, "
            "CAST(NULL AS DATE) AS notified_on, CAST(NULL AS DATE) AS valid_from, "
            "CAST(NULL AS DATE) AS valid_to, CAST(NULL AS VARCHAR) AS until_event, "
            "false AS extended WHERE false"
        )
    homes: dict[str, list[str]] = {}
    for rtype in types:
        home, _ = lists_of(catalog, rtype)
        if home is not None:
            homes.setdefault(home.id, []).append(rtype)
    parts = [
        _list_sql(catalog, d, "xy_listing", sorted(homes.get(d.id, [])))
        for d in catalog.lists.values()
    ]
    own = "\nUNION ALL\n".join(parts)
    return f"""
WITH xy_listing AS (
    SELECT record_id, record_key, record_type, subject_id, decided_on, valid_from, valid_to,
           fields
    FROM {records}
    WHERE subject_id IS NOT NULL AND {_in("status", statuses)} AND {_in("record_type", types)}
      AND NOT (status = 'under_objection' AND {_in("record_type", suspended)})
),
xy_own AS ({own})
SELECT o.list_id, o.subject_id, o.record_id, o.record_key,
       CASE WHEN h.record_id IS NULL THEN o.notified_on ELSE h.notified_on END AS notified_on,
       CASE WHEN h.record_id IS NULL THEN o.valid_from ELSE h.valid_from END AS valid_from,
       CASE WHEN h.record_id IS NULL THEN o.valid_to ELSE h.valid_to END AS valid_to,
       CASE WHEN h.record_id IS NULL THEN o.until_event ELSE h.until_event END AS until_event,
       CASE WHEN h.record_id IS NULL THEN o.extended ELSE h.extended END AS extended
FROM xy_own o
LEFT JOIN xy_own h ON h.home AND NOT o.home AND h.record_id = o.record_id
"""
