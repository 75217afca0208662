"""Bench: ``xinyong.measures.screen`` of N codes against a bare DuckDB join, same run, repeated.

    python bench/screen.py --rows 2000000 --repeat 3 [--profile]

A synthetic SQLite store (``bench/decisions.py``'s ``build``: ``--subjects`` individuals,
``--restrictions`` index rows for ``buy_flight_ticket``) and a Parquet file of ``--rows`` codes
(0.1% with a changed last character). Each repeat runs, in turn:

- ours: ``screen(engine, codes.parquet, action, out.csv)`` — reads the index out of the store,
  checks every code, decides (combining the index rows of the codes it matches), writes CSV in
  input order, counts the outcomes;
- bare: the same index read out of the store, then a DuckDB ``LEFT JOIN`` of the raw codes
  against it written to CSV (no code checks, no order, no formula neutralising).

Prints each pair, the medians and their ratio (goal <= 1.5), in wall-clock seconds and in CPU
seconds of this process (DuckDB's threads included): on a machine shared with other work the
wall clock moves with the neighbours' load, the CPU seconds much less. ``--profile`` also
prints the CPU seconds of each part of a screen (the index read, the codes read in Arrow
batches, the numpy checks, the decisions, the matched codes' index rows combined, the codes
decided again and written by ``Decided.write_csv``; DuckDB's ``COPY`` of the same rows, every
code of the index combined and the SQL checks the batch layer runs, for comparison), and the
floor any screen pays: the bare join, then with one regular expression per code (the cheapest
check that refuses a malformed code), then in input order.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from decisions import ACTION, build
from xinyong.catalog import default_catalog
from xinyong.codes import regions
from xinyong.codes.bulk import verdicts
from xinyong.measures.screen import (
    BATCH_ROWS,
    COMBINE_SQL,
    Decided,
    codes_sql,
    restriction_table,
    screen,
)
from xinyong.spreadsheet import neutralise_sql
from xinyong.store.engine import connect


def cpu() -> float:
    """CPU seconds this process has used (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def codes_file(path: Path, codes: list[str], rows: int, rng: random.Random) -> None:
    writer = None
    step = 1_000_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        part = [rng.choice(codes) for _ in range(n)]
        for i in range(0, n, 1000):  # 0.1% invalid: a changed last character
            part[i] = part[i][:-1] + ("0" if part[i][-1] != "0" else "1")
        table = pa.table({"code": part})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def ours(url: str, path: Path, out: Path) -> tuple[float, float, dict[str, int]]:
    engine = connect(url)
    t0, c0 = time.perf_counter(), cpu()
    result = screen(engine, path, ACTION, out, catalog=default_catalog())
    elapsed, used = time.perf_counter() - t0, cpu() - c0
    engine.dispose()
    return elapsed, used, result.outcomes


def bare(url: str, path: Path, out: Path) -> tuple[float, float]:
    engine = connect(url)
    t0, c0 = time.perf_counter(), cpu()
    index = restriction_table(engine, ACTION, date.today(), None, default_catalog())
    con = duckdb.connect()
    con.register("idx", index)
    con.execute(
        f"COPY (SELECT b.code, coalesce(i.effect, 'permit') AS outcome, i.until, i.measure "
        f"FROM read_parquet('{path}') b LEFT JOIN idx i ON i.code = b.code) "
        f"TO '{out}' (FORMAT CSV, HEADER)"
    )
    con.close()
    elapsed, used = time.perf_counter() - t0, cpu() - c0
    engine.dispose()
    return elapsed, used


def profile(url: str, path: Path, tmp: Path) -> None:
    engine = connect(url)
    c0 = cpu()
    index = restriction_table(engine, ACTION, date.today(), None, default_catalog())
    print(f"  CPU s: index read out of the store {cpu() - c0:.2f} ({index.num_rows:,} rows)")
    con = duckdb.connect()
    con.register("xy_index", index)
    c0 = cpu()
    decided = Decided(index, duckdb.connect(config={"threads": 1}))
    print(f"  CPU s: the index's distinct codes, for look-ups {cpu() - c0:.2f}")
    files = duckdb.connect()
    source = f"SELECT code AS raw FROM read_parquet('{path}')"
    target = tmp / "p.csv"
    c0 = cpu()
    codes = list(files.sql(source).to_arrow_reader(BATCH_ROWS))
    schema = codes[0].schema
    batches = [b.column(0) for b in codes]
    print(f"  CPU s: read the codes (Arrow batches) {cpu() - c0:.2f}")
    c0 = cpu()
    for batch in batches:
        verdicts(batch)
    print(f"  CPU s: the code checks (numpy) {cpu() - c0:.2f}")
    c0 = cpu()
    rows = pa.Table.from_batches([decided.decide(batch) for batch in batches])
    combined = decided.combine_seconds
    print(f"  CPU s: the code checks and the decisions (Arrow lookups) {cpu() - c0 - combined:.2f}")
    print(
        f"  CPU s: the matched codes combined (COMBINE_SQL) {combined:.2f} "
        f"({int((decided.outcome_of[: decided.size] >= 0).sum()):,} of {decided.size:,} codes)"
    )
    c0 = cpu()
    con.sql(COMBINE_SQL).to_arrow_table()
    print(f"  CPU s: for comparison, every code of the index combined {cpu() - c0:.2f}")
    c0 = cpu()
    # Each write to a new file: the kernel's page cache costs a new file more than a rewrite.
    again = Decided(index, duckdb.connect(config={"threads": 1}))
    again.write_csv(pa.RecordBatchReader.from_batches(schema, codes), tmp / "w.csv")
    print(f"  CPU s: decided again and written as CSV, in input order, formula cells "
          f"neutralised (Decided.write_csv) {cpu() - c0:.2f}")  # fmt: skip
    con.register("xy_rows", pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches()))
    c0 = cpu()
    con.execute(
        f"COPY (SELECT {neutralise_sql('code')} AS code, outcome, until, measures FROM xy_rows) "
        f"TO '{tmp / 'd.csv'}' (FORMAT CSV, HEADER)"
    )
    print(f"  CPU s: for comparison, the same by DuckDB's COPY from an Arrow stream "
          f"{cpu() - c0:.2f}")  # fmt: skip
    con.register("xy_regions", pa.table({"code": sorted(regions.valid_codes())}))
    numbered = f"SELECT row_number() OVER () AS n, raw FROM ({source})"
    c0 = cpu()
    con.execute(f"SELECT count(*) FROM ({codes_sql(numbered)}) WHERE reason IS NULL").fetchall()
    print(f"  CPU s: for comparison, the SQL code checks (the batch layer's codes_sql) "
          f"{cpu() - c0:.2f}")  # fmt: skip
    # The floor: the bare join, then with only a shape check per code (one regular expression,
    # no compaction, no region, date or check character), then in input order.
    con.execute("SET preserve_insertion_order = false")
    bare_sql = (
        "SELECT b.code, coalesce(i.effect, 'permit') AS outcome, i.until, i.measure "
        f"FROM read_parquet('{path}') b LEFT JOIN xy_index i ON i.code = b.code"
    )
    shape_sql = (
        "SELECT b.n, b.code, CASE WHEN regexp_full_match(b.code, '[0-9]{17}[0-9X]') "
        "THEN coalesce(i.effect, 'permit') ELSE 'invalid' END AS outcome, i.until, i.measure "
        f"FROM (SELECT row_number() OVER () AS n, code FROM read_parquet('{path}')) b "
        "LEFT JOIN xy_index i ON i.code = b.code"
    )
    for label, sql in (
        ("floor: the bare join to CSV", f"COPY ({bare_sql}) TO '{target}' (FORMAT CSV)"),
        ("floor: + one regexp per code", f"COPY ({shape_sql}) TO '{target}' (FORMAT CSV)"),
        ("floor: + input order", f"COPY (SELECT code, outcome, until, measure FROM "
                                 f"({shape_sql}) ORDER BY n) TO '{target}' (FORMAT CSV)"),
    ):  # fmt: skip
        c0 = cpu()
        con.execute(sql).fetchall()
        print(f"  CPU s: {label} {cpu() - c0:.2f}")
    con.close()
    files.close()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--restrictions", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    rng = random.Random(2024)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp / 'bench.db'}"
        t0 = time.perf_counter()
        codes = build(url, args.subjects, args.restrictions, rng)
        path = tmp / "codes.parquet"
        codes_file(path, codes, args.rows, rng)
        print(f"store: {args.subjects:,} subjects, {args.restrictions:,} restrictions; "
              f"{args.rows:,} codes ({time.perf_counter() - t0:.1f} s to build)")  # fmt: skip
        # The shipped catalog is parsed once per process and both sides read it: parsed here,
        # the first screen does not pay it alone (about 0.3 CPU s of YAML).
        default_catalog()
        mine: list[tuple[float, float]] = []
        base: list[tuple[float, float]] = []
        for i in range(args.repeat):
            seconds, used, outcomes = ours(url, path, tmp / "out.csv")
            mine.append((seconds, used))
            base.append(bare(url, path, tmp / "bare.csv"))
            (w1, c1), (w2, c2) = mine[-1], base[-1]
            print(f"run {i + 1}: screen {w1:.2f} s (CPU {c1:.2f} s) {outcomes}; bare join "
                  f"{w2:.2f} s (CPU {c2:.2f} s); ratio {w1 / w2:.2f}x "
                  f"(CPU {c1 / c2:.2f}x)")  # fmt: skip
        if args.profile:
            profile(url, path, tmp)
        m, b = statistics.median(w for w, _ in mine), statistics.median(w for w, _ in base)
        pairs = list(zip(mine, base, strict=True))
        ratio = statistics.median(x[0] / y[0] for x, y in pairs)
        cpu_ratio = statistics.median(x[1] / y[1] for x, y in pairs)
        print(f"screen {args.rows:,} codes: median {m:.2f} s; bare DuckDB join median {b:.2f} s; "
              f"median of the runs' ratios {ratio:.2f}x, in CPU seconds {cpu_ratio:.2f}x "
              f"(goal <= 1.5)")  # fmt: skip


if __name__ == "__main__":
    main()
