"""Bench: ``xinyong.measures.screen`` of N codes against a bare DuckDB join, same run, repeated.

    python bench/screen.py --rows 2000000 --repeat 3 [--profile]

A synthetic SQLite store (``bench/decisions.py``'s ``build``: ``--subjects`` individuals,
``--restrictions`` index rows for ``buy_flight_ticket``) and a Parquet file of ``--rows`` codes
(0.1% with a changed last character). Each repeat runs, in turn:

- ours: ``screen(engine, codes.parquet, action, out.csv)`` — reads the index out of the store,
  checks every code, combines, writes CSV in input order, counts the outcomes;
- bare: the same index read out of the store, then a DuckDB ``LEFT JOIN`` of the raw codes
  against it written to CSV (no code checks, no order, no formula neutralising).

Prints each pair, the medians and their ratio (goal <= 1.5). ``--profile`` also times the phases
of ours (the index read, the code checks alone, the ordered write).
"""

from __future__ import annotations

import argparse
import random
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
from xinyong.measures.screen import codes_sql, restriction_table, screen
from xinyong.store.engine import connect


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


def ours(url: str, path: Path, out: Path) -> tuple[float, dict[str, int]]:
    engine = connect(url)
    t0 = time.perf_counter()
    result = screen(engine, path, ACTION, out, catalog=default_catalog())
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return elapsed, result.outcomes


def bare(url: str, path: Path, out: Path) -> float:
    engine = connect(url)
    t0 = time.perf_counter()
    index = restriction_table(engine, ACTION, date.today(), None)
    con = duckdb.connect()
    con.register("idx", index)
    con.execute(
        f"COPY (SELECT b.code, coalesce(i.effect, 'permit') AS outcome, i.until, i.measure "
        f"FROM read_parquet('{path}') b LEFT JOIN idx i ON i.code = b.code) "
        f"TO '{out}' (FORMAT CSV, HEADER)"
    )
    con.close()
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return elapsed


def profile(url: str, path: Path, tmp: Path) -> None:
    engine = connect(url)
    t0 = time.perf_counter()
    index = restriction_table(engine, ACTION, date.today(), None)
    print(f"  index read out of the store: {time.perf_counter() - t0:.2f} s ({index.num_rows:,})")
    con = duckdb.connect()
    con.register("xy_regions", pa.table({"code": sorted(regions.valid_codes())}))
    source = f"SELECT row_number() OVER () AS n, code AS raw FROM read_parquet('{path}')"
    target = tmp / "p.csv"
    for label, sql in (
        ("read + count", f"SELECT count(*) FROM ({source})"),
        ("code checks (count)", f"SELECT count(reason) FROM ({codes_sql(source)})"),
        ("read + write CSV unordered", f"COPY ({source}) TO '{target}' (FORMAT CSV)"),
        ("read + write CSV ordered", f"COPY ({source} ORDER BY n) TO '{target}' (FORMAT CSV)"),
    ):
        t0 = time.perf_counter()
        con.execute(sql).fetchall()
        print(f"  {label}: {time.perf_counter() - t0:.2f} s")
    con.close()
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
        mine: list[float] = []
        base: list[float] = []
        for i in range(args.repeat):
            seconds, outcomes = ours(url, path, tmp / "out.csv")
            mine.append(seconds)
            base.append(bare(url, path, tmp / "bare.csv"))
            print(f"run {i + 1}: screen {mine[-1]:.2f} s {outcomes}; bare join {base[-1]:.2f} s; "
                  f"ratio {mine[-1] / base[-1]:.2f}x")  # fmt: skip
        if args.profile:
            profile(url, path, tmp)
        m, b = statistics.median(mine), statistics.median(base)
        print(f"screen {args.rows:,} codes: median {m:.2f} s; bare DuckDB join median {b:.2f} s; "
              f"ratio {m / b:.2f}x (goal <= 1.5)")  # fmt: skip


if __name__ == "__main__":
    main()
