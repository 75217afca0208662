"""Bulk checks: a column of codes (today's ticket buyers) against the restriction index.

``screen(engine, path, action, out, …)`` writes one row per input row, in input order:
``code`` (as given), ``outcome`` (``permit``/``deny``/``review``/``prefer``, or ``invalid``),
``until``, ``measures`` (the measures behind the outcome, ``;``-separated; for an invalid code,
the reason: ``length``, ``charset``, ``checksum``, ``region``, ``birth_date``, …). An invalid
code is never silently permitted or denied.

How it scales: the index rows for the action that hold on ``at`` (as known on ``known_at``) are
read out of the store once. DuckDB reads the file in Arrow batches of :data:`BATCH_ROWS` codes;
each batch's codes are checked by numpy (``xinyong.codes.bulk.verdicts``: the verdicts of
``xinyong.codes.identifiers.reason_of``, parity-tested against it and against the SQL checks),
looked up among the index's distinct codes (:class:`Decided`: a valid code's own, else the
organisation code inside a valid USCC, else ``permit``), and the index rows of the codes a batch
matches for the first time are combined by the same rule as a single check (deny > review >
prefer; latest ``until``) in DuckDB (:data:`COMBINE_SQL`, the batch layer's text, over those
rows only: codes no batch matches are never combined). Each batch is decided one ahead in a
second thread and written as it comes — a CSV by :meth:`Decided.write_csv` (each line the
code's cell and the tail of its decision, made once per decision; DuckDB's CSV dialect, byte
for byte), Parquet by DuckDB: input order is kept
without a sort, the outcomes are counted on the way, memory stays bounded by the batch. No
DuckDB extension is loaded (no network at run time).

The same checks and decisions exist as SQL (:func:`codes_sql`, :func:`decisions_sql`,
:func:`matched_sql`): the batch layer (``xinyong.batch``) runs that text on DuckDB and on
Spark. In SQL: the same compaction as ``xinyong.codes.normalise`` (separators removed,
full-width and lower case folded, one ``translate``), the same choice of scheme as
``xinyong.codes.detect_kind``, then the checks in ``xinyong.codes``' order — USCC (characters,
authority and category, region, organisation code mod 11, check character mod 31 with weights
3^i), organisation code (mod 11 with weights 3, 7, 9, 10, 5, 8, 4, 2), citizen number
(characters, region by a join against the shipped region table, birth date, ISO 7064 mod 11-2;
the 15-digit form is widened to 18). Tests hold both to
``xinyong.codes.identifiers.reason_of`` on thousands of valid and corrupted codes.

**Audit.** A screen reads the file of every known subject whose code is in the column. With
``audit`` (``actor``, ``role`` and ``purpose``, as ``xinyong.audit.record`` takes them), it
writes one event per subject matched — by its own code or by the organisation code inside a
USCC, as the screen matches them — naming that subject's primary code and outcome, so each
subject's "who looked" list (``xinyong.audit.events_for_subject``, which selects by the
``subject`` column) shows the screen. A batch event listing the subjects in ``detail`` would not
show there. Codes no subject holds and invalid codes read no one's file: no event. The result is
written beside ``out`` first and put in place only after the events are committed: if they
cannot be written, no result is given.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, or_, select

from xinyong.arrow_text import text_buffers
from xinyong.audit import record_many
from xinyong.catalog.model import Catalog
from xinyong.codes import bulk, normalise, orgcode, ric, uscc
from xinyong.errors import UnusableInput, first_line
from xinyong.measures.decisions import (
    PRECEDENCE,
    known_at_from,
    liftable_lists,
    lifting_of,
    liftings_for,
    require_action,
)
from xinyong.measures.reach import reach_of, way_of
from xinyong.measures.tables import restrictions
from xinyong.spreadsheet import neutralise_arrow
from xinyong.store.engine import database_errors
from xinyong.store.tables import subject_identifiers, subjects

Progress = Callable[[float], None]
_T = TypeVar("_T")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
#: DuckDB's memory budget for one screen (beyond it, it spills to disk).
MEMORY_LIMIT = "1GB"
DEFAULT_COLUMNS = ("code", "subject", "subject_code", "统一社会信用代码", "身份证号码", "证件号码")


@dataclass(frozen=True)
class ScreenResult:
    rows: int
    invalid: int
    outcomes: dict[str, int]
    out: str
    seconds: float

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def restriction_table(
    engine: Engine, action: str, at: date, known_at: datetime | None, catalog: Catalog
) -> pa.Table:
    """The index rows for ``action`` holding on ``at``, per code: ``code, effect, until, measure``
    (each fact once per measure of ``action`` it carries, ``xinyong.measures.reach``).

    Every identifier of a restricted subject (USCC, organisation code, citizen number) is a code.
    A row a single lifting lifts on ``at`` is ``permit`` until the lifting's window ends, as in a
    single check (``decisions.apply_liftings``).
    """
    r = restrictions.c
    reach = reach_of(catalog)
    query = (
        select(
            subject_identifiers.c.value, r.subject_kind, r.role, r.valid_to, r.subject_id,
            r.list_id,
        )
        .join(subject_identifiers, subject_identifiers.c.subject_id == r.subject_id)
        .where(
            r.list_id.in_(sorted(reach.lists_for(action))),
            or_(r.valid_from.is_(None), r.valid_from <= at),
            or_(r.valid_to.is_(None), r.valid_to >= at),
        )
    )  # fmt: skip
    if known_at is None:
        query = query.where(r.superseded_at.is_(None))
    else:
        query = query.where(
            r.recorded_at <= known_at, or_(r.superseded_at.is_(None), r.superseded_at > known_at)
        )
    codes: list[str] = []
    effects: list[str] = []
    untils: list[date | None] = []
    measures: list[str] = []
    liftable = liftable_lists(catalog)
    lift_rows: list[int] = []  # positions of rows a lifting may lift
    lift_keys: list[tuple[int, str]] = []
    with database_errors(), engine.connect() as conn:
        for code, kind, role, until, sid, list_id in conn.execute(query).yield_per(50_000):
            # Each fact, expanded to the measures of the action it carries (``reach``).
            for measure in reach.for_action(list_id, way_of(kind, role), action):
                if list_id in liftable:
                    lift_rows.append(len(codes))
                    lift_keys.append((sid, list_id))
                codes.append(code)
                effects.append(measure.effect)
                untils.append(until)
                measures.append(measure.id)
        if lift_rows:
            found = liftings_for(conn, catalog, {k[0] for k in lift_keys}, action, at, known_at)
            for n, (sid, list_id) in zip(lift_rows, lift_keys, strict=True):
                lifting = lifting_of(catalog, list_id, effects[n], found.get(sid, ()))
                if lifting is not None:
                    effects[n], untils[n] = "permit", lifting.valid_to
    return pa.table(
        {
            "code": pa.array(codes, pa.string()),
            "effect": pa.array(effects, pa.string()),
            "until": pa.array(untils, pa.date32()),
            "measure": pa.array(measures, pa.string()),
        }
    )


def _compact_sql(col: str, plain: str) -> str:
    """SQL: ``normalise.compact`` — one ``translate`` (mapped characters, then removed ones);
    ``plain`` is the SQL saying ``col`` has nothing to translate (``[0-9A-Z]*``)."""
    mapped = {k: v for k, v in normalise.COMPACT_TABLE.items() if v is not None}
    removed = [k for k, v in normalise.COMPACT_TABLE.items() if v is None]
    source = "".join(chr(k) for k in mapped) + "".join(chr(k) for k in removed)
    target = "".join(chr(v) for v in mapped.values())
    translated = f"translate({col}, {_lit(source)}, {_lit(target)})"
    return f"CASE WHEN {plain} THEN {col} WHEN {col} IS NULL THEN '' ELSE {translated} END"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _weighted(v: str, start: int, weights: tuple[int, ...], value: str) -> str:
    """SQL: Σ value(character at ``start`` + i) · weights[i]; ``value`` maps ``{c}`` to a number."""
    return " + ".join(
        f"{w} * ({value.format(c=f'substr({v}, {start + i}, 1)')})" for i, w in enumerate(weights)
    )


_BODY_VALUE = f"(instr({_lit(orgcode.BODY_ALPHABET)}, {{c}}) - 1)"
_USCC_VALUE = f"(instr({_lit(uscc.ALPHABET)}, {{c}}) - 1)"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_DIGITS18 = "'[0-9]{17}[0-9X]'"


def _org_check(v: str, start: int) -> str:
    """SQL: the organisation-code check character of the 8-character body at ``start``."""
    return (
        f"substr('0X987654321', (({_weighted(v, start, _ORG_WEIGHTS, _BODY_VALUE)}) % 11) + 1, 1)"
    )


def _ric_check(hi: str, lo: str) -> str:
    """SQL: the check character of 17 digits given as two INTEGERs, ``hi`` (digits 1–8) and
    ``lo`` (digits 9–17), by 32-bit integer arithmetic, without taking the digits apart.

    With ``q_k = lo // 10^k``, digit ``k`` from the right of ``lo`` is ``q_k - 10·q_(k+1)``,
    and so for ``hi``; digit ``k`` from the right of the 17 weighs ``2^(k+1)`` mod 11 (7, 9, 10,
    … 2 from the left). As ``-10 ≡ 1 (mod 11)``, the weighted sum is, mod 11, a sum of the
    ``q_k`` times ``2^(k+1) + 2^k`` (the last digit of each part: its own weight alone): fifteen
    divisions and two remainders, on values below 10^9. (The cast: Spark's ``DIV`` gives a
    BIGINT, and its ``substr`` takes an INTEGER.)"""
    terms = [f"2 * ({lo} % 11)"]
    terms += [f"{_RIC_COEFF[k]} * ({lo} // {10**k})" for k in range(1, 9)]
    terms += [f"{_ric_weight(9)} * {hi}"]
    terms += [f"{_RIC_COEFF[k]} * ({hi} // {10 ** (k - 9)})" for k in range(10, 17)]
    return f"substr('{_CHECK}', (({' + '.join(terms)}) % 11)::INTEGER + 1, 1)"


def _ric_weight(k: int) -> int:
    """The weight of digit ``k`` from the right of a citizen number's first 17."""
    return pow(2, k + 1, 11)


