"""``xinyong code check --kind uscc --file`` (whole process) against a python-stdnum loop.

    python bench/code_check.py [--n 1000000] [--repeat 3]

Writes ``n`` USCCs (bench/codes.py's mix: 80 % valid, 20 % with one typing error) to a file,
then runs, interleaved and ``--repeat`` times each, two processes over the same file: the CLI
(output to /dev/null: one line per code, as a user gets it) and a Python loop calling
``stdnum.cn.uscc.is_valid`` on each line (the baseline; it prints only a count). Prints the
median wall time and the median CPU time (user + system) of each, and the ratios. On a shared
machine CPU time is the steadier figure; the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codes import make_usccs

STDNUM_LOOP = """
import sys
from stdnum.cn.uscc import is_valid
n = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        n += is_valid(line.strip())
print(n)
"""


def run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with Path(os.devnull).open("w") as sink:
        subprocess.run(argv, stdout=sink, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "usccs.txt"
        path.write_text("\n".join(make_usccs(random.Random(1), args.n)) + "\n")
        ours_argv = [sys.executable, "-c", "from xinyong.cli import main; main()",
                     "code", "check", "--kind", "uscc", "--file", str(path)]  # fmt: skip
        theirs_argv = [sys.executable, "-c", STDNUM_LOOP, str(path)]
        ours: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        for _ in range(args.repeat):
            ours.append(run(ours_argv))
            theirs.append(run(theirs_argv))
        ow, oc = (statistics.median(x) for x in zip(*ours, strict=True))
        tw, tc = (statistics.median(x) for x in zip(*theirs, strict=True))
        print(f"{args.n:,} USCCs, median of {args.repeat} interleaved runs, "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
        print(f"  xinyong code check --kind uscc --file   wall {ow:6.2f} s  cpu {oc:6.2f} s")
        print(f"  python-stdnum is_valid loop (baseline)  wall {tw:6.2f} s  cpu {tc:6.2f} s")
        print(f"  ratio (baseline / ours): cpu {tc / oc:.1f}×, wall {tw / ow:.1f}×")


if __name__ == "__main__":
    main()
