"""What a change of law does to the store: ``xinyong catalog impact --on DATE``.

The rules in force on ``DATE`` replace those of the day before (:mod:`xinyong.catalog.law`).
On ``DATE`` itself, and by record type and province, it counts:

- **list entries** in force on ``DATE`` whose list enters or leaves force that day (a list
  holds while its instruments are in force);
- **restrictions** (index rows) in force on ``DATE`` whose measure or list enters or leaves
  force;
- **publications**: records shown to the public on ``DATE`` under the day before's rules and
  not under ``DATE``'s, or the reverse (a period rule's version changes for facts without a
  transitional provision), computed with the period SQL of :mod:`xinyong.catalog.periods` for
  both days;
- **sharing**: repaired records that implementing agencies stop (or start) seeing, where the
  repair rule in force changes whether a repair ends sharing (NDRC order No. 36).

The entries and restrictions are re-derived from the store's current records on DuckDB as
``batch derive`` does (:func:`xinyong.batch.jobs.derive_tables`); publications are computed
in DuckDB from the store's records. Nothing is written but the audit event the command adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, Text, cast, select

from xinyong.batch import jobs
from xinyong.batch.engines import DuckDBEngine
from xinyong.catalog.law import LawChange, diff
from xinyong.catalog.model import Catalog
from xinyong.catalog.periods import disclosure_last_shown_sql, repair_ends_sharing, start_sql
from xinyong.measures.batch import expanded_sql
from xinyong.store.tables import records, subjects

ONE_DAY = timedelta(days=1)

_RECORDS = pa.schema(
    [
        ("record_id", pa.int64()),
        ("record_type", pa.string()),
        ("status", pa.string()),
        ("decided_on", pa.date32()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("fields", pa.string()),
        ("kind", pa.string()),
        ("code", pa.string()),
    ]
)


@dataclass(frozen=True)
class ImpactRow:
    """One count: what changes (``entries``, ``restrictions``, ``publications``, ``sharing``),
    for which record type and province, in which direction (``entered``/``left``)."""

    what: str
    record_type: str
    province: str | None
    change: str
    count: int

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Impact:
    on: date
    changes: tuple[LawChange, ...]
    rows: tuple[ImpactRow, ...]

    def totals(self) -> dict[str, int]:
        found = {"entries": 0, "restrictions": 0, "publications": 0, "sharing": 0}
        for row in self.rows:
            found[row.what] += row.count
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "instruments": sorted({i for c in self.changes for i in c.instruments}),
            "changes": [c.as_json() for c in self.changes],
            "totals": self.totals(),
            "rows": [r.as_json() for r in self.rows],
        }


def _province_sql(code: str, kind: str) -> str:
    """The province (its six-digit code) of a subject code, as ``disclose.queries.region_of``
    reads the region (USCC 3–8, citizen number 1–6), cut to the first two digits."""
    region = (
        f"CASE WHEN {kind} = 'individual' THEN substr({code}, 1, 6) "
        f"WHEN length({code}) = 18 THEN substr({code}, 3, 6) END"
    )
    return f"CASE WHEN {region} IS NOT NULL THEN substr({region}, 1, 2) || '0000' END"


def _store_records(conn: Connection) -> pa.Table:
    r, s = records.c, subjects.c
    query = (
        select(
            r.id,
            r.record_type,
            r.status,
            r.decided_on,
            r.valid_from,
            r.valid_to,
            cast(r.fields, Text),
            s.kind,
            s.primary_code,
        )
        .select_from(records.outerjoin(subjects, subjects.c.id == r.subject_id))
        .where(r.superseded_at.is_(None))
    )
    rows = conn.execute(query).all()
    return pa.table(
        {
            name: pa.array([row[i] for row in rows], _RECORDS.field(name).type)
            for i, name in enumerate(_RECORDS.names)
        }
    )


def _in(column: str, values: Sequence[str]) -> str:
    if not values:
        return "false"
    return f"{column} IN ({', '.join(repr(v) for v in sorted(values))})"


def impact(conn: Connection, catalog: Catalog, on: date) -> Impact:
    """What changes on ``on`` when its rules replace the day before's (this module's doc)."""
    before = on - ONE_DAY
    changes = tuple(diff(catalog, before, on))
    duck = duckdb.connect()
    try:
        rows = _publications(duck, catalog, _store_records(conn), on, before)
        rows += _derived(duck, catalog, conn, on, before)
    finally:
        duck.close()
    return Impact(
        on,
        changes,
        tuple(sorted(rows, key=lambda r: (r.what, r.record_type, r.province or "", r.change))),
    )


def _publications(
    duck: duckdb.DuckDBPyConnection, catalog: Catalog, table: pa.Table, on: date, before: date
) -> list[ImpactRow]:
    duck.register("xy_records", table)
    day = f"DATE '{on.isoformat()}'"
    shown: dict[str, list[str]] = {"old": [], "new": []}
    starts = []
    for rtype in catalog.record_types.values():
        if rtype.disclosure_period is None:
            continue
        for side, law_day in (("old", before), ("new", on)):
            sql = disclosure_last_shown_sql(rtype, f"DATE '{law_day.isoformat()}'")
            shown[side].append(f"WHEN {rtype.id!r} THEN {sql}")
        starts.append(f"WHEN {rtype.id!r} THEN {start_sql(rtype.disclosure_period)}")
    out: list[ImpactRow] = []
    if starts:
        old = f"CASE record_type {' '.join(shown['old'])} END"
        new = f"CASE record_type {' '.join(shown['new'])} END"
        start = f"CASE record_type {' '.join(starts)} END"
        query = f"""