_RIC_COEFF = {k: (_ric_weight(k) + _ric_weight(k - 1)) % 11 for k in range(1, 17)}


def _born_ok(b: str) -> str:
    """SQL: ``b`` (an integer ``YYYYMMDD``) is a real date from ``ric.EARLIEST_BIRTH`` to today
    — what ``try_strptime(…, '%Y%m%d') BETWEEN earliest AND current_date`` says of 8 digits,
    in integer arithmetic: month 1–12; day 1 to the month's last (31 in months 1, 3, 5, 7, 8, 10,
    12, i.e. where ``(m + m // 8) % 2 = 1``; February 29 in a leap year)."""
    m, d, y = f"(({b} // 100) % 100)", f"({b} % 100)", f"({b} // 10000)"
    leap = f"CASE WHEN {y} % 4 = 0 AND ({y} % 100 <> 0 OR {y} % 400 = 0) THEN 29 ELSE 28 END"
    last = f"CASE WHEN {m} = 2 THEN {leap} ELSE 30 + (({m} + {m} // 8) % 2) END"
    earliest = int(ric.EARLIEST_BIRTH.strftime("%Y%m%d"))
    today = "(year(current_date) * 10000 + month(current_date) * 100 + day(current_date))"
    calendar = f"{m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {last}"
    return f"({b} BETWEEN {earliest} AND {today} AND {calendar})"


