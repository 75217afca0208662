"""The list rules as one SQL text: every record's list entries, for DuckDB and (transpiled) Spark.

:func:`entries_sql` compiles the rules of :mod:`xinyong.lists.rules` from the catalog into one
statement in DuckDB's dialect, the way ``score.batch.compile_sql`` compiles a points model; the
batch layer (:mod:`xinyong.batch`) runs it on DuckDB or transpiles it for Spark. No UDFs. Its
rows are exactly what ``entries_for`` gives for each record whose status keeps a subject listed:

1. **Criteria**: per list, ``record_type`` and every ``where`` value compared as text (booleans
   as ``true``/``false``, as ``rules.meets`` does).
2. **Start**: the first of the rule's start fields that reads as an ISO date (``decided_on`` is
   the column, else the field), else the record's ``valid_from``; no start, no entry.
3. **Notice**: in working days, through the calendar as data (:func:`workdays_table`: every
   day of the years ``xinyong.workdays`` knows, with the running count of working
   days). A count that reaches a day the calendar does not know leaves the effective date NULL,
   as ``CalendarUnknown`` does in Python.
4. **End**: the first matching variant's (else the rule's) ``length`` or ``max`` from the
   effective day, minus one day; ``until`` an event: the day before the first event field.
5. **Early end and extension** by the record's ``valid_to`` (the rule's own extension, capped
   at its ``max``).
6. **The home list**: where a record type has a list of its own (``rules.lists_of``), its other
   lists take the home entry's dates.

Input relations: ``records`` (:data:`RECORDS_SCHEMA`, the store's current records with their
fields as JSON text) and ``xy_workdays`` (:func:`workdays_for`: the calendar, only when a list
needs it); the batch layer (``batch.jobs.prepare_calendar``) loads them into its engine.

Not compiled (the SQL refuses at compile time with ``UnusableInput`` rather than guess): lengths,
maxima or extensions counted in working days (``Duration.add_to`` cannot count them in Python
either). Dates in fields are read in the ISO form the store normalises them to (``YYYY-MM-DD``,
possibly followed by a time); Python's ``date.fromisoformat`` also reads ``YYYYMMDD``, which the
store never holds.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, timedelta

import pyarrow as pa

from xinyong.catalog.model import Catalog, Duration, FieldType, ListDef, RecordType
from xinyong.errors import UnusableInput
from xinyong.lists.rules import EVENT_FIELDS, LISTING_STATUSES, lists_of
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


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _field(name: str) -> str:
    """A field of the record as text (NULL when absent or JSON null)."""
    path = '$."' + name.replace('"', '\\"') + '"'
    return f"json_extract_string(fields, {_lit(path)})"


def _date_of(text: str) -> str:
    """``rules.as_date`` of a text: its first ten characters as an ISO date, else NULL."""
    head = f"substr({text}, 1, 10)"
    return (
        f"CASE WHEN regexp_full_match({head}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
        f"THEN TRY_CAST({head} AS DATE) END"
    )


def _interval(duration: Duration) -> str:
    unit = {"d": "DAY", "m": "MONTH", "y": "YEAR"}.get(duration.unit)
    if unit is None:
        raise UnusableInput(
            f"批处理无法按工作日计算期限 / batch lists cannot add working days here: {duration}"
        )
    return f"INTERVAL {duration.amount} {unit}"


def _plus(day: str, duration: Duration) -> str:
    return f"CAST({day} + {_interval(duration)} AS DATE)"


def _minus_one_day(day: str) -> str:
    return f"CAST({day} - INTERVAL 1 DAY AS DATE)"


def _text_of(value: object) -> str:
    """A criterion's value as ``rules._text`` writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _in(expr: str, options: Sequence[str]) -> str:
    if not options:
        return "false"
    return f"{expr} IN ({', '.join(_lit(o) for o in options)})"


def _meets_sql(list_def: ListDef) -> str:
    """``rules.meets_any``: the record meets one of the list's criteria."""
    tests = []
    for criterion in list_def.criteria:
        parts = [f"record_type = {_lit(criterion.record_type)}"]
        for name, wanted in criterion.where.items():
            options = wanted if isinstance(wanted, list) else [wanted]
            parts.append(_in(_field(name), sorted({_text_of(o) for o in options})))
        tests.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(tests)


