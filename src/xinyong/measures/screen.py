"""Bulk checks: a column of codes (today's ticket buyers) against the restriction index.

``screen(engine, path, action, out, …)`` writes one row per input row, in input order:
``code`` (as given), ``outcome`` (``permit``/``deny``/``review``/``prefer``, or ``invalid``),
``until``, ``measures`` (the measures behind the outcome, ``;``-separated; for an invalid code,
the reason: ``length``, ``charset``, ``checksum``, ``region``, ``birth_date``, …). An invalid
code is never silently permitted or denied.

How it scales: the index rows for the action that hold on ``at`` (as known on ``known_at``) are
read out of the store once, combined per code by the same rule as a single check (deny > review >
prefer; latest ``until``), and handed to DuckDB as an Arrow table; DuckDB streams the file, checks
the codes and joins. No DuckDB extension is loaded (no network at run time).

Checking codes: an 18-character citizen number in canonical form is checked in SQL (format,
region, birth date, check digit — the same checks as ``xinyong.codes.ric``, tested to agree);
anything else (USCC, organisation codes, 15-digit numbers, separators, lower case, junk) goes to
``xinyong.link.identifiers.reason_of`` through a Python function, so each code gets exactly the
verdict ``xinyong code check`` gives it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, or_, select

from xinyong.catalog import default_catalog
from xinyong.catalog.model import Catalog
from xinyong.codes import regions, ric
from xinyong.errors import UnusableInput
from xinyong.link.identifiers import reason_of
from xinyong.measures.decisions import known_at_from, require_action
from xinyong.measures.tables import restrictions
from xinyong.store.engine import database_errors
from xinyong.store.tables import subject_identifiers

Progress = Callable[[float], None]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
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


def restriction_table(engine: Engine, action: str, at: date, known_at: datetime | None) -> pa.Table:
    """The index rows for ``action`` holding on ``at``, per code: ``code, effect, until, measure``.

    Every identifier of a restricted subject (USCC, organisation code, citizen number) is a code.
    """
    r = restrictions.c
    query = (
        select(subject_identifiers.c.value, r.effect, r.valid_to, r.measure_id)
        .join(subject_identifiers, subject_identifiers.c.subject_id == r.subject_id)
        .where(
            r.action == action,
            or_(r.valid_from.is_(None), r.valid_from <= at),
            or_(r.valid_to.is_(None), r.valid_to >= at),
        )
    )
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
    with database_errors(), engine.connect() as conn:
        for row in conn.execute(query).yield_per(50_000):
            codes.append(row[0])
            effects.append(row[1])
            untils.append(row[2])
            measures.append(row[3])
    return pa.table(
        {
            "code": pa.array(codes, pa.string()),
            "effect": pa.array(effects, pa.string()),
            "until": pa.array(untils, pa.date32()),
            "measure": pa.array(measures, pa.string()),
        }
    )


def _slow_check(code: str | None) -> str:
    """``scheme|value`` for a valid code, ``!|reason`` otherwise (the exact, Python path)."""
    scheme, value, problem = reason_of(code or "")
    if problem is not None or scheme is None:
        return f"!|{problem or 'invalid'}"
    if scheme == "ric" and len(value) == 15:
        value = ric.to_18(value)
    return f"{scheme}|{value}"


def _ric_sql(col: str) -> str:
    """SQL: TRUE when ``col`` is a canonical, valid 18-digit citizen number (region aside)."""
    total = " + ".join(
        f"{w} * (ascii(substr({col}, {i + 1}, 1)) - 48)" for i, w in enumerate(_WEIGHTS)
    )
    return (
        f"(regexp_full_match({col}, '[0-9]{{17}}[0-9X]') "
        f"AND try_strptime(substr({col}, 7, 8), '%Y%m%d')::DATE "
        f"BETWEEN DATE '{ric.EARLIEST_BIRTH.isoformat()}' AND current_date "
        f"AND substr('{_CHECK}', (({total}) % 11) + 1, 1) = substr({col}, 18, 1))"
    )


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
        raise UnusableInput(f"无法读取 / cannot read {path.name}: {_first(error)}") from error
    if column is None:
        column = next((c for c in DEFAULT_COLUMNS if c in names), names[0] if names else None)
    if column is None or column not in names:
        raise UnusableInput(
            f"没有列 / no column {column!r} in {path.name} (columns: {', '.join(names)})"
        )
    return reader, column


def _first(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def screen(
    engine: Engine,
    path: str | Path,
    action: str,
    out: str | Path,
    *,
    at: date | None = None,
    known_at: date | datetime | None = None,
    column: str | None = None,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
) -> ScreenResult:
    """Check every code in a column of ``path`` (CSV or Parquet) and write ``out``."""
    started = time.perf_counter()
    catalog = catalog or default_catalog()
    require_action(catalog, action)
    path, out = Path(path), Path(out)
    day = at or date.today()
    index = restriction_table(engine, action, day, known_at_from(known_at))
    con = duckdb.connect()
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        reader, col = _source(path, column, con)
        con.create_function("xy_check", _slow_check, ["VARCHAR"], "VARCHAR", side_effects=False)
        con.register("xy_index", index)
        con.register("xy_regions", pa.table({"code": sorted(regions.valid_codes())}))
        con.execute(_COMBINE)
        quoted = '"' + col.replace('"', '""') + '"'
        query = _QUERY.format(reader=reader, col=quoted, ric=_ric_sql("raw"))
        fmt = "PARQUET" if out.suffix.lower() in (".parquet", ".pq") else "CSV, HEADER"
        target = str(out).replace("'", "''")
        _run(con, f"COPY ({query}) TO '{target}' (FORMAT {fmt})", progress)
        counts = dict(
            con.execute(
                f"SELECT outcome, count(*) FROM read_{'parquet' if 'PARQUET' in fmt else 'csv'}"
                f"('{target}') GROUP BY outcome"
            ).fetchall()
        )
    except duckdb.Error as error:
        raise UnusableInput(f"无法筛查 / cannot screen {path.name}: {_first(error)}") from error
    finally:
        con.close()
    total = sum(counts.values())
    return ScreenResult(
        rows=total,
        invalid=counts.get("invalid", 0),
        outcomes={str(k): int(v) for k, v in counts.items()},
        out=str(out),
        seconds=round(time.perf_counter() - started, 3),
    )


def _run(con: duckdb.DuckDBPyConnection, sql: str, progress: Progress | None) -> None:
    if progress is None:
        con.execute(sql)
        return
    failure: list[BaseException] = []

    def work() -> None:
        try:
            con.execute(sql)
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.2)
        try:
            done = con.query_progress()
        except duckdb.Error:
            done = -1
        if done >= 0:
            progress(min(done, 100.0))
    if failure:
        raise failure[0]
    progress(100.0)


#: Per code: the strongest effect, the latest end among its reasons (NULL if any is open), and
#: the measures behind it — the same rule as ``decisions.combine``.
_COMBINE = """
CREATE TEMP TABLE xy_decided AS
WITH ranked AS (
    SELECT code, effect, until, measure,
           CASE effect WHEN 'deny' THEN 1 WHEN 'review' THEN 2 ELSE 3 END AS rank
    FROM xy_index
), best AS (
    SELECT code, min(rank) AS rank FROM ranked GROUP BY code
)
SELECT r.code AS code,
       any_value(r.effect) AS outcome,
       CASE WHEN bool_or(r.until IS NULL) THEN NULL ELSE max(r.until) END AS until,
       string_agg(DISTINCT r.measure, ';' ORDER BY r.measure) AS measures