def _in(expr: str, values: Collection[str]) -> str:
    return f"{expr} IN ({', '.join(_lit(x) for x in sorted(values))})"


def _ric_reason(v: str) -> str:
    """SQL: ``ric.reason`` of a compacted ``v`` (NULL when valid), over the columns ``len``,
    ``d18`` (17 digits and a digit or X), ``hi`` and ``lo`` (the value of digits 1–8 and 9–17)
    and ``r1`` (1 when the region in characters 1–6 is known)."""
    born18 = "((hi % 100) * 1000000 + lo // 1000)"
    born15 = f"(19000000 + TRY_CAST(substr({v}, 7, 6) AS INTEGER))"
    return f"""CASE
        WHEN len = 18 THEN CASE
            WHEN NOT d18 THEN 'charset'
            WHEN r1 IS NULL THEN 'region'
            WHEN NOT {_born_ok(born18)} THEN 'birth_date'
            WHEN {_ric_check("hi", "lo")} <> substr({v}, 18, 1) THEN 'checksum' END
        WHEN len = 15 THEN CASE
            WHEN NOT regexp_full_match({v}, '[0-9]{{15}}') THEN 'charset'
            WHEN r1 IS NULL THEN 'region'
            WHEN NOT {_born_ok(born15)} THEN 'birth_date' END
        WHEN regexp_full_match({v}, '[0-9X]*') AND NOT contains(left({v}, -1), 'X')
            THEN 'length'
        ELSE 'charset' END"""


def _uscc_reason(v: str) -> str:
    """SQL: ``uscc.reason`` of a compacted 18-character ``v``; ``r2`` is 1 when the region in
    characters 3–8 is known."""
    alphabet = uscc.ALPHABET
    checksum = _weighted(v, 1, tuple(pow(3, i, 31) for i in range(17)), _USCC_VALUE)
    return f"""CASE
        WHEN NOT regexp_full_match({v}, '[{alphabet}]{{18}}') THEN 'charset'
        WHEN NOT {_in(f"substr({v}, 1, 2)", uscc._PREFIXES)} THEN CASE
            WHEN {_in(f"substr({v}, 1, 1)", uscc.AUTHORITIES)} THEN 'category'
            ELSE 'authority' END
        WHEN r2 IS NULL AND substr({v}, 3, 6) <> '{uscc.CENTRAL_REGION}' THEN 'region'
        WHEN {_org_check(v, 9)} <> substr({v}, 17, 1) THEN 'org_checksum'
        WHEN ({checksum} + {_USCC_VALUE.format(c=f"substr({v}, 18, 1)")}) % 31 <> 0
            THEN 'checksum' END"""


def _orgcode_reason(v: str) -> str:
    return f"""CASE
        WHEN NOT regexp_full_match({v}, '[0-9A-Z]{{8}}[0-9X]') THEN 'charset'
        WHEN {_org_check(v, 1)} <> substr({v}, 9, 1) THEN 'checksum' END"""


def _kind(v: str) -> str:
    """SQL: ``codes.detect_kind`` by shape (NULL for none)."""
    digit_prefixes = [p for p in uscc._PREFIXES if p.isdigit()]
    return f"""CASE
        WHEN len = 18 THEN CASE
            WHEN NOT d18 THEN 'uscc'
            WHEN hi // 10000000 BETWEEN 1 AND 8 AND hi % 100 IN (18, 19, 20) THEN 'ric'
            WHEN substr({v}, 18, 1) <> 'X' OR {_in(f"substr({v}, 1, 2)", digit_prefixes)}
                THEN 'uscc'
            ELSE 'ric' END
        WHEN len = 15 AND regexp_full_match({v}, '[0-9]{{15}}') THEN 'ric'
        WHEN len = 9 THEN 'orgcode' END"""


