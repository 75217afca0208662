"""Bench: the lab's population and records against a bare numpy draw of ID-like strings.

    python bench/generate.py --subjects 1000000

Measures, in one run: (1) the population (valid, distinct citizen numbers and USCCs, census
weights, calibrated names), (2) the records of every catalog type for it, in memory (no files),
and (3) the baseline: the same number of random 18-digit strings from numpy, with no validity,
no names and no weights. Prints rows/s for each and the ratio population / baseline.
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import date

import numpy as np

from xinyong.catalog import default_catalog
from xinyong.lab import identifiers
from xinyong.lab.generator import BATCH_SIZE, split
from xinyong.lab.population import organisations, people
from xinyong.lab.records import SubjectPool, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    catalog = default_catalog()
    start, end = date(2019, 1, 1), date(2025, 12, 31)
    population_s = records_s = 0.0
    n_records = 0
    ric_issued, org_issued = identifiers.Issued(), identifiers.Issued()
    batches = math.ceil(args.subjects / BATCH_SIZE)
    next_id = 1
    for i, child in enumerate(np.random.SeedSequence(args.seed).spawn(batches)):
        rng = np.random.default_rng(child)
        n = min(BATCH_SIZE, args.subjects - i * BATCH_SIZE)
        n_people, n_orgs = split(n)
        t0 = time.perf_counter()
        folk = people(rng, n_people, at=end, first_id=next_id, issued=ric_issued)
        orgs = organisations(
            rng, n_orgs, folk, at=end, first_id=next_id + n_people, issued=org_issued
        )
        t1 = time.perf_counter()
        pool = SubjectPool.from_tables(folk, orgs)
        n_records += sum(b.rows.num_rows for b in records(rng, pool, catalog, start=start, end=end))
        t2 = time.perf_counter()
        population_s += t1 - t0
        records_s += t2 - t1
        next_id += n

    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    baseline = [f"{v:018d}" for v in rng.integers(0, 10**18, size=args.subjects).tolist()]
    baseline_s = time.perf_counter() - t0
    assert len(baseline) == args.subjects

    pop_rate = args.subjects / population_s
    base_rate = args.subjects / baseline_s
    print(f"subjects {args.subjects:,}, records {n_records:,} ({len(catalog.record_types)} types)")
    print(f"population: {population_s:8.2f} s  {pop_rate:12,.0f} subjects/s")
    print(f"records:    {records_s:8.2f} s  {n_records / records_s:12,.0f} records/s")
    print(f"baseline:   {baseline_s:8.2f} s  {base_rate:12,.0f} strings/s (numpy, no validity)")
    print(f"ratio population/baseline time: {population_s / baseline_s:.1f}x")


if __name__ == "__main__":
    main()