FROM ranked r JOIN best b ON r.code = b.code AND r.rank = b.rank
GROUP BY r.code
"""

_QUERY = """
WITH input AS (
    SELECT row_number() OVER () AS n, CAST({col} AS VARCHAR) AS raw FROM {reader}
), fast AS (
    SELECT i.n, i.raw, CASE WHEN {ric} AND g.code IS NOT NULL THEN i.raw END AS value
    FROM input i LEFT JOIN xy_regions g ON g.code = substr(i.raw, 1, 6)
), checked AS (
    SELECT n, raw, 'ric' AS scheme, value, NULL AS reason FROM fast WHERE value IS NOT NULL
    UNION ALL
    SELECT n, raw,
           split_part(v, '|', 1) AS scheme,
           CASE WHEN v[1] <> '!' THEN split_part(v, '|', 2) END AS value,
           CASE WHEN v[1] = '!' THEN split_part(v, '|', 2) END AS reason
    FROM (SELECT n, raw, xy_check(coalesce(raw, '')) AS v FROM fast WHERE value IS NULL)
)
SELECT c.raw AS code,
       CASE WHEN c.reason IS NOT NULL THEN 'invalid'
            ELSE coalesce(d.outcome, o.outcome, 'permit') END AS outcome,
       coalesce(d.until, o.until) AS until,
       coalesce(c.reason, d.measures, o.measures, '') AS measures
FROM checked c
LEFT JOIN xy_decided d ON d.code = c.value
LEFT JOIN xy_decided o ON c.scheme = 'uscc' AND d.code IS NULL AND o.code = substr(c.value, 9, 9)
ORDER BY c.n
"""