def codes_sql(source: str) -> str:
    """SQL over ``source`` (columns ``n``, ``raw``): ``n, raw, scheme, value, reason`` per row.

    ``reason`` is what ``xinyong.codes.identifiers.reason_of`` says (NULL when valid); ``value``
    the identifier a valid code is found by (a 15-digit citizen number widened to 18). Needs the
    table ``xy_regions(code)``.

    Paid per code, so kept lean for the common case, an 18-digit citizen number as given: one
    regular expression both finds nothing to compact and the shape ``d18``; the region is a
    join on an integer key taken from the number's value; the birth date and the check
    character are integer arithmetic on that value. The region of a USCC (characters 3–8) is
    looked up only for codes that are read as a USCC (``kind``) or failed as a citizen number.
    """
    v = "v"
    widened = "substr(v, 1, 6) || '19' || substr(v, 7, 9)"
    # The widened number's digits 1–8 and 9–17: characters 1–6, "19"; characters 7–15.
    w_hi = "TRY_CAST(substr(v, 1, 6) || '19' AS INTEGER)"
    w_lo = "TRY_CAST(substr(v, 7, 9) AS INTEGER)"
    plain = "regexp_full_match(raw, '[0-9A-Z]*')"
    return f"""
WITH c0 AS (
    SELECT n, raw, regexp_full_match(raw, {_DIGITS18}) AS d18raw FROM ({source})
), c1 AS (
    SELECT n, raw, d18raw, CASE WHEN d18raw THEN TRUE ELSE {plain} END AS plain FROM c0
), c2 AS (
    SELECT n, raw, d18raw, plain, {_compact_sql("raw", "plain")} AS v FROM c1
), c AS (
    SELECT n, raw, v, length(v) AS len,
           CASE WHEN d18raw THEN TRUE WHEN plain THEN FALSE
                ELSE regexp_full_match(v, {_DIGITS18}) END AS d18
    FROM c2
), k0 AS (
    SELECT n, raw, v, len, d18, hi, lo, {_kind(v)} AS kind
    FROM (
        SELECT n, raw, v, len, d18,
               CASE WHEN d18 THEN TRY_CAST(substr(v, 1, 8) AS INTEGER) END AS hi,
               CASE WHEN d18 THEN TRY_CAST(substr(v, 9, 9) AS INTEGER) END AS lo
        FROM c)
), k AS (
    SELECT n, raw, v, len, d18, kind, hi, lo,
           CASE WHEN g1.code IS NULL THEN NULL ELSE 1 END AS r1
    FROM k0
    LEFT JOIN (SELECT TRY_CAST(code AS INTEGER) AS code FROM xy_regions) g1
           ON g1.code = CASE WHEN d18 THEN hi // 100
                             WHEN len = 15 THEN TRY_CAST(substr(v, 1, 6) AS INTEGER) END
), q AS (
    SELECT n, raw, v, len, d18, kind, hi, lo, r1,
           CASE WHEN kind = 'ric' THEN {_ric_reason(v)} END AS ric_reason
    FROM k
), u AS (
    SELECT n, raw, v, len, d18, kind, hi, lo, r1, ric_reason,
           CASE WHEN g2.code IS NULL THEN NULL ELSE 1 END AS r2
    FROM q
    LEFT JOIN xy_regions g2
           ON g2.code = CASE WHEN len = 18 AND (kind = 'uscc' OR ric_reason IS NOT NULL)
                             THEN substr(v, 3, 6) END
), r AS (
    SELECT n, raw, v, len, d18, hi, lo, kind, r1, r2,
           CASE kind
               WHEN 'ric' THEN ric_reason
               WHEN 'uscc' THEN {_uscc_reason(v)}
               WHEN 'orgcode' THEN {_orgcode_reason(v)}
           END AS first_reason
    FROM u
), f AS (
    SELECT n, raw, v, len, kind, first_reason,
           CASE WHEN first_reason IS NOT NULL AND len = 18 THEN CASE kind
               WHEN 'ric' THEN {_uscc_reason(v)}
               ELSE {_ric_reason(v)} END
           END AS other_reason
    FROM r
)
SELECT n, raw,
       CASE WHEN kind IS NULL THEN NULL
            WHEN first_reason IS NULL THEN kind
            WHEN len = 18 AND other_reason IS NULL
                THEN CASE kind WHEN 'ric' THEN 'uscc' ELSE 'ric' END
       END AS scheme,
       CASE WHEN kind IS NULL THEN
                CASE WHEN regexp_full_match(v, '[0-9A-Z]*') THEN 'length' ELSE 'charset' END
            WHEN first_reason IS NULL THEN NULL
            WHEN len = 18 AND other_reason IS NULL THEN NULL
            ELSE first_reason
       END AS reason,
       CASE WHEN len = 15 THEN {widened} || {_ric_check(w_hi, w_lo)} ELSE v END AS value
FROM f
"""