SELECT record_type, province, change, count(*) FROM (
    SELECT record_type, {_province_sql("code", "kind")} AS province,
           CASE WHEN old_shown THEN 'left' ELSE 'entered' END AS change,
           old_shown, new_shown
    FROM (
        SELECT *, ({start}) <= {day} AND ({old} IS NULL OR {day} <= {old}) AS old_shown,
                  ({start}) <= {day} AND ({new} IS NULL OR {day} <= {new}) AS new_shown
        FROM xy_records
        WHERE status IN ('active', 'under_objection')
    ) r
) c WHERE old_shown IS DISTINCT FROM new_shown
GROUP BY ALL
"""
        out += [ImpactRow("publications", t, p, c, n) for t, p, c, n in duck.sql(query).fetchall()]
    flipped = [
        t.id
        for t in catalog.record_types.values()
        if t.disclosure != "subject_only"  # agencies see public and shared records
        and repair_ends_sharing(t, on) != repair_ends_sharing(t, before)
    ]
    if flipped:
        ends = [t for t in flipped if repair_ends_sharing(catalog.record_types[t], on)]
        query = f"""
SELECT record_type, {_province_sql("code", "kind")} AS province,
       CASE WHEN {_in("record_type", ends)} THEN 'left' ELSE 'entered' END, count(*)
FROM xy_records
WHERE status = 'repaired' AND {_in("record_type", flipped)}
GROUP BY ALL
"""
        out += [ImpactRow("sharing", t, p, c, n) for t, p, c, n in duck.sql(query).fetchall()]
    duck.unregister("xy_records")
    return out


def _derived(
    duck: duckdb.DuckDBPyConnection, catalog: Catalog, conn: Connection, on: date, before: date
) -> list[ImpactRow]:
    lists_now = {i for i, d in catalog.lists.items() if d.governs(None, on)}
    lists_then = {i for i, d in catalog.lists.items() if d.governs(None, before)}
    measures_now = {i for i, m in catalog.measures.items() if m.governs(None, on)}
    measures_then = {i for i, m in catalog.measures.items() if m.governs(None, before)}
    if lists_now == lists_then and measures_now == measures_then:
        return []
    inputs = jobs.store_derive_inputs(conn, catalog)
    entries, index = jobs.derive_tables(DuckDBEngine(), catalog, *inputs)
    duck.register("xy_entries", entries)
    duck.register("xy_facts", index)
    duck.execute(f"CREATE OR REPLACE TEMP VIEW xy_index AS {expanded_sql(catalog, 'xy_facts')}")
    duck.register("xy_records", inputs[0])
    codes = _store_subjects(conn)
    duck.register("xy_subjects", codes)
    day = f"DATE '{on.isoformat()}'"
    live = (
        f"(valid_from IS NULL OR valid_from <= {day}) AND (valid_to IS NULL OR valid_to >= {day})"
    )
    out: list[ImpactRow] = []
    for what, table, now, then in (
        ("entries", "xy_entries", _in("list_id", sorted(lists_now)),
         _in("list_id", sorted(lists_then))),
        ("restrictions", "xy_index",
         f"{_in('list_id', sorted(lists_now))} AND {_in('measure_id', sorted(measures_now))}",
         f"{_in('list_id', sorted(lists_then))} AND {_in('measure_id', sorted(measures_then))}"),
    ):  # fmt: skip
        query = f"""
SELECT r.record_type, {_province_sql("s.code", "s.kind")} AS province,
       CASE WHEN held_then THEN 'left' ELSE 'entered' END AS change, count(*)
FROM (SELECT *, {then} AS held_then, {now} AS held_now FROM {table} WHERE {live}) e
JOIN xy_records r USING (record_id)
LEFT JOIN xy_subjects s ON s.subject_id = e.subject_id
WHERE held_then IS DISTINCT FROM held_now
GROUP BY ALL
"""
        out += [ImpactRow(what, t, p, c, n) for t, p, c, n in duck.sql(query).fetchall()]
    duck.execute("DROP VIEW xy_index")
    for name in ("xy_entries", "xy_facts", "xy_records", "xy_subjects"):
        duck.unregister(name)
    return out


def _store_subjects(conn: Connection) -> pa.Table:
    rows = conn.execute(select(subjects.c.id, subjects.c.kind, subjects.c.primary_code)).all()
    return pa.table(
        {
            "subject_id": pa.array([r[0] for r in rows], pa.int64()),
            "kind": pa.array([r[1] for r in rows], pa.string()),
            "code": pa.array([r[2] for r in rows], pa.string()),
        }
    )
