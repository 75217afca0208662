"""Bench: PostgreSQL's CPU per logged check, one API process against two appending to one chain.

    python bench/appenders.py --db postgresql+psycopg://postgres@127.0.0.1:5432/SCRATCH

Builds ``bench/decisions.py``'s store (``--subjects``, ``--restrictions``) in an empty scratch
database, then runs ``--checks`` checks (``Checker.check``: decided, logged and audited through
the decision writer's groups) from 16 threads in one process, then from two processes of 8
threads each, alternating, ``--repeat`` times. Prints for each: checks per second (each
process's start-up included), the CPU seconds of this machine's PostgreSQL processes per check,
and how many of the writers' groups went the ordinary way (``append_prepared``: seven
statements) instead of ``append_after``'s one statement. The baseline is the one process in the
same run; the ratio printed is two processes' PostgreSQL CPU per check to one's.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from decisions import ACTION, build, postgres_cpu_seconds

THREADS = 16


def run(url: str, codes_file: str, count: int, threads: int) -> None:
    """One process's checks (a child of ``measure``): prints its groups and ordinary ones."""
    from xinyong.catalog import default_catalog
    from xinyong.measures import writer as writer_module
    from xinyong.measures.checker import Checker
    from xinyong.store.engine import connect

    codes = json.loads(Path(codes_file).read_text())
    rng = random.Random()
    sample = [rng.choice(codes) for _ in range(count)]
    checker = Checker(connect(url), default_catalog())
    audit = {"actor": "api:bench", "role": "agency", "purpose": "check"}
    audit["action"] = "check:" + ACTION
    ordinary = []
    appended = writer_module.append_prepared

    def counted(*args: Any, **kwargs: Any) -> Any:
        ordinary.append(1)
        return appended(*args, **kwargs)

    writer_module.append_prepared = counted  # type: ignore[assignment]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda c: checker.check(c, ACTION, actor="api:bench",
                                              audit={**audit, "subject": c}), sample))  # fmt: skip
    checker.writer.close()
    print(json.dumps({"groups": checker.writer.groups, "ordinary": len(ordinary)}))


def measure(url: str, codes_file: str, count: int, processes: int) -> tuple[float, float, float]:
    """(checks/s, PostgreSQL CPU µs per check, share of groups the ordinary way)."""
    cpu0, t0 = postgres_cpu_seconds(), time.perf_counter()
    command = [sys.executable, __file__, "--child", url, codes_file, str(count // processes)]
    children = [
        subprocess.Popen([*command, str(THREADS // processes)], stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    outs = [json.loads(child.communicate()[0]) for child in children]
    elapsed = time.perf_counter() - t0
    cpu = postgres_cpu_seconds() - cpu0
    groups, ordinary = sum(o["groups"] for o in outs), sum(o["ordinary"] for o in outs)
    return count / elapsed, cpu * 1e6 / count, ordinary / max(groups, 1)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        url, codes_file, count, threads = sys.argv[2:6]
        run(url, codes_file, int(count), int(threads))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", required=True, help="an empty scratch PostgreSQL database URL")
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--restrictions", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    codes = build(args.db, args.subjects, args.restrictions, random.Random(2024))
    with tempfile.TemporaryDirectory() as tmp:
        codes_file = str(Path(tmp) / "codes.json")
        Path(codes_file).write_text(json.dumps(codes))
        found: dict[int, list[float]] = {1: [], 2: []}
        for i in range(args.repeat):
            for processes in (1, 2):
                rate, cpu, share = measure(args.db, codes_file, args.checks, processes)
                found[processes].append(cpu)
                print(f"run {i + 1}, {processes} process(es) of {THREADS // processes} threads: "
                      f"{rate:,.0f} checks/s, PostgreSQL {cpu:,.0f} µs/check, "
                      f"{share:.0%} of groups the ordinary way")  # fmt: skip
    one, two = statistics.median(found[1]), statistics.median(found[2])
    print(
        f"PostgreSQL CPU per check: two processes {two:,.0f} µs against one {one:,.0f} µs "
        f"(median of {args.repeat}): {two / one:.2f}x"
    )


if __name__ == "__main__":
    main()