def _source(path: Path, column: str | None, con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UnusableInput(f"文件不存在 / no such file: {path}")
    literal = str(path).replace("'", "''")
    if suffix in (".parquet", ".pq"):
        reader = f"read_parquet('{literal}')"
    elif suffix in (".csv", ".txt", ".tsv"):
        reader = f"read_csv('{literal}', all_varchar = true, header = true)"
    else:
        raise UnusableInput(f"只支持 CSV 或 Parquet / CSV or Parquet only: {path.name}")
    try:
        names = [d[0] for d in con.execute(f"SELECT * FROM {reader} LIMIT 0").description]
    except duckdb.Error as error:
        raise UnusableInput(f"无法读取 / cannot read {path.name}: {first_line(error)}") from error
    if column is None:
        column = next((c for c in DEFAULT_COLUMNS if c in names), names[0] if names else None)
    if column is None or column not in names:
        raise UnusableInput(
            f"没有列 / no column {column!r} in {path.name} (columns: {', '.join(names)})"
        )
    return reader, column


def screen(
    engine: Engine,
    path: str | Path,
    action: str,
    out: str | Path,
    *,
    at: date | None = None,
    known_at: date | datetime | None = None,
    column: str | None = None,
    catalog: Catalog,
    progress: Progress | None = None,
    threads: int | None = None,
    memory_limit: str = MEMORY_LIMIT,
    audit: Mapping[str, object] | None = None,
) -> ScreenResult:
    """Check every code in a column of ``path`` (CSV or Parquet) and write ``out``.

    The file is read in batches of :data:`BATCH_ROWS` codes, so memory stays bounded for any
    file size (DuckDB works within ``memory_limit``). ``audit``: one event per subject matched
    (the module's doc), committed before ``out`` is written; if they cannot be written, ``out``
    is not (``UnusableInput`` for a database error).
    """
    started = time.perf_counter()
    require_action(catalog, action)
    path, out = Path(path), Path(out)
    day = at or date.today()
    index = restriction_table(engine, action, day, known_at_from(known_at), catalog)
    written = out.parent / f".{out.name}.partial"
    con, files = duckdb.connect(), duckdb.connect()
    combiner = duckdb.connect(config={"threads": 1})
    try:
        for each in (con, files):
            if threads:
                each.execute(f"SET threads = {int(threads)}")
            each.execute(f"SET memory_limit = '{memory_limit}'")
        spill = str(out.parent / f".{out.name}.tmp").replace("'", "''")
        con.execute(f"SET temp_directory = '{spill}'")
        reader, col = _source(path, column, files)
        combiner.execute(f"SET memory_limit = '{memory_limit}'")
        decided = Decided(index, combiner)
        quoted = '"' + col.replace('"', '""') + '"'
        codes = f"SELECT CAST({quoted} AS VARCHAR) AS raw FROM {reader}"
        total = files.sql(f"SELECT count(*) FROM {reader}").fetchall()[0][0] if progress else 0
        batches = files.sql(codes).to_arrow_reader(BATCH_ROWS)
        if out.suffix.lower() in (".parquet", ".pq"):
            con.register("xy_rows", decided.rows(batches))
            target = str(written).replace("'", "''")
            query = "SELECT code, outcome, until, measures FROM xy_rows"
            sql = f"COPY ({query}) TO '{target}' (FORMAT PARQUET)"
            _run(lambda: con.execute(sql), progress, decided, total)
        else:
            try:
                _run(lambda: decided.write_csv(batches, written), progress, decided, total)
            except OSError as error:  # reading the file (DuckDB's stream) or writing ``out``
                raise UnusableInput(
                    f"无法筛查 / cannot screen {path.name}: {first_line(error)}"
                ) from error
        if audit is not None:
            matched = decided.matched(files.sql(codes).to_arrow_reader(BATCH_ROWS))
            record_reads(engine, matched, action, day, path.name, audit)
        written.replace(out)
    except duckdb.Error as error:
        raise UnusableInput(f"无法筛查 / cannot screen {path.name}: {first_line(error)}") from error
    finally:
        con.close()
        files.close()
        combiner.close()
        written.unlink(missing_ok=True)
    counts = {k: v for k, v in decided.counts.items() if v}
    return ScreenResult(
        rows=sum(counts.values()),
        invalid=counts.get("invalid", 0),
        outcomes=counts,
        out=str(out),
        seconds=round(time.perf_counter() - started, 3),
    )


#: What makes DuckDB's CSV writer quote a cell, besides the empty text (which would read back
#: as NULL): a line feed, a carriage return, a double quote, a comma, a ``#``.
_CSV_QUOTED = b'\n\r",#'


def csv_cells(cells: pa.Array) -> pa.Array:
    """Each text cell as DuckDB's ``COPY … (FORMAT CSV)`` writes it: in double quotes (its own
    doubled) when it holds one of :data:`_CSV_QUOTED` or is empty, NULL as nothing, else as it
    is. The cells' bytes are looked through in numpy; only a batch holding one of those bytes
    is matched cell by cell."""
    if not len(cells):
        return cells
    if cells.type != pa.string():
        cells = cells.cast(pa.string())
    offsets, data = text_buffers(cells)
    data = data[offsets[0] : offsets[-1]]
    if any((data == byte).any() for byte in _CSV_QUOTED):
        special = pc.match_substring_regex(cells, '[\\n\\r",#]')
        quote = pc.or_(special, pc.equal(pc.binary_length(cells), 0))
        doubled = pc.replace_substring(cells, '"', '""')
        quoted = pc.binary_join_element_wise('"', doubled, '"', "")
        return pc.if_else(quote, quoted, cells).fill_null("")
    if (offsets[1:] == offsets[:-1]).any():
        empty = pc.equal(pc.binary_length(cells), 0)
        return pc.if_else(empty, pa.scalar('""'), cells).fill_null("")
    return cells.fill_null("")


#: The first line of a screen's CSV.
CSV_HEADER = b"code,outcome,until,measures\n"


def csv_tails(outcome: pa.Array, until: pa.Array, measures: pa.Array) -> pa.Array:
    """What follows the code on each line of a screen's CSV: ``,outcome,until,measures`` and a
    line feed, each text cell by :func:`csv_cells`, a date as ``YYYY-MM-DD``, NULL as nothing."""
    cells = pc.binary_join_element_wise(
        "", csv_cells(outcome), pc.cast(until, pa.string()).fill_null(""), csv_cells(measures), ","
    )
    return pc.binary_join_element_wise(cells, "\n", "")


def csv_lines(code: pa.Array, tails: pa.Array) -> pa.Array:
    """Each line of a screen's CSV: the code neutralised (``xinyong.spreadsheet``) and written
    as a cell (:func:`csv_cells`), then its tail (:func:`csv_tails`). After
    :data:`CSV_HEADER`, the lines are what DuckDB's ``COPY (SELECT <neutralise_sql(code)> AS
    code, outcome, until, measures …) TO … (FORMAT CSV, HEADER)`` writes, byte for byte (a
    test holds them so). Not ``pyarrow.csv``'s writer: it quotes every text cell
    (``quoting_style="needed"``) or refuses a comma or a quote in one (``"none"``); this file
    is read by people, so it keeps the quoting it has always had."""
    return pc.binary_join_element_wise(csv_cells(neutralise_arrow(code)), tails, "")


class _Numbers:
    """The rows of a table found by a 64-bit key, for a whole batch of keys at once: a hash
    table in numpy arrays (buckets by multiplicative hashing, about four per key; each bucket's
    keys side by side, in the order of a sort), probed one bucket place at a time."""

    def __init__(self, keys: npt.NDArray[np.int64], rows: npt.NDArray[np.intp]) -> None:
        bits = max(4, (4 * len(keys)).bit_length())
        self.shift = np.uint64(64 - bits)
        bucket = self._bucket(keys)
        order = np.argsort(bucket, kind="stable")
        self.keys, self.rows = keys[order], rows[order]
        self.start = np.searchsorted(bucket[order], np.arange((1 << bits) + 1))

    def _bucket(self, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
        mixed = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return np.asarray(mixed >> self.shift, dtype=np.intp)

    def find(self, keys: npt.NDArray[np.int64], missing: int) -> npt.NDArray[np.intp]:
        """The row of each key (the keys in the table are distinct), ``missing`` for none."""
        out = np.full(len(keys), missing, dtype=np.intp)
        bucket = self._bucket(keys)
        at, end = self.start[bucket], self.start[bucket + 1]
        todo = np.flatnonzero(at < end)
        while len(todo):
            place = at[todo]
            hit = self.keys[place] == keys[todo]
            out[todo[hit]] = self.rows[place[hit]]
            at[todo] += 1
            todo = todo[~hit & (at[todo] < end[todo])]
        return out


#: Codes checked at a time: each batch read from the file is checked, decided and written
#: before the next but one is read. A batch's arrays then stay in the processor's caches: 10 M
#: codes, median ratio to the bare join 1.42–1.43× at 2^17, 1.47–1.54× at 2^18, 1.64× at 2^16,
#: 1.80× at 2^20 (bench/screen.py, docs/performance.md).
BATCH_ROWS = 1 << 17
_OUTCOMES = ("deny", "review", "prefer", "permit", "invalid")


class Decided:
    """The restriction index (:func:`restriction_table`) and the decisions of batches of codes
    against it, as :data:`_QUERY` makes them in SQL: a valid code's own row, else the row of the
    organisation code inside a valid USCC, else ``permit``; an invalid code is ``invalid`` with
    its reason as ``measures``. Counts the outcomes and the rows as it goes.

    The codes are looked up among the index's distinct codes first; the index rows of a code
    are combined (:data:`COMBINE_SQL`, on ``con``) only once a batch matches it, so a screen of
    fewer codes than the index holds never combines the codes it does not match. Once as many
    codes have been read as the index holds, the rest of it is combined at once: that costs no
    more than the codes read, and spares a query per batch (10 M codes against 100,000: 0.22
    CPU s against 0.55). ``combine_seconds``: the CPU seconds spent combining."""

    def __init__(self, index: pa.Table, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.index = index.combine_chunks()
        self.code = pc.unique(self.index["code"].combine_chunks())
        size = len(self.code)
        self.size = size
        # The index rows of each code: ``by_code[at[k]:at[k + 1]]`` are code ``k``'s.
        key = pc.index_in(self.index["code"], value_set=self.code).to_numpy()
        self.by_code = np.argsort(key, kind="stable")
        self.key = key
        self.at = np.searchsorted(key[self.by_code], np.arange(size + 1))
        # Each decision has a key (:meth:`keys`): a code of the index its own row, ``size`` no
        # code's (``permit``), ``size + 1 + reason`` an invalid code's (``bulk.CODE_REASONS``;
        # the first, VALID, unused). Per key: its place in ``_OUTCOMES`` (-1: not combined);
        reasons = ["" if r is None else r for r in bulk.CODE_REASONS]
        keys = size + 1 + len(reasons)
        self.outcome_of = np.full(keys, _OUTCOMES.index("invalid"), dtype=np.intp)
        self.outcome_of[: size + 1] = -1
        self.outcome_of[size] = _OUTCOMES.index("permit")
        self.outcomes = pa.array(_OUTCOMES, pa.string())
        # its ``until`` in days (``until_set``: not NULL);
        self.until_days = np.zeros(keys, dtype=np.int32)
        self.until_set = np.zeros(keys, dtype=np.bool_)
        # its place among ``measure_texts``, which start with the reasons (the first is "");
        self.measure_place = {text: n for n, text in enumerate(reasons)}
        self.measure_texts = pa.array(reasons, pa.string())
        self.measure_of = np.append(np.zeros(size + 1, dtype=np.intp), np.arange(len(reasons)))
        # and the place of its CSV line's tail (:func:`csv_tails`) among ``tails`` (-1: none
        # made yet), which the writing thread alone makes and reads.
        self.tail_at = np.full(keys, -1, dtype=np.intp)
        self.tails = pa.array([], pa.string())
        self.combine_seconds = 0.0
        self.all_combined = False
        self.counts = dict.fromkeys(_OUTCOMES, 0)
        self.done = 0
        # The codes of 17 digits and a digit or X (citizen numbers, mostly) are found by their
        # number (``bulk.Verdicts.number``), the rest by their text.
        own = bulk.verdicts(self.code)
        plain = pc.equal(own.value, self.code).fill_null(False).to_numpy(zero_copy_only=False)
        numbered = (own.number >= 0) & plain
        self.numbers = _Numbers(own.number[numbered], np.flatnonzero(numbered))
        self.text_rows = np.append(np.flatnonzero(~numbered), size)
        self.texts = self.code.filter(pa.array(~numbered))

    def _combine(self, rows: npt.NDArray[np.intp]) -> None:
        """Combine the index rows of the codes at ``rows`` (``size`` for none) not yet
        combined: :data:`COMBINE_SQL` over their index rows only, each code as its number."""
        if self.all_combined:
            return
        if self.done + len(rows) >= self.size:
            keys = np.flatnonzero(self.outcome_of[: self.size] < 0)
            self.all_combined = True
        else:
            found = rows[rows < self.size]
            keys = np.unique(found[self.outcome_of[found] < 0])
        if not len(keys):
            return
        started = time.thread_time()
        start, end = self.at[keys], self.at[keys + 1]
        lengths = end - start
        places = np.repeat(start - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        taken = self.by_code[places]
        part = self.index.take(pa.array(taken)).set_column(0, "code", pa.array(self.key[taken]))
        self.con.register("xy_index", part)
        combined = self.con.sql(COMBINE_SQL).to_arrow_table()
        self.con.unregister("xy_index")
        code = combined["code"].to_numpy()
        outcome = pc.index_in(combined["outcome"], value_set=self.outcomes)
        self.outcome_of[code] = outcome.to_numpy()
        until = combined["until"].combine_chunks().cast(pa.date32())
        self.until_set[code] = until.is_valid().to_numpy(zero_copy_only=False)
        self.until_days[code] = until.cast(pa.int32()).fill_null(0).to_numpy()
        texts = combined["measures"].combine_chunks().cast(pa.string()).fill_null("")
        added = [t for t in pc.unique(texts).to_pylist() if t not in self.measure_place]
        if added:
            for text in added:
                self.measure_place[text] = len(self.measure_place)
            self.measure_texts = pa.array(list(self.measure_place), pa.string())
        place = pc.index_in(texts, value_set=self.measure_texts).to_numpy()
        self.measure_of[code] = place
        self.combine_seconds += time.thread_time() - started

    def _lookup(self, values: pa.Array) -> npt.NDArray[np.intp]:
        """The row of each of ``values`` (not numbered) in the table, ``size`` for none."""
        found = pc.index_in(values, value_set=self.texts).fill_null(len(self.texts))
        return np.asarray(self.text_rows[found.to_numpy()], dtype=np.intp)

    def _rows_of(self, verdicts: bulk.Verdicts) -> npt.NDArray[np.intp]:
        """The row of each valid code in the table; ``size`` for none and for invalid codes."""
        row = np.full(len(verdicts.reason), self.size, dtype=np.intp)
        numbered = verdicts.number >= 0  # valid codes only
        row[numbered] = self.numbers.find(verdicts.number[numbered], self.size)
        texts = (verdicts.reason == bulk.VALID) & ~numbered
        if texts.any():
            row[texts] = self._lookup(verdicts.value.filter(pa.array(texts)))
        return row

    def _candidates(self, verdicts: bulk.Verdicts) -> tuple[npt.NDArray[np.bool_], pa.Array]:
        """Which codes are valid USCCs, and the organisation code inside each."""
        firm = (verdicts.reason == bulk.VALID) & (verdicts.kind == bulk.USCC)
        inner = pc.utf8_slice_codeunits(verdicts.value.filter(pa.array(firm)), 8, 17)
        return firm, inner

    def keys(self, raw: pa.Array) -> npt.NDArray[np.intp]:
        """The key of each decision of one batch of codes as given (``__init__``), the codes
        it matches combined and its outcomes counted."""
        verdicts = bulk.verdicts(raw)
        row = self._rows_of(verdicts)
        firm, inner = self._candidates(verdicts)
        if firm.any():
            theirs = row[firm]
            inside = self._lookup(inner)
            row[firm] = np.where(theirs < self.size, theirs, inside)
        self._combine(row)
        invalid = verdicts.reason != bulk.VALID
        key = np.where(invalid, self.size + 1 + verdicts.reason.astype(np.intp), row)
        for k, n in enumerate(np.bincount(self.outcome_of[key], minlength=len(_OUTCOMES))):
            self.counts[_OUTCOMES[k]] += int(n)
        self.done += len(raw)
        return key

    def decide(self, raw: pa.Array) -> pa.RecordBatch:
        """``code, outcome, until, measures`` for one batch of codes as given."""
        return self._columns(raw, self.keys(raw))

    def _columns(self, raw: pa.Array, key: npt.NDArray[np.intp]) -> pa.RecordBatch:
        outcome, until, measures = self._decisions(key)
        return pa.record_batch(
            {"code": raw, "outcome": outcome, "until": until, "measures": measures}
        )

    def _decisions(self, key: npt.NDArray[np.intp]) -> tuple[pa.Array, pa.Array, pa.Array]:
        """The ``outcome``, ``until`` and ``measures`` of the decisions ``key``."""
        return (
            self.outcomes.take(pa.array(self.outcome_of[key])),
            pa.array(self.until_days[key], pa.date32(), mask=~self.until_set[key]),
            self.measure_texts.take(pa.array(self.measure_of[key])),
        )

    def rows(self, codes: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """:meth:`decide` over every batch of ``codes`` (one column, ``raw``), lazily, each
        batch decided one ahead in a second thread."""
        schema = pa.schema(
            [("code", pa.string()), ("outcome", pa.string()), ("until", pa.date32()),
             ("measures", pa.string())]
        )  # fmt: skip
        return pa.RecordBatchReader.from_batches(schema, self._ahead(codes, self.decide))

    def write_csv(self, codes: pa.RecordBatchReader, path: Path) -> None:
        """The decisions of every batch of ``codes`` as CSV at ``path``: :data:`CSV_HEADER`,
        then each code's line, in input order. Each batch's keys are found one ahead in a
        second thread; this one makes the lines, each code's cell joined to the tail of its
        decision (made once per decision, :func:`csv_tails`), and writes them as one buffer
        (both let go of the GIL)."""
        with path.open("wb") as out:
            out.write(CSV_HEADER)
            for raw, key in self._ahead(codes, lambda raw: (raw, self.keys(raw))):
                if not len(raw):
                    continue
                at = self.tail_at[key]
                fresh = at < 0
                if fresh.any():
                    self._add_tails(np.unique(key[fresh]))
                    at = self.tail_at[key]
                lines = csv_lines(raw, self.tails.take(pa.array(at)))
                ends, text = text_buffers(lines)
                out.write(text[ends[0] : ends[-1]].data)

    def _add_tails(self, keys: npt.NDArray[np.intp]) -> None:
        """Make the CSV tails of the decisions ``keys`` (combined already)."""
        made = csv_tails(*self._decisions(keys))
        self.tail_at[keys] = len(self.tails) + np.arange(len(keys))
        self.tails = pa.concat_arrays([self.tails, made])

    def _ahead(self, codes: pa.RecordBatchReader, work: Callable[[pa.Array], _T]) -> Iterator[_T]:
        """``work`` over the batches of ``codes``, one batch ahead in a second thread: numpy
        and Arrow let go of the GIL, so the next batch is decided while this one is written."""
        with ThreadPoolExecutor(1, thread_name_prefix="xinyong-screen") as pool:
            pending: Future[_T] | None = None
            for batch in codes:
                following = pool.submit(work, batch.column(0))
                if pending is not None:
                    yield pending.result()
                pending = following
            if pending is not None:
                yield pending.result()

    def matched(self, codes: pa.RecordBatchReader) -> list[tuple[str, str]]:
        """What :func:`matched_sql` gives for ``codes``: each valid code and each organisation
        code inside a valid USCC, once, with its own outcome (``permit`` when none holds)."""
        found: list[pa.Array] = []
        for batch in codes:
            verdicts = bulk.verdicts(batch.column(0))
            found.append(verdicts.value.filter(pa.array(verdicts.reason == bulk.VALID)))
            found.append(self._candidates(verdicts)[1])
        if not found:
            return []
        unique = pc.unique(pa.chunked_array(found, pa.string()))
        row = pc.index_in(unique, value_set=self.code).fill_null(self.size).to_numpy()
        self._combine(row)
        outcomes = self.outcomes.take(pa.array(self.outcome_of[row]))
        return list(zip(unique.to_pylist(), outcomes.to_pylist(), strict=True))


#: The valid codes of a screened column, each with its outcome (``permit`` when no measure
#: holds): the code itself and, for a USCC, the organisation code inside it (``_QUERY``'s two
#: joins).
MATCHED_SQL = """
WITH checked AS ({codes}), candidates AS (
    SELECT value AS code FROM checked WHERE reason IS NULL
    UNION SELECT substr(value, 9, 9) FROM checked WHERE reason IS NULL AND scheme = 'uscc'
)
SELECT c.code AS code, coalesce(d.outcome, 'permit') AS outcome FROM candidates c
LEFT JOIN xy_decided d ON d.code = c.code
"""


def matched_sql(source: str) -> str:
    """SQL: :data:`MATCHED_SQL` over ``source`` (``n, raw``); needs ``xy_regions`` and
    ``xy_decided``, as :func:`decisions_sql` does (the batch layer runs it on Spark too)."""
    return MATCHED_SQL.format(codes=codes_sql(source))


def record_reads(
    engine: Engine,
    matched: Sequence[tuple[str, str]],
    action: str,
    day: date,
    file_name: str,
    audit: Mapping[str, object],
) -> None:
    """Audit a screen: one event per subject among ``matched`` (code, outcome: the rows of
    :func:`matched_sql`), under its primary code, in one transaction; ``audit`` gives ``actor``,
    ``role`` and ``purpose``. ``UnusableInput`` when the events cannot be written."""
    with database_errors(), engine.begin() as conn:
        _audit(conn, matched, action, day, file_name, audit)


def _audit(
    conn: Connection,
    matched: Sequence[tuple[str, str]],
    action: str,
    day: date,
    file_name: str,
    audit: Mapping[str, object],
) -> None:
    outcome_of = dict(matched)
    found: dict[int, tuple[str, str]] = {}
    codes = sorted(outcome_of)
    ident = subject_identifiers.c
    for start in range(0, len(codes), 5000):
        chunk = codes[start : start + 5000]
        query = (
            select(ident.value, subjects.c.id, subjects.c.primary_code)
            .join(subjects, subjects.c.id == ident.subject_id)
            .where(ident.value.in_(chunk))
        )
        for value, sid, primary in conn.execute(query):
            outcome = outcome_of[value]
            if sid in found and PRECEDENCE.index(found[sid][1]) <= PRECEDENCE.index(outcome):
                continue
            found[sid] = (primary or str(sid), outcome)
    record_many(
        conn,
        [
            {
                **audit,
                "subject": code,
                "action": f"screen:{action}",
                "resource": f"subject:{sid}",
                "outcome": outcome,
                "detail": {"at": day.isoformat(), "file": file_name},
            }
            for sid, (code, outcome) in sorted(found.items())
        ],
    )


def _run(
    write: Callable[[], object],
    progress: Progress | None,
    decided: Decided,
    total: int,
) -> None:
    """Run ``write``; with ``progress``, report every 0.2 s the share of the ``total`` codes
    ``decided`` has decided."""
    if progress is None:
        write()
        return
    failure: list[BaseException] = []

    def work() -> None:
        try:
            write()
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.2)
        if total:
            progress(min(100.0 * decided.done / total, 100.0))
    if failure:
        raise failure[0]
    progress(100.0)


#: Per code: the strongest effect, the latest end among its reasons (NULL if any is open; none
#: for ``permit``, a single lifting's), and the measures behind it — the same rule as
#: ``decisions.combine``.
COMBINE_SQL = """
WITH ranked AS (
    SELECT code, effect, until, measure,
           CASE effect WHEN 'deny' THEN 1 WHEN 'review' THEN 2 WHEN 'prefer' THEN 3 ELSE 4 END
               AS rank
    FROM xy_index
), best AS (
    SELECT code, min(rank) AS rank FROM ranked GROUP BY code
)
SELECT r.code AS code,
       any_value(r.effect) AS outcome,
       CASE WHEN bool_or(r.until IS NULL) OR min(r.rank) = 4 THEN NULL ELSE max(r.until) END
           AS until,
       string_agg(DISTINCT r.measure, ';' ORDER BY r.measure) AS measures
FROM ranked r JOIN best b ON r.code = b.code AND r.rank = b.rank
GROUP BY r.code
"""

_QUERY = """
WITH checked AS ({codes})
SELECT c.n AS n, c.raw AS code,
       CASE WHEN c.reason IS NOT NULL THEN 'invalid'
            WHEN d.code IS NOT NULL THEN d.outcome
            ELSE coalesce(o.outcome, 'permit') END AS outcome,
       CASE WHEN d.code IS NOT NULL THEN d.until ELSE o.until END AS until,
       coalesce(c.reason, CASE WHEN d.code IS NOT NULL THEN d.measures ELSE o.measures END, '')
           AS measures
FROM checked c
LEFT JOIN xy_decided d ON c.reason IS NULL AND d.code = c.value
-- the organisation code inside a valid USCC; NULL (joins nothing, costs no probe) otherwise
LEFT JOIN xy_decided o
       ON o.code = CASE WHEN c.reason IS NULL AND c.scheme = 'uscc' THEN substr(c.value, 9, 9) END
"""


def decisions_sql(source: str) -> str:
    """SQL: ``n, code, outcome, until, measures`` for each row of ``source`` (columns ``n``,
    ``raw``), unordered. Needs ``xy_regions(code)`` and ``xy_decided`` (:data:`COMBINE_SQL` over
    ``xy_index(code, effect, until, measure)``). Written once, in DuckDB's dialect; the batch
    layer (:mod:`xinyong.batch`) runs the same text on Spark."""
    return _QUERY.format(codes=codes_sql(source))