def _variant_options(
    catalog: Catalog, list_def: ListDef, name: str, options: Sequence[str]
) -> list[str]:
    """The texts of a field that match a variant's options as ``str(value) in options`` does:
    a JSON boolean reads ``true``/``false`` here but is ``True``/``False`` to Python."""
    types: list[RecordType] = [
        catalog.record_types[c.record_type]
        for c in list_def.criteria
        if c.record_type in catalog.record_types
    ]
    boolean = any(f.name == name and f.type is FieldType.BOOLEAN for rt in types for f in rt.fields)
    if not boolean:
        return sorted(set(options))
    python = {"True": "true", "False": "false"}
    return sorted({python[o] for o in options if o in python})


def _working_day_notice(list_def: ListDef) -> Duration | None:
    notice = list_def.notice
    if notice is None or not notice.required or notice.period is None:
        return None
    return notice.period if notice.period.unit == "wd" else None


def _start_sql(list_def: ListDef) -> str:
    starts = []
    for name in list_def.period.start_fields():
        if name == "decided_on":  # the column, else the field (``record.decided_on or …``)
            starts.append(f"COALESCE(decided_on, {_date_of(_field(name))})")
        else:
            starts.append(_date_of(_field(name)))
    return f"COALESCE({', '.join([*starts, 'valid_from'])})"


def _list_sql(catalog: Catalog, list_def: ListDef, records: str, home_types: list[str]) -> str:
    """One list's own entries (``rules.entry_terms``), with ``home``: whether it is the home
    list of the record's type."""
    rule = list_def.period
    variants = rule.variants
    pick = " ".join(
        "WHEN "
        + " AND ".join(
            _in(
                _field(k), _variant_options(catalog, list_def, k, v if isinstance(v, list) else [v])
            )
            for k, v in variant.when.items()
        )
        + f" THEN {i}"
        for i, variant in enumerate(variants)
    )
    variant = f"CASE {pick} ELSE -1 END" if variants else "-1"
    happened = f"COALESCE({', '.join(_date_of(_field(f)) for f in EVENT_FIELDS)})"
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
            effective = _plus("b.start", notice.period)
    else:
        notified = "NULL"
        effective = "b.start"

    # The end before the record's own valid_to, and the event it waits for, per variant.
    terms = [(str(i), v) for i, v in enumerate(variants)]
    ends = []
    events = []
    for when, t in [*terms, ("-1", rule)]:
        length = t.length or t.max
        if t.until is not None:
            ends.append(f"WHEN {when} THEN {_minus_one_day('happened')}")
            events.append(f"WHEN {when} THEN {_lit(t.until)}")
        elif length is not None:
            ends.append(f"WHEN {when} THEN {_plus('effective', length)} - INTERVAL 1 DAY")
        else:
            ends.append(f"WHEN {when} THEN NULL")
    end = f"CAST(CASE variant {' '.join(ends)} END AS DATE)"
    event = f"CASE variant {' '.join(events)} END" if events else "CAST(NULL AS VARCHAR)"
    if rule.extension is not None:
        extended_to = f"LEAST(valid_to, {_plus('base_to', rule.extension.max)})"
        final = (
            "CASE WHEN valid_to IS NULL THEN base_to WHEN base_to IS NULL OR valid_to < base_to "
            f"THEN valid_to WHEN valid_to > base_to THEN {extended_to} ELSE base_to END"
        )
        extended = "COALESCE(valid_to > base_to, false)"
    else:
        final = (
            "CASE WHEN valid_to IS NOT NULL AND (base_to IS NULL OR valid_to < base_to) "
            "THEN valid_to ELSE base_to END"
        )
        extended = "false"
    return f"""
SELECT {_lit(list_def.id)} AS list_id, subject_id, record_id, record_key, home,
       notified_on, effective AS valid_from, {final} AS valid_to, until_event,
       {extended} AS extended
FROM (
    SELECT *, {end} AS base_to, {event} AS until_event
    FROM (
        SELECT b.*, CAST({notified} AS DATE) AS notified_on, CAST({effective} AS DATE) AS effective
        FROM (
            SELECT record_id, record_key, subject_id, valid_to, {home} AS home,
                   {_start_sql(list_def)} AS start, {variant} AS variant, {happened} AS happened
            FROM {records}
            WHERE {_meets_sql(list_def)}
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
    (the due-process policy's set, as ``lists.derive`` takes it)."""
    statuses = sorted(listing_statuses)
    types = sorted({c.record_type for d in catalog.lists.values() for c in d.criteria})
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
