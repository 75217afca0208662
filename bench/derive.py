"""Re-deriving list entries and the restriction index: the batch layer on DuckDB vs Python.

Generates a lab population (``xinyong.lab.generate``) with about ``--records`` records, ingests
every record type into a fresh SQLite store through the real pipeline, then times, on that
store, in the same run:

- batch (DuckDB): ``jobs.store_derive_inputs`` (the store's rows out through Arrow) and
  ``jobs.derive_to_parquet`` (entries and index rows derived in one SQL text each, written as
  Parquet);
- baseline (Python): ``lists.derive.rebuild`` + ``measures.index.rebuild_index`` over every
  subject, (a) on the store as loaded (nothing to change: read, derive, compare) and (b) after
  emptying ``list_entries`` and ``restrictions`` (derive and write everything), in a
  transaction rolled back afterwards;

and prints records per second for each and the ratios. The batch result is checked against the
store's own tables before any figure is printed.

Usage: python bench/derive.py --records 100000 [--spark]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from datetime import date
from pathlib import Path

from xinyong.batch import DuckDBEngine, jobs, spark_engine
from xinyong.catalog import default_catalog
from xinyong.ingest import ingest_file
from xinyong.lab import generate
from xinyong.lists import rebuild
from xinyong.lists.tables import list_entries
from xinyong.measures import rebuild_index
from xinyong.measures.tables import restrictions
from xinyong.store.engine import connect
from xinyong.store.schema import upgrade

#: Records the lab generator makes per subject (measured: 20,000 subjects → ~11,600 records).
RECORDS_PER_SUBJECT = 0.58
AT = date(2025, 6, 1)


def build(folder: Path, records: int) -> tuple[str, int]:
    catalog = default_catalog()
    subjects = max(1000, int(records / RECORDS_PER_SUBJECT))
    lab = folder / "lab"
    generate(lab, subjects=subjects, seed=5, formats=["csv"], start=date(2019, 1, 1),
             end=date(2026, 12, 31), catalog=catalog)  # fmt: skip
    url = f"sqlite:///{folder / 'store.db'}"
    engine = connect(url)
    upgrade(engine)
    loaded = 0
    for record_type in sorted(catalog.record_types, key=lambda t: (t != "enterprise_officer", t)):
        path = lab / "records" / f"{record_type}.csv"
        with path.open(encoding="utf-8") as handle:
            if sum(1 for _ in csv.reader(handle)) < 2:
                continue
        source = catalog.record_types[record_type].authority
        loaded += ingest_file(engine, path, record_type, source, catalog=catalog, at=AT).accepted
    engine.dispose()
    return url, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--spark", action="store_true", help="also time Spark local[2]")
    args = parser.parse_args()
    catalog = default_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        url, loaded = build(folder, args.records)
        print(f"store: {loaded:,} records ingested ({time.perf_counter() - t0:.0f} s)", flush=True)
        engine = connect(url)
        with engine.connect() as conn:
            stored = jobs.store_entries(conn), jobs.store_restrictions(conn)

        def batch(runner_name: str) -> float:
            runner = DuckDBEngine() if runner_name == "duckdb" else spark_engine("local[2]")
            began = time.perf_counter()
            with engine.connect() as conn:
                inputs = jobs.store_derive_inputs(conn, catalog)
            out = folder / f"out-{runner_name}"
            jobs.derive_to_parquet(runner, catalog, *inputs, out)
            seconds = time.perf_counter() - began
            runner.close()
            import pyarrow.parquet as pq

            for path, theirs in zip(
                (out / jobs.ENTRIES_FILE, out / jobs.RESTRICTIONS_FILE), stored, strict=True
            ):
                assert jobs.differences(pq.read_table(path), theirs) == (0, 0), path
            return seconds

        duck = batch("duckdb")
        with engine.connect() as conn:
            began = time.perf_counter()
            assert rebuild(conn, catalog, at=AT) == [] and rebuild_index(conn, catalog) == []
            unchanged = time.perf_counter() - began
            conn.rollback()
        with engine.connect() as conn:
            conn.execute(restrictions.delete())
            conn.execute(list_entries.delete())
            began = time.perf_counter()
            rebuild(conn, catalog, at=AT)
            rebuild_index(conn, catalog)
            fresh = time.perf_counter() - began
            conn.rollback()
        engine.dispose()
        entries, index = stored[0].num_rows, stored[1].num_rows
        print(f"derived: {entries:,} list entries, {index:,} index rows")
        print(f"batch on DuckDB (store → Arrow → SQL → Parquet): {duck:.2f} s, "
              f"{loaded / duck:,.0f} records/s")  # fmt: skip
        print(f"Python rebuild, nothing to change:   {unchanged:.2f} s, "
              f"{loaded / unchanged:,.0f} records/s, ratio {unchanged / duck:.1f}")  # fmt: skip
        print(f"Python rebuild, from empty tables:   {fresh:.2f} s, "
              f"{loaded / fresh:,.0f} records/s, ratio {fresh / duck:.1f}")  # fmt: skip
        if args.spark:
            spark = batch("spark")
            print(f"batch on Spark local[2]: {spark:.2f} s, {loaded / spark:,.0f} records/s")


if __name__ == "__main__":
    main()
