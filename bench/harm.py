"""Bench: the lab's harm arithmetic at scale against the platform's own pipeline on a small n.

    python bench/harm.py --subjects 1000000 --pipeline-subjects 20000

Measures, in one run: (1) the in-memory (Arrow + Python) harm run on ``--subjects``: generate,
inject the default errors, link under every policy, derive lists and measures by the
platform's rules, compare with the truth; (2) the baseline: the platform's real pipeline
(``ingest_file`` → link → lists → measures, then ``check`` for every subject concerned) on
SQLite for ``--pipeline-subjects``, code-only. Prints rows/s for both, the ratio, whether both
agree on the small run, and the extrapolated pipeline time for the large n.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from xinyong.catalog import default_catalog
from xinyong.lab.errors import DEFAULT_SPEC, ErrorSpec
from xinyong.lab.harm import POLICIES, compare_pipeline, evaluate, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--pipeline-subjects", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    spec = ErrorSpec.parse(DEFAULT_SPEC)
    at = date(2025, 12, 31)

    began = time.perf_counter()
    run = simulate(catalog=default_catalog(), subjects=args.subjects, seed=args.seed, spec=spec)
    simulated = time.perf_counter() - began
    began = time.perf_counter()
    results, _ = evaluate(run, list(POLICIES), at)
    evaluated = time.perf_counter() - began
    total = simulated + evaluated
    rows = len(run.observed)
    print(
        f"arithmetic: {args.subjects:,} subjects, {rows:,} rows, 3 policies: simulate "
        f"{simulated:.1f} s + evaluate {evaluated:.1f} s = {total:.1f} s, "
        f"{args.subjects / total:,.0f} subjects/s, {rows * len(POLICIES) / evaluated:,.0f} "
        "rows×policies/s"
    )
    for r in results:
        print(
            f"  {r.policy:<20} wrongly_restricted {r.wrongly_restricted:>7,} "
            f"(individuals {r.wrongly_restricted_individuals:,}) source "
            f"{r.wrongly_restricted_by_source:,} overdue {r.overdue:,} missed {r.missed:,} "
            f"objections {r.objections_needed:,} multiplier {r.multiplier}"
        )

    small = simulate(
        catalog=default_catalog(), subjects=args.pipeline_subjects, seed=args.seed, spec=spec
    )
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as work:
        url = f"sqlite:///{Path(work) / 'bench.db'}"
        began = time.perf_counter()
        pipe = compare_pipeline(small, url, at)
        piped = time.perf_counter() - began
    began = time.perf_counter()
    evaluate(small, ["code_only"], at)
    small_arith = time.perf_counter() - began
    per_subject = piped / args.pipeline_subjects
    print(
        f"pipeline (SQLite, code_only): {args.pipeline_subjects:,} subjects, "
        f"{len(small.observed):,} rows, {pipe['decisions']:,} checks: {piped:.1f} s, "
        f"{args.pipeline_subjects / piped:,.0f} subjects/s; arithmetic on the same: "
        f"{small_arith:.2f} s; ratio pipeline/arithmetic {piped / max(small_arith, 1e-9):,.0f}×"
    )
    print(
        f"  agree: links {pipe['links_agree']}, index {pipe['index_agrees']}, decisions "
        f"{pipe['decisions_agree']}; wrongly_restricted {pipe['wrongly_restricted']}, missed "
        f"{pipe['missed']}"
    )
    print(
        f"  pipeline at {args.subjects:,} subjects, extrapolated linearly: "
        f"{per_subject * args.subjects / 60:,.0f} min (arithmetic: {total:.0f} s)"
    )


if __name__ == "__main__":
    main()
